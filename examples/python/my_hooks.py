"""Hooks in Python: a job factory choosing Sentinel-1 or Sentinel-2 per tile, and a statistics post-processor.

Run them on their own task queue, beside the openeo-temporal worker:

    pip install 'openeo-temporal[openeo,s3]' rasterio
    python -m openeo_temporal worker --hooks examples/python/my_hooks.py --task-queue openeo-python

and name them in the batch spec:

    "jobFactory": {"activity": "s1s2", "taskQueue": "openeo-python"},
    "postprocess": {"activity": "stats", "taskQueue": "openeo-python"}

The tiles say which sensor they want in their property ``sensor``: "S1", "S2" or "none".
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy
import rasterio

from openeo_temporal import (
    JobContext,
    JobPlan,
    PostprocessContext,
    Skip,
    Tile,
    job,
    job_factory,
    load_collection,
    postprocessor,
)


def time_range(tile: Tile, ctx: JobContext) -> list[str]:
    """``[start, end)`` of the tile: its period in a batch with periods, else the spec's temporal_extent."""
    if tile.period:
        return [tile.period.start, tile.period.end]
    extent = ctx.parameter_defaults.get("temporal_extent")
    if isinstance(extent, list) and len(extent) == 2:
        return [str(extent[0]), str(extent[1])]
    raise ValueError('no time range: give the batch "periods" or parameterDefaults.temporal_extent')


@job_factory("s1s2")
def s1s2(tile: Tile, ctx: JobContext) -> JobPlan | Skip:
    sensor = tile.properties.get("sensor")
    if sensor == "none":
        return ctx.skip(f'tile {tile.id} has sensor "none": nothing to extract')
    when = time_range(tile, ctx)
    if sensor == "S1":
        cube = load_collection(tile, "SENTINEL1_GRD", bands=["VV", "VH"], temporal_extent=when)
        return job(
            cube.sar_backscatter(coefficient="sigma0-ellipsoid"),
            title=f"S1 backscatter {tile.id}",
            description=f"Sentinel-1 sigma0 backscatter (VV, VH) over tile {tile.id}, {when[0]} to {when[1]}",
            # SAR processing wants more memory than the batch's default.
            job_options={"executor-memory": "4g"},
        )
    if sensor == "S2":
        cube = load_collection(tile, "SENTINEL2_L2A", bands=["B04", "B03", "B02"], temporal_extent=when)
        return job(
            cube,  # save_result (GTiff) is added for us
            title=f"S2 extraction {tile.id}",
            description=f"Sentinel-2 L2A red, green, blue over tile {tile.id}, {when[0]} to {when[1]}",
        )
    # An exception fails this tile only (code JobFactoryFailed), after two more tries.
    raise ValueError(f'tile property "sensor" is {sensor!r}: use "S1", "S2" or "none"')


@dataclass
class Accumulator:
    """Running min, max, sum and count of one band's valid pixels."""

    min: float = math.inf
    max: float = -math.inf
    sum: float = 0.0
    count: int = 0

    def add(self, values: numpy.ndarray[Any, Any]) -> None:
        values = values[~numpy.isnan(values)]
        if values.size:
            self.min = min(self.min, float(values.min()))
            self.max = max(self.max, float(values.max()))
            self.sum += float(values.sum(dtype="float64"))  # float32 sums lose precision on large tiles
            self.count += int(values.size)

    def result(self, band: int) -> dict[str, Any]:
        some = self.count > 0
        return {
            "band": band,
            "min": self.min if some else None,
            "max": self.max if some else None,
            "mean": self.sum / self.count if some else None,
            "validPixels": self.count,
        }


def band_statistics(path: Path, heartbeat: Callable[[], None]) -> list[dict[str, Any]]:
    """Per-band statistics of a raster, nodata and NaN left out; read a block at a time, not whole."""
    with rasterio.open(path) as raster:
        totals = [Accumulator() for _ in raster.indexes]
        for _, window in raster.block_windows(1):
            for total, band in zip(totals, raster.read(window=window, masked=True)):
                total.add(band.compressed())  # compressed(): the pixels that are not nodata
            heartbeat()
    return [total.result(i + 1) for i, total in enumerate(totals)]


@postprocessor("stats")
def tile_statistics(tile: Tile, ctx: PostprocessContext) -> dict[str, Any]:
    stats: dict[str, Any] = {}
    for file in ctx.files:
        if file.name.lower().endswith((".tif", ".tiff")):
            # A local path even when the results are in s3:// (downloaded, then removed).
            with file.local_path() as path:
                stats[file.name] = band_statistics(path, lambda: ctx.heartbeat({"file": file.name}))
    ctx.write_file("stats.json", json.dumps(stats, indent=2) + "\n")
    # Kept in the tile's record as postprocessResult (at most 16 KiB; the full table is in stats.json).
    return stats
