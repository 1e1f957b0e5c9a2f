"""Drive openeo-temporal batches from Python: start one, follow it, read its tiles as a GeoDataFrame.

A batch is the Temporal workflow ``batchWorkflow``: its input is the batch spec (JSON, see
``schema/batch-spec.schema.json``), its id is the batch id, and it answers the query
``batchProgress``. Each tile is a ``tileWorkflow`` whose result is the tile's record, found by the
search attribute ``OpenEOBatchId``. Only Temporal is talked to: a worker (``openeo-temporal worker``)
runs the batch.

    python -m openeo_temporal run examples/antwerp-bap.json --save tiles.geojson
    python -m openeo_temporal tiles antwerp-bap
    python -m openeo_temporal read-export antwerp-bap.parquet

In a notebook: ``gdf = await batch_tiles(await connect(), "antwerp-bap")``. Needs the ``client``
extra (geopandas, pandas, pyarrow).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry import shape
from temporalio.api.enums.v1 import EventType
from temporalio.client import (
    Client,
    WorkflowExecution,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
)
from temporalio.exceptions import ApplicationError, FailureError

from .connection import connect

__all__ = [
    "batch_progress",
    "batch_tiles",
    "connect",
    "failure_reason",
    "follow",
    "latest_tile_executions",
    "progress_line",
    "read_export",
    "start_batch",
    "tile_record",
    "tiles_frame",
]

BATCH_WORKFLOW = "batchWorkflow"
DEFAULT_TASK_QUEUE = "openeo"
STATUSES = ("finished", "error", "canceled", "skipped", "running", "not_started")
# Tile workflows read at once: enough to be quick, few enough to be kind to the server.
PARALLEL_READS = 16


async def start_batch(
    client: Client, spec: dict[str, Any], batch_id: str | None = None, task_queue: str = DEFAULT_TASK_QUEUE
) -> WorkflowHandle[Any, Any]:
    """Starts ``batchWorkflow`` with the spec as its input; the workflow id is the batch id."""
    batch_id = spec.get("batchId") or batch_id
    if not batch_id:
        raise ValueError('batchId: give the spec a "batchId" or pass --batch-id')
    return await client.start_workflow(
        BATCH_WORKFLOW, {**spec, "batchId": batch_id}, id=batch_id, task_queue=task_queue
    )


def with_partition(batch: dict[str, Any], partition: dict[str, Any]) -> dict[str, Any]:
    """A partitioned batch counts its running partition as not started; fold in the partition's live counts."""
    counts = dict(batch["counts"])
    for status, n in partition["counts"].items():
        counts[status] += n
    counts["not_started"] -= partition["totalTiles"]
    return {**batch, "counts": counts, "costs": round(batch["costs"] + partition["costs"], 6)}


async def batch_progress(client: Client, handle: WorkflowHandle[Any, Any]) -> dict[str, Any]:
    """The ``batchProgress`` query: counts per status, total tiles, costs, paused backends, ..."""
    progress: dict[str, Any] = await handle.query("batchProgress")
    current = (progress.get("partitions") or {}).get("current")
    if current:
        progress = with_partition(progress, await client.get_workflow_handle(current).query("batchProgress"))
    return progress


def progress_line(progress: dict[str, Any]) -> str:
    waiting = f" · waiting: {progress['problem']}" if progress.get("problem") else ""
    if progress["totalTiles"] == 0:
        # The worker is still checking the spec, reading the tiles and logging in to the backends.
        return f"preparing{waiting}"
    counts = progress["counts"]
    # Batches with a post-processor also count "postprocessed" tiles (done, like finished ones).
    done = sum(counts.get(s, 0) for s in ("finished", "postprocessed", "error", "canceled", "skipped"))
    shown = STATUSES + (("postprocessed",) if counts.get("postprocessed") else ())
    by_status = " · ".join(f"{s.replace('_', ' ')} {counts[s]}" for s in shown)
    return f"{done}/{progress['totalTiles']} done · {by_status} · costs {progress['costs']:.2f}{waiting}"


async def follow(client: Client, handle: WorkflowHandle[Any, Any], every_seconds: float = 2.0) -> dict[str, Any]:
    """Prints the batch's progress until it ends; returns its summary (the workflow's result)."""
    result = asyncio.ensure_future(handle.result())
    while not result.done():
        try:
            print(f"progress: {progress_line(await batch_progress(client, handle))}", flush=True)
        except Exception as err:  # noqa: BLE001 - a query may race the batch's end; the result says how it ended
            if result.done():
                break
            print(f"progress: not yet ({err})", flush=True)
        await asyncio.wait([result], timeout=every_seconds)
    summary: dict[str, Any] = result.result()
    return summary


def failure_reason(err: WorkflowFailureError) -> str:
    """Why a batch failed as a whole (a bad spec, a refused login): the innermost failure's type and message."""
    cause: BaseException | None = err.cause
    while isinstance(cause, FailureError) and not isinstance(cause, ApplicationError) and cause.cause:
        cause = cause.cause
    if isinstance(cause, ApplicationError):
        return f"{cause.type}: {cause.message}"
    return str(cause or err)


async def latest_tile_executions(client: Client, batch_id: str) -> list[WorkflowExecution]:
    """Every tile workflow of the batch, by search attribute.

    A tile run again by retry-failed counts once, with its latest run.
    """
    escaped = batch_id.replace("'", "\\'")
    latest: dict[str, WorkflowExecution] = {}
    async for wf in client.list_workflows(f"OpenEOBatchId = '{escaped}' AND WorkflowType = 'tileWorkflow'"):
        if wf.id not in latest or latest[wf.id].start_time < wf.start_time:
            latest[wf.id] = wf
    return list(latest.values())


