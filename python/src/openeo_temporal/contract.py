"""The hook contract, version 1: what the batch workflow sends to a hook activity and what it expects back.

Every message is one JSON object. Decoding (``from_json``) is tolerant: unknown keys are ignored,
so a newer workflow can add fields without breaking older hooks; a missing or mistyped field raises
:class:`ContractError` naming it (``JobFactoryRequest.tile.geometry is missing``). Encoding
(``to_json``) writes only the contract's own keys, in the wire's camelCase.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar

from . import storage
from .errors import ContractError, InvalidFileName
from .file_names import check_file_name

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

CONTRACT_VERSION: Final = 1
# A post-processor's result travels in workflow history and the tile's record: it must stay small.
MAX_RESULT_BYTES: Final = 16 * 1024

JSONObject = dict[str, Any]
T = TypeVar("T")


# ---- reading fields -------------------------------------------------------------------------

_MISSING: Any = object()


def _type_name(value: object) -> str:
    return "null" if value is None else type(value).__name__


def _object(value: object, where: str) -> JSONObject:
    if not isinstance(value, Mapping):
        raise ContractError(f"{where} must be a JSON object, not {_type_name(value)}")
    return dict(value)


def _get(obj: Mapping[str, Any], key: str, kind: type[T], where: str, default: Any = _MISSING) -> T:
    """``obj[key]`` checked to be a ``kind``; ``default`` when absent (or null) if one is given."""
    value = obj.get(key)
    if value is None:
        if default is _MISSING:
            raise ContractError(f"{where}.{key} is missing")
        return default  # type: ignore[no-any-return]
    # bool is an int in Python, never in JSON.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ContractError(f"{where}.{key} must be {kind.__name__}, not {_type_name(value)}")
    return value


def _required(obj: Mapping[str, Any], key: str, where: str) -> object:
    if obj.get(key) is None:
        raise ContractError(f"{where}.{key} is missing")
    return obj[key]


def _str_list(obj: Mapping[str, Any], key: str, where: str) -> list[str]:
    values = _get(obj, key, list, where)
    for i, value in enumerate(values):
        if not isinstance(value, str):
            raise ContractError(f"{where}.{key}[{i}] must be str, not {_type_name(value)}")
    return values


def _get_object(obj: Mapping[str, Any], key: str, where: str, default: Any = _MISSING) -> Any:
    value = obj.get(key)
    if value is None and default is not _MISSING:
        return default
    if value is None:
        raise ContractError(f"{where}.{key} is missing")
    return _object(value, f"{where}.{key}")


def _drop_none(obj: JSONObject) -> JSONObject:
    return {k: v for k, v in obj.items() if v is not None}


# ---- requests -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A batch period of a tile: ``[start, end)`` as ISO dates, end exclusive."""

    id: str
    start: str
    end: str


@dataclass(frozen=True)
class Tile:
    """One tile: its id, its outline (GeoJSON geometry in EPSG:4326) and its properties."""

    id: str
    geometry: JSONObject
    properties: JSONObject = field(default_factory=dict)

    @cached_property
    def shape(self) -> BaseGeometry:
        """The outline as a shapely geometry."""
        from shapely.geometry import shape

        return shape(self.geometry)

    @property
    def period(self) -> Period | None:
        """The tile's period in a batch with ``periods``, else None."""
        value = self.properties.get("period")
        if not isinstance(value, Mapping):
            # Before batches had periods, a tile could carry a plain "period" property of its own.
            return None
        period_id, start, end = value.get("id"), value.get("start"), value.get("end")
        if isinstance(period_id, str) and isinstance(start, str) and isinstance(end, str):
            return Period(period_id, start, end)
        return None

    @classmethod
    def from_json(cls, value: object, where: str = "Tile") -> Tile:
        obj = _object(value, where)
        return cls(
            id=_get(obj, "id", str, where),
            geometry=_get_object(obj, "geometry", where),
            properties=_get_object(obj, "properties", where, default={}),
        )

    def to_json(self) -> JSONObject:
        return {"id": self.id, "geometry": self.geometry, "properties": self.properties}


@dataclass(frozen=True)
class Backend:
    """The openEO backend a tile's job runs on: its name in the spec and its API URL."""

    name: str
    url: str

    @classmethod
    def from_json(cls, value: object, where: str = "Backend") -> Backend:
        obj = _object(value, where)
        return cls(name=_get(obj, "name", str, where), url=_get(obj, "url", str, where))

    def to_json(self) -> JSONObject:
        return {"name": self.name, "url": self.url}


def _contract_version(obj: Mapping[str, Any], where: str) -> int:
    return _get(obj, "contractVersion", int, where)


