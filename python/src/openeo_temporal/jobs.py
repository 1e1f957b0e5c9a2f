"""A tile's openEO job, built with the openeo client or by hand, turned into the contract's answer.

A job factory may return a :class:`~openeo_temporal.contract.JobPlan` or ``Skip``, an openeo
``DataCube`` built without a connection, a flat process graph (a dict of nodes), or a dict in
the contract's own form (``{"processGraph": ...}``, ``{"process": ...}``, ``{"skip": ...}``).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from .contract import (
    JobFactoryAnswer,
    JobPlan,
    JSONObject,
    Skip,
    Tile,
    check_process_graph,
    job_factory_answer_from_json,
)
from .errors import ContractError

if TYPE_CHECKING:
    from openeo.rest.datacube import DataCube

DEFAULT_FORMAT = "GTiff"
_ANSWER_KEYS = {"skip", "processGraph", "process"}


@runtime_checkable
class FlatGraphSource(Protocol):
    """Anything that writes itself as a flat process graph: openeo's DataCube, VectorCube, SaveResult."""

    def flat_graph(self) -> dict[str, Any]: ...


GraphLike = Mapping[str, Any] | FlatGraphSource


def _with_save_result(graph: JSONObject, format: str = DEFAULT_FORMAT) -> JSONObject:
    """The graph, ending in ``save_result`` (a batch job without one has nothing to download)."""
    if any(node.get("process_id") == "save_result" for node in graph.values()):
        return graph
    result_id = next(node_id for node_id, node in graph.items() if node.get("result") is True)
    del graph[result_id]["result"]
    save_id = "saveresult1"
    while save_id in graph:
        save_id += "_"
    graph[save_id] = {
        "process_id": "save_result",
        "arguments": {"data": {"from_node": result_id}, "format": format, "options": {}},
        "result": True,
    }
    return graph


def process_graph(source: GraphLike) -> JSONObject:
    """The flat process graph of a cube or a graph dict, with ``save_result`` (GTiff) added when it has none."""
    graph = source.flat_graph() if isinstance(source, FlatGraphSource) else copy.deepcopy(dict(source))
    check_process_graph(graph)
    return _with_save_result(graph)


def job(
    source: GraphLike,
    *,
    title: str | None = None,
    description: str | None = None,
    job_options: Mapping[str, Any] | None = None,
) -> JobPlan:
    """A job plan from a cube or a graph, with the job's title, description and openEO job options."""
    return JobPlan(
        process_graph=process_graph(source),
        title=title,
        description=description,
        job_options=dict(job_options) if job_options is not None else None,
    )


def to_job_answer(value: object) -> JobFactoryAnswer:
    """What a job factory returned, as the contract's answer; ContractError says what is wrong with it."""
    if isinstance(value, (JobPlan, Skip)):
        return value
    if isinstance(value, FlatGraphSource):
        return job(value)
    if isinstance(value, Mapping):
        if _ANSWER_KEYS & value.keys():
            return job_factory_answer_from_json(value)
        if value and all(isinstance(node, Mapping) and "process_id" in node for node in value.values()):
            return job(value)
        raise ContractError(
            f"a dict with keys {sorted(value)[:5]} is neither a process graph nor "
            '{"processGraph": ...}, {"process": ...} or {"skip": reason}'
        )
    kind = "nothing" if value is None else f"a {type(value).__name__}"
    raise ContractError(
        f"returned {kind}: return a JobPlan (job(...)), an openeo DataCube, a process graph, or ctx.skip(reason)"
    )


class _NoConnectionNoise(logging.Filter):
    """Drops openeo's warning that a cube without a connection cannot look up ``sar_backscatter``.

    Cubes built for a hook have no connection on purpose; openeo then falls back to the standard
    coefficient list, so the warning says nothing useful. Every other warning passes.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not (
            message.startswith("Failed to extract coefficient options")
            and "'NoneType' object has no attribute 'describe_process'" in message
        )


# Installed on the logger's name, before or after openeo is imported: getLogger returns the same object.
logging.getLogger("openeo.rest.datacube").addFilter(_NoConnectionNoise())


def load_collection(
    tile: Tile,
    collection: str,
    bands: Sequence[str] | None = None,
    temporal_extent: Sequence[str] | None = None,
    *,
    bbox: bool = False,
    max_cloud_cover: float | None = None,
) -> DataCube:
    """An openeo DataCube loading ``collection`` over the tile, not bound to any connection.

    The spatial extent is the tile's GeoJSON geometry (its bounding box with ``bbox=True``); the
    temporal extent is ``temporal_extent`` if given, else the tile's period ``[start, end)``, else
    unbounded. Add processes with the cube's methods; ``save_result`` (GTiff) is added when missing.
    """
    try:
        from openeo.rest.datacube import DataCube
    except ImportError as err:
        raise RuntimeError("load_collection needs the openeo client: pip install 'openeo-temporal[openeo]'") from err
    if bbox:
        west, south, east, north = tile.shape.bounds
        spatial_extent: JSONObject = {"west": west, "south": south, "east": east, "north": north}
    else:
        spatial_extent = copy.deepcopy(tile.geometry)
    if temporal_extent is None and tile.period is not None:
        temporal_extent = [tile.period.start, tile.period.end]
    return DataCube.load_collection(
        collection,
        connection=None,
        spatial_extent=spatial_extent,
        temporal_extent=list(temporal_extent) if temporal_extent is not None else None,
        bands=list(bands) if bands is not None else None,
        max_cloud_cover=max_cloud_cover,
    )