async def tile_record(client: Client, wf: WorkflowExecution) -> dict[str, Any]:
    """A tile's record (the tile workflow's result) with its geometry, from the workflow's history.

    The history's first event holds the tile workflow's input, ``{"tile": {"id", "geometry",
    "properties"}, ...}``; its last, once the tile ended, the record. A tile still running
    answers the ``tileProgress`` query with its record so far.
    """
    handle = client.get_workflow_handle(wf.id, run_id=wf.run_id)
    history = await handle.fetch_history()
    convert = client.data_converter.payload_converter
    started = history.events[0].workflow_execution_started_event_attributes
    tile = convert.from_payloads(started.input.payloads)[0]["tile"]
    last = history.events[-1]
    if last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
        record = convert.from_payloads(last.workflow_execution_completed_event_attributes.result.payloads)[0]
    elif wf.status == WorkflowExecutionStatus.RUNNING:
        record = await handle.query("tileProgress")
    else:
        # Cancelled or terminated before it could return its record.
        status = "canceled" if wf.status == WorkflowExecutionStatus.CANCELED else "error"
        record = {"tileId": tile["id"], "status": status}
    # Records may carry their geometry one day; until then it is the tile's, as the batch handed it over.
    return {**record, "geometry": record.get("geometry") or tile["geometry"]}


def tiles_frame(records: list[dict[str, Any]]) -> gpd.GeoDataFrame:
    """Tile records as a GeoDataFrame in EPSG:4326, one row per tile, sorted by tile id."""
    rows = []
    for r in records:
        error = r.get("error") or {}
        rows.append({
            "tileId": r["tileId"],
            "status": r["status"],
            "backend": r.get("backend"),
            "openeoJobId": r.get("openeoJobId"),
            "backendStatus": r.get("backendStatus"),
            "attempts": r.get("attempts", 0),
            "costs": r.get("costs"),
            "createdAt": r.get("createdAt"),
            "finishedAt": r.get("finishedAt"),
            "errorCode": error.get("code"),
            "errorMessage": error.get("message"),
            "skipReason": r.get("skipReason"),
            # A post-processor's small result, as JSON text: one column whatever its shape.
            "postprocessResult": json.dumps(r["postprocessResult"]) if "postprocessResult" in r else None,
            "outputDir": r.get("outputDir"),
            "files": ";".join(r.get("files") or []),
            "geometry": shape(r["geometry"]),
        })
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    for column in ("createdAt", "finishedAt"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame.sort_values("tileId", ignore_index=True)


async def batch_tiles(client: Client, batch_id: str) -> gpd.GeoDataFrame:
    """Every tile of a batch, with its record and geometry, as a GeoDataFrame."""
    gate = asyncio.Semaphore(PARALLEL_READS)

    async def read(wf: WorkflowExecution) -> dict[str, Any]:
        async with gate:
            return await tile_record(client, wf)

    executions = await latest_tile_executions(client, batch_id)
    return tiles_frame(await asyncio.gather(*(read(wf) for wf in executions)))


def read_export(path: str | Path) -> gpd.GeoDataFrame:
    """An ``openeo-temporal export`` file (GeoJSON, GeoParquet or CSV with WKT geometry) as a GeoDataFrame."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        try:
            return gpd.read_parquet(path)
        except ValueError:
            # Plain Parquet without GeoParquet metadata: geometry as WKB.
            frame = pd.read_parquet(path)
            return gpd.GeoDataFrame(frame, geometry=shapely.from_wkb(frame.pop("geometry")), crs="EPSG:4326")
    if suffix == ".csv":
        frame = pd.read_csv(path)
        geometry = gpd.GeoSeries.from_wkt(frame.pop("geometry")) if "geometry" in frame else None
        return gpd.GeoDataFrame(frame, geometry=geometry, crs="EPSG:4326")
    return gpd.read_file(path)


def print_tiles(frame: gpd.GeoDataFrame) -> None:
    """The tile count, the count per status, and the table."""
    print(f"tile records: {len(frame)}")
    for status, n in sorted(Counter(frame["status"]).items()):
        print(f"  {status}: {n}")
    columns = [c for c in ("tileId", "status", "backend", "openeoJobId", "costs") if c in frame.columns]
    if len(frame):
        print(frame[columns].to_string(index=False))


def save(frame: gpd.GeoDataFrame, path: str) -> None:
    """Writes the tiles as GeoParquet (.parquet) or any file geopandas writes (.geojson, .gpkg, ...)."""
    if path.endswith(".parquet"):
        frame.to_parquet(path)
    else:
        frame.to_file(path)
    print(f"saved {len(frame)} tiles to {path}")


async def run_command(args: argparse.Namespace) -> int:
    """``run``: starts the batch, follows it, lists (and saves) its tiles; 1 when the batch failed."""
    client = await connect()
    spec = json.loads(Path(args.spec).read_text())
    handle = await start_batch(client, spec, args.batch_id, args.task_queue)
    print(f"started batch {handle.id} on task queue {args.task_queue}", flush=True)
    try:
        summary = await follow(client, handle, args.every)
    except WorkflowFailureError as err:
        print(f"batch {handle.id} failed: {failure_reason(err)}", file=sys.stderr)
        return 1
    print(f"batch {handle.id} ended: {progress_line(summary)}")
    frame = await batch_tiles(client, handle.id)
    print_tiles(frame)
    if args.save:
        save(frame, args.save)
    return 0


async def tiles_command(args: argparse.Namespace) -> int:
    """``tiles``: the tiles of a batch that ran (or runs)."""
    frame = await batch_tiles(await connect(), args.batch_id)
    print_tiles(frame)
    if args.save:
        save(frame, args.save)
    return 0


def read_export_command(args: argparse.Namespace) -> int:
    print_tiles(read_export(args.path))
    return 0
