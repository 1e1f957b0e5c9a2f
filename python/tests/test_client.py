"""The batch client's table of tile records, without a server: one row per record, sorted."""

from __future__ import annotations

import json
from typing import Any

import pytest

pytest.importorskip("geopandas")

from openeo_temporal.client import tiles_frame  # noqa: E402  (needs the client extra)

SQUARE = {"type": "Polygon", "coordinates": [[[4.3, 51.2], [4.35, 51.2], [4.35, 51.25], [4.3, 51.2]]]}


def test_records_become_rows_with_skip_reasons_and_postprocessing_results() -> None:
    records: list[dict[str, Any]] = [
        {"tileId": "b", "status": "skipped", "skipReason": "all water", "geometry": SQUARE},
        {
            "tileId": "a",
            "status": "postprocessed",
            "openeoJobId": "j-1",
            "attempts": 1,
            "files": ["openEO.tif", "stats.json"],
            "postprocessResult": {"ndvi": 0.41},
            "finishedAt": "2026-12-07T10:00:00Z",
            "geometry": SQUARE,
        },
        {"tileId": "c", "status": "error", "error": {"code": "JobFactoryFailed", "message": "boom"}, "geometry": SQUARE},
    ]
    frame = tiles_frame(records)
    assert list(frame["tileId"]) == ["a", "b", "c"]
    assert frame.crs.to_epsg() == 4326
    a, b, c = (frame.iloc[i] for i in range(3))
    assert json.loads(a["postprocessResult"]) == {"ndvi": 0.41}
    assert a["files"] == "openEO.tif;stats.json"
    assert a["finishedAt"].year == 2026
    assert b["skipReason"] == "all water" and b["postprocessResult"] is None
    assert (c["errorCode"], c["errorMessage"]) == ("JobFactoryFailed", "boom")
