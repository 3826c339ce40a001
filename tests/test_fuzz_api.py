"""Schemathesis over our /openapi.json, against the real stack: never a 5xx, never a
workflow task failure.

The stack is the one `linkedin-ats up` runs (dev server, sandbox, worker, API) as real
processes on free ports, so whatever the fuzzer sends reaches workflows and the sandbox.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from api.app import create_app
from chaos.ats import Api, Ats, Customer, Ledger
from chaos.audit import Findings, audit_histories
from chaos.stack import ChaosStack
from domain.job_workflow import OperationKind
from settings import Settings

EXAMPLES = 12
"""Cases per operation and aim: about 600 requests, two minutes on two cores."""


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChaosStack]:
    running = ChaosStack(tmp_path_factory.mktemp("fuzz"))
    try:
        asyncio.run(running.start())
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def auth(stack: ChaosStack) -> dict[str, str]:
    return {"Authorization": f"Bearer {stack.settings.api_token.get_secret_value()}"}


@pytest.fixture(scope="module")
def known(stack: ChaosStack, auth: dict[str, str]) -> dict[str, str]:
    """An onboarded customer with a listed job, for the fuzzer to aim at."""
    customer = Customer("fuzz-acme", "urn:li:contract:4242", "boss@acme.example.com")
    token = stack.settings.api_token.get_secret_value()
    api = Api(stack.api_url, token, Ledger())
    ats = Ats(api, stack.sandbox_url, stack.api_url, token, random.Random(0))
    ats.chaos_until = ats.settle_until = time.monotonic() + 120

    async def prepare() -> None:
        await ats.onboard(customer)
        requested = await ats.request(customer, JOB, OperationKind.CREATE)
        assert requested is not None
        await ats.follow(requested)
        assert requested.outcome == "SUCCEEDED", requested

    asyncio.run(prepare())
    assert customer.enabled
    return {"customer_id": customer.id, "external_job_posting_id": JOB}


schema = schemathesis.openapi.from_dict(create_app(Settings()).openapi())
"""The very /openapi.json the API serves (built without connecting to anything)."""
AIMS = ["random ids", "a known customer", "a known job"]
JOB = "fuzz-job"


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
@pytest.mark.parametrize("aim", AIMS)
def test_no_request_makes_the_api_fail(
    case: Any, aim: str, stack: ChaosStack, auth: dict[str, str], known: dict[str, str]
) -> None:
    for name in ("customer_id", "external_job_posting_id")[: AIMS.index(aim)]:
        if name in (case.path_parameters or {}):
            case.path_parameters[name] = known[name]
    response = case.call(base_url=stack.api_url, headers=auth, timeout=90)
    assert response.status_code < 500, (
        f"{response.status_code} {response.text[:500]}\n{case.as_curl_command()}"
    )


def test_a_forged_cursor_is_refused(stack: ChaosStack, auth: dict[str, str]) -> None:
    """Found by the fuzzing above: it answered 503 after six seconds of Temporal retries."""
    answer = httpx.get(
        f"{stack.api_url}/v1/customers/acme/jobs",
        params={"cursor": "AAAA"},
        headers=auth,
        timeout=90,
    )
    assert answer.status_code == 422, answer.text


def test_no_workflow_task_failed_and_every_run_replays(stack: ChaosStack, tmp_path: Path) -> None:
    """Runs after the fuzzing above: whatever it sent, no workflow code raised, and every
    run it made replays with today's code at once."""

    async def failures() -> list[str]:
        found = Findings()
        await audit_histories(await stack.temporal(), found)
        assert found.replay.total > 0
        return found.task_failures + found.replay_failures

    assert asyncio.run(failures()) == []
