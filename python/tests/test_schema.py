"""The dataclasses against the contract's JSON Schema, as the package ships it (``contract.schema.json``).

The schema comes from the TypeScript side; each message is checked against its ``$defs`` entry by name.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import pytest
from support import factory_request, golden

from openeo_temporal import (
    DescribeHooksAnswer,
    JobFactoryRequest,
    JobPlan,
    PostprocessAnswer,
    PostprocessRequest,
    ProcessRef,
    Skip,
)
from openeo_temporal.contract import job_factory_answer_from_json

jsonschema = pytest.importorskip("jsonschema")

NAMES = ["JobFactoryRequest", "JobFactoryAnswer", "PostprocessRequest", "PostprocessAnswer", "DescribeHooksAnswer"]
GRAPH = {"save1": {"process_id": "save_result", "arguments": {"format": "GTiff"}, "result": True}}


def contract_schema() -> dict[str, Any]:
    # Read from the installed package: proves the schema is in the wheel.
    text = resources.files("openeo_temporal").joinpath("contract.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


def validator(name: str) -> Any:
    root = contract_schema()
    # Only the references' targets and the dialect of the whole document; the message's own definition by $ref.
    schema = {k: v for k, v in root.items() if k in ("$schema", "$id", "$defs", "definitions")}
    schema["$ref"] = f"#/$defs/{name}"
    cls = jsonschema.validators.validator_for(root)
    cls.check_schema(schema)
    return cls(schema)


def test_the_schema_defines_every_message() -> None:
    assert set(NAMES) <= set(contract_schema()["$defs"])


@pytest.mark.parametrize("name", NAMES)
def test_golden_examples_follow_the_schema(name: str) -> None:
    check = validator(name)
    for example in golden(name):
        check.validate(example)


def test_what_the_dataclasses_write_follows_the_schema() -> None:
    written: dict[str, list[dict[str, Any]]] = {
        "JobFactoryRequest": [JobFactoryRequest.from_json(factory_request(specProcessGraph=GRAPH)).to_json()],
        "JobFactoryAnswer": [
            JobPlan(process_graph=GRAPH, title="t", description="d", job_options={"a": 1}).to_json(),
            JobPlan(process=ProcessRef("bap", "user"), arguments={"x": 1}).to_json(),
            JobPlan(process=ProcessRef("ndvi")).to_json(),
            Skip("nothing here").to_json(),
        ],
        "PostprocessRequest": [PostprocessRequest.from_json(golden("PostprocessRequest")[1]).to_json()],
        "PostprocessAnswer": [
            PostprocessAnswer(["stats.json"], {"a": [1, 2]}).to_json(),
            PostprocessAnswer().to_json(),
        ],
        "DescribeHooksAnswer": [DescribeHooksAnswer(["s1s2"], ["stats"], "openeo-temporal-python 0.13.0").to_json()],
    }
    for name, messages in written.items():
        for message in messages:
            validator(name).validate(message)


@pytest.mark.parametrize(
    "answer",
    [{}, {"skip": 3}, {"processGraph": "graph"}, {"process": {"namespace": "user"}}],
)
def test_answers_the_schema_refuses_the_package_refuses_too(answer: dict[str, Any]) -> None:
    assert not validator("JobFactoryAnswer").is_valid(answer)
    with pytest.raises(ValueError):
        job_factory_answer_from_json(answer)


@pytest.mark.parametrize("answer", [{"written": "stats.json"}, {"written": [3]}, {"result": 1}])
def test_postprocess_answers_both_refuse(answer: dict[str, Any]) -> None:
    assert not validator("PostprocessAnswer").is_valid(answer)
    with pytest.raises(ValueError):
        PostprocessAnswer.from_json(answer)


def test_requests_without_a_required_field_are_refused_by_both() -> None:
    for field in ("batchId", "tile", "backend", "attempt"):
        request = factory_request()
        del request[field]
        assert not validator("JobFactoryRequest").is_valid(request), field
        with pytest.raises(ValueError, match=field):
            JobFactoryRequest.from_json(request)