@dataclass(frozen=True)
class JobFactoryRequest:
    """What a job factory is asked: which job (if any) this tile should get."""

    batch_id: str
    tile: Tile
    backend: Backend
    attempt: int
    parameter_defaults: JSONObject = field(default_factory=dict)
    spec_process_graph: JSONObject | None = None
    contract_version: int = CONTRACT_VERSION

    @classmethod
    def from_json(cls, value: object) -> JobFactoryRequest:
        where = "JobFactoryRequest"
        obj = _object(value, where)
        return cls(
            contract_version=_contract_version(obj, where),
            batch_id=_get(obj, "batchId", str, where),
            tile=Tile.from_json(_required(obj, "tile", where), f"{where}.tile"),
            backend=Backend.from_json(_required(obj, "backend", where), f"{where}.backend"),
            attempt=_get(obj, "attempt", int, where),
            parameter_defaults=_get_object(obj, "parameterDefaults", where, default={}),
            spec_process_graph=_get_object(obj, "specProcessGraph", where, default=None),
        )

    def to_json(self) -> JSONObject:
        return _drop_none(
            {
                "contractVersion": self.contract_version,
                "batchId": self.batch_id,
                "tile": self.tile.to_json(),
                "backend": self.backend.to_json(),
                "attempt": self.attempt,
                "parameterDefaults": self.parameter_defaults,
                "specProcessGraph": self.spec_process_graph,
            }
        )


@dataclass(frozen=True)
class TileFile:
    """A file of the tile's folder: its name there and where it is (an absolute path or ``s3://bucket/key``)."""

    name: str
    location: str

    @property
    def in_object_storage(self) -> bool:
        return self.location.startswith("s3://")

    def read_bytes(self) -> bytes:
        """The whole file (from object storage when the results are there)."""
        return storage.read_bytes(self.location)

    @contextmanager
    def local_path(self) -> Iterator[Path]:
        """A path on this machine for tools that open files by name (rasterio, rioxarray).

        A file in object storage is downloaded into a temporary folder, kept under its own name
        (so its extension still tells its format), and removed when the ``with`` block ends.
        """
        with storage.local_copy(self.name, self.location) as path:
            yield path

    @classmethod
    def from_json(cls, value: object, where: str = "TileFile") -> TileFile:
        obj = _object(value, where)
        return cls(name=_get(obj, "name", str, where), location=_get(obj, "location", str, where))

    def to_json(self) -> JSONObject:
        return {"name": self.name, "location": self.location}


@dataclass(frozen=True)
class PostprocessRequest:
    """What a post-processor is given: a finished tile, its record and its downloaded files."""

    batch_id: str
    tile: Tile
    record: JSONObject
    tile_dir: str
    files: list[TileFile]
    contract_version: int = CONTRACT_VERSION

    @classmethod
    def from_json(cls, value: object) -> PostprocessRequest:
        where = "PostprocessRequest"
        obj = _object(value, where)
        files = _get(obj, "files", list, where)
        return cls(
            contract_version=_contract_version(obj, where),
            batch_id=_get(obj, "batchId", str, where),
            tile=Tile.from_json(_required(obj, "tile", where), f"{where}.tile"),
            record=_get_object(obj, "record", where),
            tile_dir=_get(obj, "tileDir", str, where),
            files=[TileFile.from_json(f, f"{where}.files[{i}]") for i, f in enumerate(files)],
        )

    def to_json(self) -> JSONObject:
        return {
            "contractVersion": self.contract_version,
            "batchId": self.batch_id,
            "tile": self.tile.to_json(),
            "record": self.record,
            "tileDir": self.tile_dir,
            "files": [f.to_json() for f in self.files],
        }


# ---- answers --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcessRef:
    """A predefined process or a user-defined one (``namespace``: a UDP's URL, or e.g. "user")."""

    process_id: str
    namespace: str | None = None

    def to_json(self) -> JSONObject:
        return _drop_none({"processId": self.process_id, "namespace": self.namespace})


def check_process_graph(graph: object, where: str = "processGraph") -> JSONObject:
    """A flat openEO process graph: nodes with a ``process_id``, exactly one of them the result."""
    nodes = _object(graph, where)
    if not nodes:
        raise ContractError(f"{where} is empty")
    for node_id, node in nodes.items():
        node = _object(node, f"{where}.{node_id}")
        _get(node, "process_id", str, f"{where}.{node_id}")
        _get_object(node, "arguments", f"{where}.{node_id}", default={})
    results = [node_id for node_id, node in nodes.items() if node.get("result") is True]
    if len(results) != 1:
        raise ContractError(f"{where} must have exactly one node with \"result\": true, has {len(results)}")
    return nodes


