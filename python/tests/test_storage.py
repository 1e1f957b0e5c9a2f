"""Files in object storage: the client's settings from the environment, and reading and writing s3:// locations."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support import postprocess_request, run_activity

from openeo_temporal import PostprocessContext, Tile, TileFile, postprocessor, storage


class FakeS3:
    """The few calls the package makes, kept in a dict; enough to check keys and bodies."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], bytes] = {}

    def put_object(self, Bucket: str, Key: str, Body: Any) -> None:  # noqa: N803 - boto3's names
        self.objects[(Bucket, Key)] = Body if isinstance(Body, bytes) else Body.read()

    def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:  # noqa: N803
        return {"Body": io.BytesIO(self.objects[(Bucket, Key)])}

    def download_file(self, bucket: str, key: str, filename: str) -> None:
        Path(filename).write_bytes(self.objects[(bucket, key)])


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeS3]:
    fake = FakeS3()
    monkeypatch.setattr(storage, "s3_client", lambda: fake)
    yield fake


def test_client_settings_follow_the_typescript_worker() -> None:
    pytest.importorskip("botocore")
    aws = storage.s3_client_options({})
    assert "endpoint_url" not in aws and "region_name" not in aws and "aws_access_key_id" not in aws
    assert aws["config"].s3 == {"addressing_style": "virtual"}
    local = storage.s3_client_options(
        {"AWS_ENDPOINT_URL": "http://127.0.0.1:8333", "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"}
    )
    assert (local["endpoint_url"], local["region_name"]) == ("http://127.0.0.1:8333", "us-east-1")
    assert local["config"].s3 == {"addressing_style": "path"}
    assert (local["aws_access_key_id"], local["aws_secret_access_key"], local["aws_session_token"]) == ("k", "s", None)
    chosen = storage.s3_client_options(
        {
            "AWS_ENDPOINT_URL": "http://a",
            "AWS_ENDPOINT_URL_S3": "http://s3-only",
            "AWS_S3_FORCE_PATH_STYLE": "false",
            "AWS_DEFAULT_REGION": "eu-west-1",
        }
    )
    assert (chosen["endpoint_url"], chosen["region_name"]) == ("http://s3-only", "eu-west-1")
    assert chosen["config"].s3 == {"addressing_style": "virtual"}


def test_s3_locations_split_into_bucket_and_key() -> None:
    assert storage.split_s3("s3://results/batches/b1/t1/") == ("results", "batches/b1/t1")
    assert storage.object_key("s3://results", "stats.json") == ("results", "stats.json")
    assert storage.object_key("s3://results/b1/t1", "stats.json") == ("results", "b1/t1/stats.json")
    with pytest.raises(ValueError, match="no bucket"):
        storage.split_s3("s3:///key")


def test_a_postprocessor_on_results_in_s3(s3: FakeS3, tmp_path: Path) -> None:
    s3.objects[("results", "batches/b1/t1/openEO.tif")] = b"tiff bytes"
    request = postprocess_request("s3://results/batches/b1/t1", ("openEO.tif",))
    downloaded: list[Path] = []

    @postprocessor("copy")
    def copy(tile: Tile, ctx: PostprocessContext) -> Any:
        result = ctx.files[0]
        with result.local_path() as path:
            downloaded.append(path)
            assert path.name == "openEO.tif" and path.read_bytes() == b"tiff bytes"
        local = tmp_path / "made.tif"
        local.write_bytes(b"made here")
        return [
            result.read_bytes().decode(),
            ctx.write_file("stats.json", "{}"),
            ctx.write_from("made.tif", local),
        ]

    answer = run_activity(copy, request)
    assert answer == {
        "written": ["stats.json", "made.tif"],
        "result": ["tiff bytes", "s3://results/batches/b1/t1/stats.json", "s3://results/batches/b1/t1/made.tif"],
    }
    assert s3.objects[("results", "batches/b1/t1/stats.json")] == b"{}"
    assert s3.objects[("results", "batches/b1/t1/made.tif")] == b"made here"
    assert not downloaded[0].exists(), "the download is removed after the with block"


def test_a_tile_file_knows_where_it_is() -> None:
    assert TileFile("a.tif", "s3://b/k/a.tif").in_object_storage
    assert not TileFile("a.tif", "/data/a.tif").in_object_storage


def test_a_relative_tile_dir_is_refused() -> None:
    with pytest.raises(ValueError, match="neither an absolute path nor an s3:// location"):
        storage.write("relative/dir", "a.json", b"{}")
