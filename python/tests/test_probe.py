"""The registry of a worker's hooks, the probe activity, and loading a hooks file."""

from __future__ import annotations

import types
from pathlib import Path
from typing import Any

import pytest
from support import run_activity
from temporalio import activity

from openeo_temporal import DESCRIBE_HOOKS, Hooks, JobContext, PostprocessContext, Tile, job_factory, load_hooks
from openeo_temporal import postprocessor
from openeo_temporal.worker import ready_line


@job_factory("s1s2")
def s1s2(tile: Tile, ctx: JobContext) -> Any:
    return ctx.skip("test")


@postprocessor()
def stats(tile: Tile, ctx: PostprocessContext) -> None:
    return None


def test_the_probe_answers_the_registered_names() -> None:
    module = types.ModuleType("user_hooks")
    module.s1s2 = s1s2  # type: ignore[attr-defined]
    module.also = s1s2  # type: ignore[attr-defined]  # the same hook under two names counts once
    module.stats = stats  # type: ignore[attr-defined]
    module.helper = lambda: None  # type: ignore[attr-defined]
    hooks = Hooks.from_module(module)
    assert (hooks.job_factories, hooks.postprocessors) == (["s1s2"], ["stats"])
    activities = hooks.activities()
    probe = activities[-1]
    assert activity._Definition.must_from_callable(probe).name == DESCRIBE_HOOKS == "openeo_temporal.describe_hooks"
    assert len(activities) == 3
    assert run_activity(probe, {"contractVersion": 1, "later": True}) == {
        "contractVersion": 1,
        "jobFactories": ["s1s2"],
        "postprocessors": ["stats"],
        "worker": "openeo-temporal-python 0.13.0",
    }


def test_two_hooks_with_one_name_are_refused() -> None:
    @postprocessor("s1s2")
    def clash(tile: Tile, ctx: PostprocessContext) -> None:
        return None

    with pytest.raises(ValueError, match="two hooks are named 's1s2'"):
        Hooks([s1s2, clash])
    with pytest.raises(TypeError, match="is not a hook"):
        Hooks([lambda request: request])  # type: ignore[list-item]

    @job_factory(DESCRIBE_HOOKS)
    def impostor(tile: Tile, ctx: JobContext) -> None:
        return None

    with pytest.raises(ValueError, match="'openeo_temporal.describe_hooks' is the probe's name"):
        Hooks([impostor])


def test_load_hooks_from_a_file_that_imports_its_neighbour(tmp_path: Path) -> None:
    (tmp_path / "sensors.py").write_text('SENSORS = {"a": "SENTINEL2_L2A"}\n')
    (tmp_path / "statistics.py").write_text(
        "from openeo_temporal import postprocessor, job_factory\n"
        "from sensors import SENSORS\n"
        "@job_factory('pick')\n"
        "def pick(tile, ctx):\n"
        "    return ctx.skip(SENSORS['a'])\n"
        "@postprocessor\n"
        "def summary(tile, ctx):\n"
        "    return None\n"
    )
    # "statistics" is also a standard module: the hooks file must not replace it.
    import statistics

    hooks = load_hooks(str(tmp_path / "statistics.py"))
    assert (hooks.job_factories, hooks.postprocessors) == (["pick"], ["summary"])
    import sys

    assert sys.modules["statistics"] is statistics
    assert ready_line("openeo-python", hooks) == (
        'openeo-temporal python worker polling "openeo-python": job factories pick; post-processors summary'
    )


def test_a_file_without_hooks_or_missing_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "empty_hooks.py").write_text("X = 1\n")
    with pytest.raises(ValueError, match="defines no hooks: decorate functions with @job_factory or @postprocessor"):
        load_hooks(str(tmp_path / "empty_hooks.py"))
    with pytest.raises(FileNotFoundError, match="no such hooks file"):
        load_hooks(str(tmp_path / "missing.py"))
    assert ready_line("q", Hooks([s1s2])).endswith("job factories s1s2; post-processors none")
