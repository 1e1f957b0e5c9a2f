"""The decorators' activities, run as a worker runs them (an activity context, no server)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from support import factory_request, postprocess_request, run_activity
from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from openeo_temporal import (
    JobContext,
    PostprocessContext,
    Tile,
    job,
    job_factory,
    load_collection,
    postprocessor,
)
from openeo_temporal import hooks as hooks_module
from openeo_temporal.contract import JobPlan

GRAPH = {"load1": {"process_id": "load_collection", "arguments": {"id": "S2"}, "result": True}}


def failure(activity_fn: Any, request: dict[str, Any], env: ActivityEnvironment | None = None) -> ApplicationError:
    with pytest.raises(ApplicationError) as caught:
        run_activity(activity_fn, request, env)
    return caught.value


# ---- job factories --------------------------------------------------------------------------


def test_the_decorated_function_is_a_temporal_activity_named_as_asked() -> None:
    @job_factory("s1s2")
    def anything(tile: Tile, ctx: JobContext) -> Any:
        return ctx.skip("x")

    @job_factory
    def bare(tile: Tile, ctx: JobContext) -> Any:
        return ctx.skip("x")

    assert activity._Definition.must_from_callable(anything).name == "s1s2"
    assert activity._Definition.must_from_callable(bare).name == "bare"
    info = hooks_module.hook_info(anything)
    assert info is not None and info.kind == "job_factory" and info.function.__name__ == "anything"


def test_a_skip_and_what_the_factory_is_told() -> None:
    seen: list[JobContext] = []

    @job_factory()
    def skipper(tile: Tile, ctx: JobContext) -> Any:
        seen.append(ctx)
        return ctx.skip(f"{tile.id} has nothing to do on {ctx.backend.name}")

    answer = run_activity(skipper, factory_request(specProcessGraph=GRAPH, attempt=3, future={"x": 1}))
    assert answer == {"skip": "t1 has nothing to do on cdse"}
    ctx = seen[0]
    assert (ctx.batch_id, ctx.attempt, ctx.backend.url) == ("b1", 3, "https://openeo.example/openeo/1.2")
    assert ctx.parameter_defaults == {"temporal_extent": ["2024-06-01", "2024-07-01"]}
    assert ctx.spec_process_graph == GRAPH


def test_a_sync_factory_runs_in_a_thread_and_an_async_one_on_the_loop() -> None:
    threads: dict[str, int] = {}

    @job_factory()
    def sync_factory(tile: Tile, ctx: JobContext) -> Any:
        threads["sync"] = threading.get_ident()
        return GRAPH

    @job_factory()
    async def async_factory(tile: Tile, ctx: JobContext) -> Any:
        await asyncio.sleep(0)
        threads["async"] = threading.get_ident()
        return {"skip": "async"}

    assert run_activity(sync_factory, factory_request())["processGraph"]["load1"]["process_id"] == "load_collection"
    assert run_activity(async_factory, factory_request()) == {"skip": "async"}
    assert threads["async"] == threading.get_ident() != threads["sync"]


def test_a_plain_graph_gets_a_save_result_and_a_contract_dict_is_kept_as_it_is() -> None:
    @job_factory()
    def graph_only(tile: Tile, ctx: JobContext) -> Any:
        return GRAPH

    graph = run_activity(graph_only, factory_request())["processGraph"]
    assert graph["saveresult1"] == {
        "process_id": "save_result",
        "arguments": {"data": {"from_node": "load1"}, "format": "GTiff", "options": {}},
        "result": True,
    }
    assert "result" not in graph["load1"]
    assert GRAPH["load1"]["result"] is True, "the hook's own graph is not changed"

    @job_factory()
    def contract_form(tile: Tile, ctx: JobContext) -> Any:
        return {"process": {"processId": "bap", "namespace": "user"}, "arguments": {"tile": tile.id}, "title": "T"}

    assert run_activity(contract_form, factory_request()) == {
        "process": {"processId": "bap", "namespace": "user"},
        "arguments": {"tile": "t1"},
        "title": "T",
    }


def test_an_openeo_datacube_becomes_its_graph_over_the_tile_and_period() -> None:
    pytest.importorskip("openeo")
    period = {"id": "2024-03", "start": "2024-03-01", "end": "2024-04-01"}

    @job_factory()
    def s1(tile: Tile, ctx: JobContext) -> Any:
        return load_collection(tile, "SENTINEL1_GRD", bands=["VV"]).sar_backscatter(coefficient="sigma0-ellipsoid")

    graph = run_activity(s1, factory_request({"period": period}))["processGraph"]
    load = graph["loadcollection1"]["arguments"]
    assert load["id"] == "SENTINEL1_GRD" and load["bands"] == ["VV"]
    assert load["spatial_extent"] == factory_request()["tile"]["geometry"]
    assert load["temporal_extent"] == ["2024-03-01", "2024-04-01"]
    assert graph["sarbackscatter1"]["arguments"]["data"] == {"from_node": "loadcollection1"}
    assert graph["saveresult1"]["arguments"]["data"] == {"from_node": "sarbackscatter1"}
    assert [node_id for node_id, node in graph.items() if node.get("result")] == ["saveresult1"]


def test_load_collection_by_bounding_box_with_an_explicit_time_range() -> None:
    pytest.importorskip("openeo")
    tile = Tile.from_json(factory_request({"period": {"id": "p", "start": "2024-01-01", "end": "2024-02-01"}})["tile"])
    cube = load_collection(tile, "SENTINEL2_L2A", temporal_extent=["2023-01-01", "2023-02-01"], bbox=True)
    plan = job(cube.save_result(format="netCDF"), title="S2", job_options={"driver-memory": "2g"})
    load = plan.to_json()["processGraph"]["loadcollection1"]["arguments"]
    assert load["spatial_extent"] == pytest.approx({"west": 4.3, "south": 51.2, "east": 4.35, "north": 51.25})
    assert load["temporal_extent"] == ["2023-01-01", "2023-02-01"]
    assert plan.process_graph is not None
    assert [n["arguments"]["format"] for n in plan.process_graph.values() if n["process_id"] == "save_result"] == [
        "netCDF"
    ], "a cube that saves its result keeps its own save_result"
    assert (plan.title, plan.job_options) == ("S2", {"driver-memory": "2g"})


def test_a_cube_without_connection_does_not_warn_about_sar_backscatter(caplog: pytest.LogCaptureFixture) -> None:
    pytest.importorskip("openeo")
    tile = Tile.from_json(factory_request()["tile"])
    with caplog.at_level("WARNING"):
        load_collection(tile, "SENTINEL1_GRD").sar_backscatter(coefficient="sigma0-ellipsoid")
        # Other warnings of the same logger still pass.
        import logging

        logging.getLogger("openeo.rest.datacube").warning("Failed to extract something else")
    assert [r.getMessage() for r in caplog.records] == ["Failed to extract something else"]


def test_an_exception_fails_the_tile_and_may_be_retried(caplog: pytest.LogCaptureFixture) -> None:
    @job_factory("s1s2")
    def broken(tile: Tile, ctx: JobContext) -> Any:
        raise RuntimeError(f"no scene list for {tile.id}")

    @job_factory("lookup")
    def lookup(tile: Tile, ctx: JobContext) -> Any:
        return tile.properties["sensor"]

    err = failure(broken, factory_request())
    assert (err.message, err.type, err.non_retryable) == (
        "s1s2 for tile t1 failed: no scene list for t1",
        "JobFactoryFailed",
        False,
    )
    assert isinstance(err.__cause__, RuntimeError)
    assert "Traceback" in caplog.text and "no scene list for t1" in caplog.text, "the traceback is logged"
    assert failure(lookup, factory_request()).message == "lookup for tile t1 failed: KeyError: 'sensor'"


def test_the_hooks_own_application_error_passes_unchanged() -> None:
    @job_factory()
    def final(tile: Tile, ctx: JobContext) -> Any:
        raise ApplicationError("the area is outside the collection", type="OutOfArea", non_retryable=True)

    err = failure(final, factory_request())
    assert (err.message, err.type, err.non_retryable) == ("the area is outside the collection", "OutOfArea", True)


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (None, "answered wrongly: returned nothing"),
        (42, "answered wrongly: returned a int"),
        ({"foo": 1}, "answered wrongly: a dict with keys ['foo'] is neither a process graph"),
        ({"skip": ""}, "answered wrongly: Skip: the reason must be a non-empty string"),
        ({"a": {"process_id": "x"}, "b": {"process_id": "y"}}, 'exactly one node with "result": true, has 0'),
    ],
)
def test_an_answer_outside_the_contract_is_not_retried(answer: Any, message: str) -> None:
    @job_factory("wrong")
    def wrong(tile: Tile, ctx: JobContext) -> Any:
        return answer

    err = failure(wrong, factory_request())
    assert err.type == "JobFactoryFailed" and err.non_retryable
    assert err.message.startswith("wrong for tile t1 ") and message in err.message


def test_a_plan_the_hook_builds_wrongly_is_not_retried() -> None:
    @job_factory("wrong")
    def wrong(tile: Tile, ctx: JobContext) -> Any:
        return JobPlan(process_graph={})

    err = failure(wrong, factory_request())
    assert err.non_retryable and err.message == "wrong for tile t1 failed: JobPlan.processGraph is empty"


def test_a_request_it_cannot_read_is_not_retried() -> None:
    called: list[bool] = []

    @job_factory("f")
    def f(tile: Tile, ctx: JobContext) -> Any:
        called.append(True)

    request = factory_request()
    del request["tile"]["geometry"]
    err = failure(f, request)
    assert err.non_retryable and not called
    assert err.message == "f for tile t1 got a request it cannot read: JobFactoryRequest.tile.geometry is missing"


def test_heartbeats_while_a_slow_sync_hook_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hooks_module, "HEARTBEAT_SECONDS", 0.02)
    beats: list[tuple[Any, ...]] = []
    env = ActivityEnvironment()
    env.on_heartbeat = lambda *details: beats.append(details)

    @postprocessor()
    def slow(tile: Tile, ctx: PostprocessContext) -> Any:
        time.sleep(0.15)
        ctx.heartbeat({"file": "openEO.tif"})  # from the hook's thread
        time.sleep(0.15)
        return None

    assert run_activity(slow, postprocess_request("/nowhere", ()), env) == {"written": []}
    assert beats[0] == (), "the wrapper beats on its own"
    assert ({"file": "openEO.tif"},) in beats
    # After the hook's own beat, the wrapper repeats its details rather than erasing them.
    assert beats[-1] == ({"file": "openEO.tif"},)


# ---- post-processors ------------------------------------------------------------------------


def test_a_postprocessor_reads_the_files_and_writes_new_ones_into_the_tile_folder(tile_dir: Path) -> None:
    seen: dict[str, Any] = {}

    @postprocessor("stats")
    def stats(tile: Tile, ctx: PostprocessContext) -> Any:
        seen["record"] = ctx.record
        seen["job"] = json.loads(ctx.file("job.json").read_bytes())
        with ctx.files[0].local_path() as path:
            seen["local"] = path
        ctx.write_file("stats.json", '{"mean": 1}\n')
        ctx.write_file("raw.bin", b"\x00\x01")
        scratch = tile_dir.parent / "scratch.tif"
        scratch.write_bytes(b"II*\x00")
        ctx.write_from("ndvi.tif", scratch)
        ctx.write_file("stats.json", '{"mean": 2}\n')  # again: replaced, listed once
        return {"tile": tile.id, "bands": 3}

    answer = run_activity(stats, postprocess_request(tile_dir))
    assert answer == {"written": ["stats.json", "raw.bin", "ndvi.tif"], "result": {"tile": "t1", "bands": 3}}
    assert (tile_dir / "stats.json").read_text() == '{"mean": 2}\n'
    assert (tile_dir / "raw.bin").read_bytes() == b"\x00\x01"
    assert (tile_dir / "ndvi.tif").read_bytes() == b"II*\x00"
    assert oct((tile_dir / "ndvi.tif").stat().st_mode & 0o777) == "0o644"
    assert sorted(p.name for p in tile_dir.iterdir()) == ["job.json", "ndvi.tif", "openEO.tif", "raw.bin", "stats.json"]
    assert seen["job"] == {"id": "j-1"} and seen["local"] == tile_dir / "openEO.tif"
    assert seen["record"]["status"] == "finished"


def test_an_async_postprocessor_without_result() -> None:
    @postprocessor()
    async def quiet(tile: Tile, ctx: PostprocessContext) -> None:
        await asyncio.sleep(0)

    assert run_activity(quiet, postprocess_request("/nowhere", ())) == {"written": []}


def test_a_bad_file_name_stops_the_tile_at_once(tile_dir: Path) -> None:
    @postprocessor("escape")
    def escape(tile: Tile, ctx: PostprocessContext) -> None:
        ctx.write_file("../elsewhere.json", "{}")

    err = failure(escape, postprocess_request(tile_dir))
    assert (err.type, err.non_retryable) == ("PostprocessFailed", True)
    assert err.message.startswith("escape for tile t1 failed: file name '../elsewhere.json': use a plain name")
    assert not (tile_dir.parent / "elsewhere.json").exists()


def test_a_result_too_large_is_not_retried_and_says_what_to_do(tile_dir: Path) -> None:
    @postprocessor("big")
    def big(tile: Tile, ctx: PostprocessContext) -> Any:
        return {"values": list(range(5000))}

    err = failure(big, postprocess_request(tile_dir))
    assert (err.type, err.non_retryable) == ("PostprocessFailed", True)
    assert "big for tile t1 answered wrongly: the result is 2" in err.message
    assert "at most 16384: write larger outputs as files (ctx.write_file)" in err.message


def test_a_postprocessor_exception_is_retryable(tile_dir: Path) -> None:
    @postprocessor("flaky")
    def flaky(tile: Tile, ctx: PostprocessContext) -> None:
        ctx.write_file("partial.json", "{}")
        raise OSError("disk full")

    err = failure(flaky, postprocess_request(tile_dir))
    assert (err.message, err.type, err.non_retryable) == (
        "flaky for tile t1 failed: OSError: disk full",
        "PostprocessFailed",
        False,
    )


def test_a_missing_file_is_a_clear_error(tile_dir: Path) -> None:
    @postprocessor("needs")
    def needs(tile: Tile, ctx: PostprocessContext) -> None:
        ctx.file("result.nc")

    assert "the tile has no file 'result.nc'; it has ['openEO.tif', 'job.json']" in failure(
        needs, postprocess_request(tile_dir)
    ).message


def test_a_cancelled_sync_hook_is_counted_until_its_thread_returns() -> None:
    started, release = threading.Event(), threading.Event()

    @job_factory()
    def stuck(tile: Tile, ctx: JobContext) -> Any:
        started.set()
        release.wait(5)
        return ctx.skip("late")

    async def scenario() -> None:
        env = ActivityEnvironment()
        running = asyncio.ensure_future(env.run(stuck, factory_request()))
        await asyncio.to_thread(started.wait, 5)
        env.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running
        # The activity is over; its thread is not, and a stopping worker waits for it.
        assert hooks_module.running_in_threads() == 1
        release.set()
        for _ in range(100):
            if hooks_module.running_in_threads() == 0:
                break
            await asyncio.sleep(0.01)
        assert hooks_module.running_in_threads() == 0

    asyncio.run(scenario())


def test_the_sdk_does_not_log_a_hook_failure_a_second_time() -> None:
    import logging

    logger = logging.getLogger("temporalio.activity")
    ours = hooks_module._failure("job_factory", "f", "t1", "failed: x", non_retryable=False)
    theirs = ApplicationError("user's own")
    records = []
    for err in (ours, theirs):
        record = logger.makeRecord(
            logger.name, logging.WARNING, __file__, 1, "Completing activity as failed ({'attempt': 1})", (),
            (type(err), err, None),
        )
        records.append(bool(logger.filter(record)))
    assert records == [False, True]
