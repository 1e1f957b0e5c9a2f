"""Reading a tile's files and writing new ones into its folder, on this machine or in S3 object storage.

Locations are absolute paths or ``s3://bucket/key``. Object storage is reached with the hook worker's
own AWS variables, read as the TypeScript worker reads them: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
AWS_SESSION_TOKEN, AWS_REGION / AWS_DEFAULT_REGION (us-east-1 when only an endpoint is given),
AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL, AWS_S3_FORCE_PATH_STYLE. Every write is whole or nothing:
a local file is written beside its final name, then renamed; an object is one PUT.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

from .file_names import check_file_name

S3_SCHEME = "s3://"


def split_s3(location: str) -> tuple[str, str]:
    """``s3://bucket/some/key`` as ``("bucket", "some/key")``."""
    bucket, _, key = location[len(S3_SCHEME) :].partition("/")
    if not bucket:
        raise ValueError(f"{location}: no bucket in this s3:// location")
    return bucket, key.strip("/")


def s3_client_options(env: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """boto3 client arguments from the environment (see the module's notes)."""
    from botocore.config import Config

    endpoint = env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL") or None
    forced = env.get("AWS_S3_FORCE_PATH_STYLE")
    # Servers other than AWS seldom give each bucket a DNS name: path style there, unless told otherwise.
    path_style = forced == "true" if forced else endpoint is not None
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or ("us-east-1" if endpoint else None)
    options: dict[str, Any] = {
        "config": Config(
            s3={"addressing_style": "path" if path_style else "virtual"},
            # Not every S3-compatible server understands the default checksum trailers.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
    }
    if endpoint:
        options["endpoint_url"] = endpoint
    if region:
        options["region_name"] = region
    if env.get("AWS_ACCESS_KEY_ID") and env.get("AWS_SECRET_ACCESS_KEY"):
        options["aws_access_key_id"] = env["AWS_ACCESS_KEY_ID"]
        options["aws_secret_access_key"] = env["AWS_SECRET_ACCESS_KEY"]
        options["aws_session_token"] = env.get("AWS_SESSION_TOKEN") or None
    # Without keys in the environment, boto3's own chain (profiles, instance roles) finds them.
    return options


# boto3 publishes no types; its client is Any here.
@lru_cache(maxsize=1)
def s3_client() -> Any:
    """One S3 client per process (boto3 clients are thread-safe)."""
    try:
        import boto3
    except ImportError as err:
        raise RuntimeError("results in s3:// need boto3: pip install 'openeo-temporal[s3]'") from err
    return boto3.client("s3", **s3_client_options())


def read_bytes(location: str) -> bytes:
    if location.startswith(S3_SCHEME):
        bucket, key = split_s3(location)
        body: bytes = s3_client().get_object(Bucket=bucket, Key=key)["Body"].read()
        return body
    return Path(location).read_bytes()


@contextmanager
def local_copy(name: str, location: str) -> Iterator[Path]:
    """A local path of the file: the file itself, or a download that is removed afterwards."""
    if not location.startswith(S3_SCHEME):
        yield Path(location)
        return
    bucket, key = split_s3(location)
    with tempfile.TemporaryDirectory(prefix="openeo-temporal-") as folder:
        path = Path(folder) / check_file_name(name)
        s3_client().download_file(bucket, key, str(path))
        yield path


def object_key(tile_dir: str, name: str) -> tuple[str, str]:
    bucket, prefix = split_s3(tile_dir)
    return bucket, f"{prefix}/{name}" if prefix else name


def write(tile_dir: str, name: str, source: bytes | Path) -> str:
    """Writes ``source`` (bytes, or the file at a path) as ``name`` in the tile's folder; returns its location."""
    check_file_name(name)
    if tile_dir.startswith(S3_SCHEME):
        bucket, key = object_key(tile_dir, name)
        if isinstance(source, bytes):
            s3_client().put_object(Bucket=bucket, Key=key, Body=source)
        else:
            with open(source, "rb") as body:
                s3_client().put_object(Bucket=bucket, Key=key, Body=body)
        return f"{S3_SCHEME}{bucket}/{key}"
    folder = Path(tile_dir)
    if not folder.is_absolute():
        raise ValueError(f"tileDir {tile_dir!r} is neither an absolute path nor an s3:// location")
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    # A hidden temporary name in the same folder, so the rename is atomic and no reader sees half a file.
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".partial")
    try:
        with os.fdopen(handle, "wb") as out:
            _copy_into(source, out)
        # mkstemp makes the file private; results are read by others (the TS worker, a STAC server).
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return str(target)


def _copy_into(source: bytes | Path, out: IO[bytes]) -> None:
    if isinstance(source, bytes):
        out.write(source)
    else:
        with open(source, "rb") as data:
            shutil.copyfileobj(data, out)
