"""Validates STAC documents offline for openeo-temporal's tests.

Reads a JSON list of documents on stdin and prints a JSON list of results, one per document:
{"id", "type", "errors": [..], "extensions": [..validated extension schema URIs..]}.

What checks what:
- the core (Item or Collection, STAC 1.1.0, with GeoJSON) is validated by pystac's
  JsonSchemaSTACValidator against the JSON schemas pystac ships (no network);
- every extension a document lists is validated by the same validator, against the schema
  given for its URI in test/harness/stac-schemas/ (no registry package ships the projection and
  file extension schemas; those files are written from the extensions' field tables);
- the projection and file fields of every asset are also read back through pystac's own
  extension classes (ProjectionExtension, FileExtension), which must see the same values.
"""

import json
import pathlib
import sys

import pystac
from pystac.extensions.file import FileExtension
from pystac.extensions.projection import ProjectionExtension
from pystac.validation.stac_validator import JsonSchemaSTACValidator

SCHEMAS = pathlib.Path(__file__).resolve().parent / "stac-schemas"


def validator():
    v = JsonSchemaSTACValidator()
    for path in SCHEMAS.glob("*.json"):
        schema = json.loads(path.read_text())
        v.schema_cache[schema["$id"]] = schema
    return v


def read_back(doc):
    """Differences between the asset fields and what pystac's extension classes read."""
    problems = []
    item = pystac.Item.from_dict(doc, preserve_dict=True)
    for key, asset in item.assets.items():
        raw = doc["assets"][key]
        if ProjectionExtension.has_extension(item) and any(k.startswith("proj:") for k in raw):
            proj = ProjectionExtension.ext(asset)
            seen = {"proj:code": proj.code, "proj:shape": proj.shape, "proj:transform": proj.transform, "proj:bbox": proj.bbox}
            for field, value in seen.items():
                if field in raw and list_or_value(raw[field]) != list_or_value(value):
                    problems.append(f"assets.{key}.{field}: pystac reads {value!r}, the document has {raw[field]!r}")
        if FileExtension.has_extension(item):
            file = FileExtension.ext(asset)
            for field, value in {"file:size": file.size, "file:checksum": file.checksum}.items():
                if field in raw and raw[field] != value:
                    problems.append(f"assets.{key}.{field}: pystac reads {value!r}, the document has {raw[field]!r}")
    return problems


def list_or_value(value):
    return list(value) if isinstance(value, (list, tuple)) else value


def check(v, doc):
    result = {"id": doc.get("id"), "type": doc.get("type"), "errors": [], "extensions": []}
    try:
        result["extensions"] = pystac.validation.validate_dict(doc, validator=v)
    except pystac.errors.STACValidationError as err:
        result["errors"].append(f"{err}: {getattr(err, 'source', '')}")
    except Exception as err:  # a schema missing offline, or an unreadable document
        result["errors"].append(f"{type(err).__name__}: {err}")
    if doc.get("type") == "Feature" and not result["errors"]:
        result["errors"].extend(read_back(doc))
    return result


def main():
    docs = json.load(sys.stdin)
    v = validator()
    json.dump([check(v, doc) for doc in docs], sys.stdout)


if __name__ == "__main__":
    main()
