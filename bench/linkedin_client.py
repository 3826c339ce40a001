"""The LinkedIn client against the sandbox, measured.

    make bench        # or: .venv/bin/python -m bench.linkedin_client

Prints two tables: token single flight under concurrency, and batched versus one-by-one
job submission. Jobs through the workflow on the dev server: bench/jobs.py.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import structlog
from pydantic import SecretStr

from domain.integrations import IntegrationKey, IntegrationType
from domain.job_postings import JobPosting
from domain.provisioning import AppCredentials, NewApplication
from linkedin import LinkedInClient
from linkedin_sandbox import SandboxSettings
from tests.sandbox_control import SandboxServer

PARTNER = AppCredentials(
    client_id="sandbox-partner", client_secret=SecretStr("sandbox-partner-secret")
)
DESCRIPTION = "We are hiring engineers who like durable, boring systems that keep working. " * 2


def job(external_id: str) -> JobPosting:
    return JobPosting.model_validate(
        {
            "externalJobPostingId": external_id,
            "jobPostingOperationType": "CREATE",
            "title": "Engineer",
            "description": DESCRIPTION,
            "companyApplyUrl": "https://careers.example.com/1",
            "listedAt": int(time.time() * 1000) - 60_000,
            "location": "Remote",
            "integrationContext": "urn:li:organization:1",
        }
    )


def table(title: str, header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    widths = [max(len(str(x)) for x in column) for column in zip(header, *rows, strict=True)]
    print(f"\n{title}")
    for row in (header, tuple("-" * w for w in widths), *rows):
        print("  ".join(str(x).rjust(w) for x, w in zip(row, widths, strict=True)))


T = TypeVar("T")


async def timed(call: Callable[[], Awaitable[Any]]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = await call()
    return result, time.perf_counter() - started


async def _gather(calls: list[Awaitable[T]]) -> list[T]:
    return await asyncio.gather(*calls)


async def token_single_flight(url: str, creds: AppCredentials) -> None:
    rows = []
    key = IntegrationKey.for_type("urn:li:contract:1", IntegrationType.PREMIUM_JOB_POSTING)
    for concurrency in (1, 10, 100, 500):
        async with LinkedInClient(api_url=url, oauth_url=url, partner=PARTNER) as client:
            _, seconds = await timed(
                functools.partial(
                    _gather, [client.verify_integrations(creds, [key]) for _ in range(concurrency)]
                )
            )
            rows.append(
                (
                    concurrency,
                    client.token_requests,
                    f"{seconds * 1000:.0f}",
                    f"{concurrency / seconds:.0f}",
                )
            )
    table(
        "Token single flight: N concurrent first calls of one application",
        ("concurrent calls", "token requests", "total ms", "calls/s"),
        rows,
    )


async def batching(url: str, creds: AppCredentials) -> None:
    rows = []
    async with LinkedInClient(api_url=url, oauth_url=url, partner=PARTNER) as client:
        for count in (100, 1000):
            prefix = uuid.uuid4().hex[:6]
            batched, seconds = await timed(
                functools.partial(
                    client.submit_jobs, creds, [job(f"b{prefix}-{i}") for i in range(count)]
                )
            )
            rows.append(
                (
                    "batched (≤100 a call)",
                    count,
                    (count + 99) // 100,
                    f"{seconds * 1000:.0f}",
                    f"{count / seconds:.0f}",
                )
            )
            assert all(s.task_id for s in batched)
            single = [job(f"s{prefix}-{i}") for i in range(count)]
            _, seconds = await timed(
                functools.partial(_gather, [client.submit_jobs(creds, [j]) for j in single])
            )
            rows.append(
                ("one job a call", count, count, f"{seconds * 1000:.0f}", f"{count / seconds:.0f}")
            )
    table(
        "Submitting jobs to simpleJobPostings (sandbox over loopback)",
        ("how", "jobs", "HTTP calls", "total ms", "jobs/s"),
        rows,
    )


async def main() -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    server = SandboxServer(SandboxSettings(task_delay_seconds=0)).start()
    try:
        async with LinkedInClient(api_url=server.url, oauth_url=server.url, partner=PARTNER) as c:
            customer = f"bench-{uuid.uuid4().hex[:6]}"
            _, creds = await c.create_application(
                NewApplication(
                    unique_foreign_id=customer, name="Acme ATS - Bench", description="bench"
                )
            )
        await token_single_flight(server.url, creds)
        await batching(server.url, creds)
    finally:
        server.stop()


if __name__ == "__main__":
    asyncio.run(main())
    sys.stdout.flush()
    import os

    os._exit(0)  # sdk-python#300: leave before interpreter teardown
