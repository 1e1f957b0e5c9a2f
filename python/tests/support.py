"""Shared pieces of the package's tests: golden contract examples, requests, running an activity without a server."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from temporalio.testing import ActivityEnvironment

GOLDEN = Path(__file__).parent / "golden" / "contract-examples.json"
SQUARE = {"type": "Polygon", "coordinates": [[[4.3, 51.2], [4.35, 51.2], [4.35, 51.25], [4.3, 51.25], [4.3, 51.2]]]}


def golden(name: str) -> list[dict[str, Any]]:
    examples: list[dict[str, Any]] = json.loads(GOLDEN.read_text())[name]
    return copy.deepcopy(examples)


def run_activity(
    activity: Callable[[dict[str, Any]], Coroutine[Any, Any, dict[str, Any]]],
    request: dict[str, Any],
    env: ActivityEnvironment | None = None,
) -> dict[str, Any]:
    """The activity's answer, run the way a worker would run it (an activity context, no server)."""
    environment = env or ActivityEnvironment()
    return asyncio.run(environment.run(activity, request))


def factory_request(properties: dict[str, Any] | None = None, **overrides: Any) -> dict[str, Any]:
    request: dict[str, Any] = {
        "contractVersion": 1,
        "batchId": "b1",
        "tile": {"id": "t1", "geometry": SQUARE, "properties": properties or {}},
        "backend": {"name": "cdse", "url": "https://openeo.example/openeo/1.2"},
        "attempt": 1,
        "parameterDefaults": {"temporal_extent": ["2024-06-01", "2024-07-01"]},
    }
    request.update(overrides)
    return request


def make_tile_dir(tmp_path: Path) -> Path:
    """A tile folder with a result file and job.json, as the workflow leaves it before post-processing."""
    folder = tmp_path / "b1" / "t1"
    folder.mkdir(parents=True)
    (folder / "openEO.tif").write_bytes(b"not really a tiff")
    (folder / "job.json").write_text('{"id": "j-1"}')
    return folder


def postprocess_request(tile_dir: Path | str, names: tuple[str, ...] = ("openEO.tif", "job.json")) -> dict[str, Any]:
    base = str(tile_dir)
    return {
        "contractVersion": 1,
        "batchId": "b1",
        "tile": {"id": "t1", "geometry": SQUARE, "properties": {}},
        "record": {"tileId": "t1", "status": "finished", "files": list(names)},
        "tileDir": base,
        "files": [{"name": n, "location": f"{base}/{n}"} for n in names],
    }