@dataclass(frozen=True)
class JobPlan:
    """The tile's openEO job: a whole ``process_graph``, or a ``process`` called with ``arguments``."""

    process_graph: JSONObject | None = None
    process: ProcessRef | None = None
    arguments: JSONObject | None = None
    title: str | None = None
    description: str | None = None
    job_options: JSONObject | None = None

    def __post_init__(self) -> None:
        # Checked here so a wrong plan fails where the hook builds it, with the field named.
        if (self.process_graph is None) == (self.process is None):
            raise ContractError("JobPlan: give exactly one of process_graph and process")
        if self.process_graph is not None:
            check_process_graph(self.process_graph, "JobPlan.processGraph")
        if self.arguments is not None and self.process is None:
            raise ContractError("JobPlan: arguments go with process, not with process_graph")
        for key, value, kind in (
            ("title", self.title, str),
            ("description", self.description, str),
            ("jobOptions", self.job_options, dict),
            ("arguments", self.arguments, dict),
        ):
            if value is not None and not isinstance(value, kind):
                raise ContractError(f"JobPlan.{key} must be {kind.__name__}, not {_type_name(value)}")

    @classmethod
    def from_json(cls, value: object) -> JobPlan:
        where = "JobPlan"
        obj = _object(value, where)
        process = _get_object(obj, "process", where, default=None)
        return cls(
            process_graph=_get_object(obj, "processGraph", where, default=None),
            process=None
            if process is None
            else ProcessRef(
                process_id=_get(process, "processId", str, f"{where}.process"),
                namespace=_get(process, "namespace", str, f"{where}.process", default=None),
            ),
            arguments=_get_object(obj, "arguments", where, default=None),
            title=_get(obj, "title", str, where, default=None),
            description=_get(obj, "description", str, where, default=None),
            job_options=_get_object(obj, "jobOptions", where, default=None),
        )

    def to_json(self) -> JSONObject:
        return _drop_none(
            {
                "processGraph": self.process_graph,
                "process": self.process.to_json() if self.process else None,
                "arguments": self.arguments,
                "title": self.title,
                "description": self.description,
                "jobOptions": self.job_options,
            }
        )


@dataclass(frozen=True)
class Skip:
    """The tile needs no job: it ends ``skipped``, with the reason kept as its ``skipReason``."""

    reason: str

    def __post_init__(self) -> None:
        if not isinstance(self.reason, str) or not self.reason.strip():
            raise ContractError("Skip: the reason must be a non-empty string")

    @classmethod
    def from_json(cls, value: object) -> Skip:
        return cls(reason=_get(_object(value, "Skip"), "skip", str, "Skip"))

    def to_json(self) -> JSONObject:
        return {"skip": self.reason}


JobFactoryAnswer = JobPlan | Skip


def job_factory_answer_from_json(value: object) -> JobFactoryAnswer:
    """A job factory's answer: ``{"skip": reason}`` or a job plan."""
    obj = _object(value, "JobFactoryAnswer")
    return Skip.from_json(obj) if "skip" in obj else JobPlan.from_json(obj)


def result_json(result: object) -> Any:
    """The post-processor's result as plain JSON (numpy numbers and arrays become numbers and lists).

    Raises ContractError when it is not JSON or is larger than the record keeps.
    """

    def plain(value: object) -> Any:
        # numpy scalars and arrays (statistics are often computed with numpy) know their Python form.
        to_list = getattr(value, "tolist", None)
        if callable(to_list):
            return to_list()
        raise TypeError(f"{type(value).__name__} is not JSON")

    try:
        # The workflow measures the result compactly serialized, as JSON.stringify writes it.
        text = json.dumps(result, default=plain, allow_nan=False, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError) as err:
        raise ContractError(f"the result is not JSON: {err}") from err
    size = len(text.encode("utf-8"))
    if size > MAX_RESULT_BYTES:
        raise ContractError(
            f"the result is {size} bytes as JSON; a tile's record keeps at most {MAX_RESULT_BYTES}: "
            "write larger outputs as files (ctx.write_file) and return a summary"
        )
    return json.loads(text)


@dataclass(frozen=True)
class PostprocessAnswer:
    """What a post-processor did: the files it wrote into the tile's folder, and a small JSON result."""

    written: list[str] = field(default_factory=list)
    result: Any = None

    def __post_init__(self) -> None:
        for name in self.written:
            check_file_name(name)
        if self.result is not None:
            result_json(self.result)

    @classmethod
    def from_json(cls, value: object) -> PostprocessAnswer:
        where = "PostprocessAnswer"
        obj = _object(value, where)
        return cls(written=_str_list(obj, "written", where), result=obj.get("result"))

    def to_json(self) -> JSONObject:
        answer: JSONObject = {"written": list(self.written)}
        if self.result is not None:
            answer["result"] = result_json(self.result)
        return answer


@dataclass(frozen=True)
class DescribeHooksAnswer:
    """The probe's answer: the hooks this worker runs, by kind."""

    job_factories: list[str]
    postprocessors: list[str]
    worker: str | None = None
    contract_version: int = CONTRACT_VERSION

    @classmethod
    def from_json(cls, value: object) -> DescribeHooksAnswer:
        where = "DescribeHooksAnswer"
        obj = _object(value, where)
        return cls(
            contract_version=_contract_version(obj, where),
            job_factories=_str_list(obj, "jobFactories", where),
            postprocessors=_str_list(obj, "postprocessors", where),
            worker=_get(obj, "worker", str, where, default=None),
        )

    def to_json(self) -> JSONObject:
        return _drop_none(
            {
                "contractVersion": self.contract_version,
                "jobFactories": list(self.job_factories),
                "postprocessors": list(self.postprocessors),
                "worker": self.worker,
            }
        )
