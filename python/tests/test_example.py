"""The repository's example hooks (examples/python/my_hooks.py) through their activities, on a real GeoTIFF."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support import factory_request, postprocess_request, run_activity
from temporalio.exceptions import ApplicationError

from openeo_temporal import Hooks
from openeo_temporal.worker import load_module

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "python" / "my_hooks.py"

pytestmark = pytest.mark.skipif(not EXAMPLE.is_file(), reason="outside the repository")


@pytest.fixture(scope="module")
def example() -> dict[str, Any]:
    pytest.importorskip("openeo")
    pytest.importorskip("rasterio")
    module = load_module(str(EXAMPLE))
    hooks = Hooks.from_module(module)
    assert (hooks.job_factories, hooks.postprocessors) == (["s1s2"], ["stats"])
    return {"s1s2": module.s1s2, "stats": module.tile_statistics}


def test_s1_tiles_get_a_backscatter_job_and_s2_tiles_an_extraction(example: dict[str, Any]) -> None:
    s1 = run_activity(example["s1s2"], factory_request({"sensor": "S1"}))
    nodes = [node["process_id"] for node in s1["processGraph"].values()]
    assert nodes == ["load_collection", "sar_backscatter", "save_result"]
    assert s1["jobOptions"] == {"executor-memory": "4g"} and s1["title"] == "S1 backscatter t1"
    load = s1["processGraph"]["loadcollection1"]["arguments"]
    assert (load["id"], load["temporal_extent"]) == ("SENTINEL1_GRD", ["2024-06-01", "2024-07-01"])
    s2 = run_activity(example["s1s2"], factory_request({"sensor": "S2"}))
    assert s2["processGraph"]["loadcollection1"]["arguments"]["bands"] == ["B04", "B03", "B02"]
    assert run_activity(example["s1s2"], factory_request({"sensor": "none"})) == {
        "skip": 'tile t1 has sensor "none": nothing to extract'
    }
    with pytest.raises(ApplicationError, match="s1s2 for tile t1 failed: tile property \"sensor\" is 'S3'"):
        run_activity(example["s1s2"], factory_request({"sensor": "S3"}))


def test_statistics_of_a_geotiff_written_next_to_it(example: dict[str, Any], tmp_path: Path) -> None:
    numpy = pytest.importorskip("numpy")
    rasterio = pytest.importorskip("rasterio")
    from rasterio.transform import Affine

    folder = tmp_path / "t1"
    folder.mkdir()
    band1 = numpy.arange(64, dtype="float32").reshape(8, 8)
    band1[0, 0] = numpy.nan
    band2 = numpy.full((8, 8), 7, dtype="float32")
    band2[:, :4] = -9999  # nodata
    profile = {"driver": "GTiff", "width": 8, "height": 8, "count": 2, "dtype": "float32", "nodata": -9999}
    with rasterio.open(folder / "openEO.tif", "w", **profile, transform=Affine(0.01, 0, 4.3, 0, -0.01, 51.25)) as out:
        out.write(numpy.stack([band1, band2]))
    (folder / "job.json").write_text("{}")

    answer = run_activity(example["stats"], postprocess_request(folder))
    expected = [
        {"band": 1, "min": 1.0, "max": 63.0, "mean": sum(range(1, 64)) / 63, "validPixels": 63},
        {"band": 2, "min": 7.0, "max": 7.0, "mean": 7.0, "validPixels": 32},
    ]
    assert answer == {"written": ["stats.json"], "result": {"openEO.tif": expected}}
    assert json.loads((folder / "stats.json").read_text()) == {"openEO.tif": expected}
