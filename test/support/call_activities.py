"""Calls activities on a task queue from a one-off Python workflow, as the batch workflow calls hooks.

    python call_activities.py <task queue> < calls.json     # [[activity, argument], ...]

Prints one JSON list: each call's answer, or {"error": {"message", "type", "nonRetryable"}}.
Each call gets 3 attempts, 0.1 s apart. Temporal settings from TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.worker import Worker

from openeo_temporal.connection import connect


@workflow.defn
class CallActivities:
    @workflow.run
    async def run(self, task_queue: str, calls: list[list[Any]]) -> list[Any]:
        answers: list[Any] = []
        for activity, argument in calls:
            try:
                answers.append(
                    await workflow.execute_activity(
                        activity,
                        argument,
                        task_queue=task_queue,
                        schedule_to_start_timeout=timedelta(seconds=30),
                        start_to_close_timeout=timedelta(seconds=30),
                        retry_policy=RetryPolicy(maximum_attempts=3, initial_interval=timedelta(milliseconds=100)),
                    )
                )
            except ActivityError as err:
                cause = err.cause
                if not isinstance(cause, ApplicationError):
                    raise
                error = {"message": cause.message, "type": cause.type, "nonRetryable": cause.non_retryable}
                answers.append({"error": error})
        return answers


async def main(task_queue: str) -> None:
    client = await connect()
    calls = json.load(sys.stdin)
    own_queue = f"call-activities-{uuid.uuid4()}"
    async with Worker(client, task_queue=own_queue, workflows=[CallActivities]):
        answers = await client.execute_workflow(
            CallActivities.run, args=[task_queue, calls], id=own_queue, task_queue=own_queue
        )
    print(json.dumps(answers))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
    sys.stdout.flush()
    # Skips the interpreter's teardown, which Temporal's core threads can abort (sdk-python issue 300).
    os._exit(0)
