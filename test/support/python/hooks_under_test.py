"""Hooks of the Python-worker integration test (test/integration/python-hooks.test.ts).

The example's hooks (examples/python/my_hooks.py: the S1/S2 job factory and the statistics
post-processor) plus ``picky``, a post-processor that fails while the file named by
$PICKY_FLAG exists and otherwise works longer than the batch's heartbeat timeout, so it
finishes only because the package heartbeats for it.
"""

from __future__ import annotations

import importlib.util
import os
import time
from pathlib import Path

from openeo_temporal import PostprocessContext, Tile, postprocessor

_EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "python" / "my_hooks.py"
_spec = importlib.util.spec_from_file_location("my_hooks", _EXAMPLE)
assert _spec is not None and _spec.loader is not None
_example = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_example)

s1s2 = _example.s1s2
stats = _example.stats


@postprocessor("picky")
def picky(tile: Tile, ctx: PostprocessContext) -> dict[str, int]:
    if os.path.exists(os.environ["PICKY_FLAG"]):
        raise RuntimeError("the flag file says no")
    # Longer than the test's heartbeat timeout (4 s): a sync hook blocks its thread, not the beats.
    time.sleep(float(os.environ.get("PICKY_SECONDS", "6")))
    ctx.write_file("picky.txt", f"{tile.id}: {len(ctx.files)} files\n")
    return {"files": len(ctx.files)}
