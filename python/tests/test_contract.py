"""The contract's messages: decoding the golden examples and writing them back unchanged, tolerance, errors."""

from __future__ import annotations

from typing import Any

import pytest
from support import golden

from openeo_temporal import (
    ContractError,
    DescribeHooksAnswer,
    InvalidFileName,
    JobFactoryRequest,
    JobPlan,
    Period,
    PostprocessAnswer,
    PostprocessRequest,
    ProcessRef,
    Skip,
    Tile,
)
from openeo_temporal.contract import MAX_RESULT_BYTES, job_factory_answer_from_json
from openeo_temporal.file_names import check_file_name

DECODERS: dict[str, Any] = {
    "JobFactoryRequest": JobFactoryRequest.from_json,
    "JobFactoryAnswer": job_factory_answer_from_json,
    "PostprocessRequest": PostprocessRequest.from_json,
    "PostprocessAnswer": PostprocessAnswer.from_json,
    "DescribeHooksAnswer": DescribeHooksAnswer.from_json,
}


@pytest.mark.parametrize("name", sorted(DECODERS))
def test_golden_examples_decode_and_encode_unchanged(name: str) -> None:
    for example in golden(name):
        assert DECODERS[name](example).to_json() == example


def test_a_job_factory_request_in_python_terms() -> None:
    request = JobFactoryRequest.from_json(golden("JobFactoryRequest")[1])
    assert (request.batch_id, request.attempt, request.backend.name) == ("monthly", 2, "vito")
    assert request.tile.period == Period("2024-03", "2024-03-01", "2024-04-01")
    assert request.tile.shape.geom_type == "MultiPolygon"
    assert request.spec_process_graph is not None and "ndvi1" in request.spec_process_graph
    first = JobFactoryRequest.from_json(golden("JobFactoryRequest")[0])
    assert first.tile.period is None and first.spec_process_graph is None
    assert first.tile.shape.bounds == pytest.approx((4.3, 51.2, 4.35, 51.25))


def test_unknown_keys_are_ignored_everywhere() -> None:
    example = golden("PostprocessRequest")[0]
    plain = PostprocessRequest.from_json(example)
    example["someFutureField"] = {"x": 1}
    example["tile"]["shard"] = 7
    example["files"][0]["checksum"] = "md5:00"
    assert PostprocessRequest.from_json(example) == plain
    assert DescribeHooksAnswer.from_json({"contractVersion": 1, "jobFactories": [], "postprocessors": [], "x": 0})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r.pop("batchId"), "JobFactoryRequest.batchId is missing"),
        (lambda r: r["tile"].pop("geometry"), "JobFactoryRequest.tile.geometry is missing"),
        (lambda r: r.pop("backend"), "JobFactoryRequest.backend is missing"),
        (lambda r: r["backend"].pop("url"), "JobFactoryRequest.backend.url is missing"),
        (lambda r: r.update(attempt="2"), "JobFactoryRequest.attempt must be int, not str"),
        (lambda r: r.update(attempt=True), "JobFactoryRequest.attempt must be int, not bool"),
        (lambda r: r.update(tile=[]), "JobFactoryRequest.tile must be a JSON object, not list"),
        (lambda r: r.pop("contractVersion"), "JobFactoryRequest.contractVersion is missing"),
    ],
)
def test_a_broken_request_names_its_field(change: Any, message: str) -> None:
    request = golden("JobFactoryRequest")[0]
    change(request)
    with pytest.raises(ContractError) as caught:
        JobFactoryRequest.from_json(request)
    assert str(caught.value) == message


def test_a_broken_file_entry_names_its_index() -> None:
    request = golden("PostprocessRequest")[0]
    del request["files"][1]["location"]
    with pytest.raises(ContractError, match=r"PostprocessRequest\.files\[1\]\.location is missing"):
        PostprocessRequest.from_json(request)


def test_a_tile_period_that_is_not_a_batch_period_is_none() -> None:
    for value in ("2024-03", {"id": "2024-03"}, {"id": 1, "start": "a", "end": "b"}):
        assert Tile("t", {"type": "Point", "coordinates": [0, 0]}, {"period": value}).period is None


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        (lambda: JobPlan(), "exactly one of process_graph and process"),
        (
            lambda: JobPlan(process_graph={"a": {"process_id": "x", "result": True}}, process=ProcessRef("p")),
            "exactly one of",
        ),
        (lambda: JobPlan(process_graph={}), "processGraph is empty"),
        (lambda: JobPlan(process_graph={"a": {"process_id": "x"}}), 'exactly one node with "result": true, has 0'),
        (lambda: JobPlan(process_graph={"a": {"arguments": {}, "result": True}}), r"processGraph\.a\.process_id"),
        (lambda: JobPlan(process=ProcessRef("p"), title=3), "JobPlan.title must be str"),  # type: ignore[arg-type]
        (
            lambda: JobPlan(process_graph={"a": {"process_id": "x", "result": True}}, arguments={}),
            "arguments go with process",
        ),
        (lambda: Skip("  "), "non-empty"),
    ],
)
def test_a_wrong_plan_fails_where_it_is_built(plan: Any, message: str) -> None:
    with pytest.raises(ContractError, match=message):
        plan()


def test_answers_from_json_refuse_what_is_neither_plan_nor_skip() -> None:
    for answer, message in (
        ({}, "exactly one of"),
        ({"skip": ""}, "non-empty"),
        ({"skip": 3}, "Skip.skip must be str"),
        ({"process": {"namespace": "user"}}, r"JobPlan\.process\.processId is missing"),
        ([], "must be a JSON object"),
    ):
        with pytest.raises(ContractError, match=message):
            job_factory_answer_from_json(answer)


@pytest.mark.parametrize("name", ["stats.json", "ndvi_2024-06.tif", "A.B-c_d"])
def test_plain_file_names_pass(name: str) -> None:
    assert check_file_name(name) == name


@pytest.mark.parametrize("name", ["", ".hidden", "../up.tif", "a/b.tif", "a b.tif", "é.tif", "..", "a\\b"])
def test_other_file_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidFileName, match="plain name"):
        check_file_name(name)


def test_a_result_is_plain_json_within_16_kib() -> None:
    numpy = pytest.importorskip("numpy")
    answer = PostprocessAnswer(["s.json"], {"mean": numpy.float32(0.5), "counts": numpy.arange(3), "n": numpy.int64(4)})
    assert answer.to_json() == {"written": ["s.json"], "result": {"mean": 0.5, "counts": [0, 1, 2], "n": 4}}
    # The limit counts UTF-8 bytes of compact JSON: a string of 16384 - 2 characters plus its quotes fits.
    assert PostprocessAnswer([], "x" * (MAX_RESULT_BYTES - 2)).to_json()["result"]
    with pytest.raises(ContractError, match="16385 bytes as JSON; a tile's record keeps at most 16384"):
        PostprocessAnswer([], "x" * (MAX_RESULT_BYTES - 1))
    with pytest.raises(ContractError, match="not JSON"):
        PostprocessAnswer([], {"when": object()})
    with pytest.raises(ContractError, match="not JSON"):
        PostprocessAnswer([], float("nan"))
    with pytest.raises(InvalidFileName):
        PostprocessAnswer(["../x"])
