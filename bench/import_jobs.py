"""Bulk import measured end to end (issue 21): N jobs of one customer through the HTTP API.

    .venv/bin/python -m bench.import_jobs [--jobs 10000] [--batch 1000]

POSTs the jobs to `/v1/customers/{id}/jobs/batch`, a batch at a time, then waits until
every job is LISTED (counted from the search attributes). Prints, in markdown: minutes to
answer every batch and to list every job; LinkedIn calls by endpoint and per job (from the
sandbox's journal, drained as it goes); the largest simpleJobPostings call; and the most
job records sent in any rolling minute. No assertion: the numbers are for people
(docs/performance.md).

The sandbox runs in its own process with instant tasks; the dev server keeps its state in
memory; the worker and the API run in this process, the API on a real uvicorn over loopback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
import tempfile
import time
from collections import Counter
from typing import Any

import httpx
import structlog

from api.app import create_app
from bench.jobs import bench_settings, machine, onboard, sandbox_process, table, wire
from client.connection import connect
from domain.job_workflow import JOB_WORKFLOW_TYPE, JobStatus
from domain.visibility import where
from settings import Settings
from tests.conftest import API_AUTH
from tests.sandbox_control import SandboxControl, ServerThread
from tests.temporal_support import TEST_KEYS, dev_server
from workers.worker import StoredAppSecrets, running_worker

PREMIUM_RECORDS_PER_MINUTE = 2000
"""LinkedIn's premium job posting limit, records a minute (the most the import may send)."""


class Journal:
    """LinkedIn's calls, drained from the sandbox's journal (it keeps the last 10,000)."""

    def __init__(self, sandbox: SandboxControl) -> None:
        self.sandbox = sandbox
        self.calls: Counter[str] = Counter()
        self.submissions: list[tuple[float, int]] = []
        """(when, job records) of each simpleJobPostings call."""

    async def drain(self) -> None:
        entries = await self.sandbox.requests()
        (await self.sandbox.http.delete("/sandbox/requests")).raise_for_status()
        for entry in entries:
            path = str(entry["path"]).rstrip("/")
            endpoint = "accessToken" if path.startswith("/oauth") else path.rsplit("/", 1)[-1]
            self.calls[endpoint] += 1
            if endpoint == "simpleJobPostings" and entry["method"] == "POST":
                records = len((entry["body"] or {}).get("elements", []))
                self.submissions.append((float(entry["at"]), records))

    def busiest_minute(self) -> int:
        """The most job records sent in any 60 seconds."""
        ordered = sorted(self.submissions)
        most = 0
        start = 0
        total = 0
        for at, records in ordered:
            total += records
            while ordered[start][0] < at - 60:
                total -= ordered[start][1]
                start += 1
            most = max(most, total)
        return most


async def draining(journal: Journal, stop: asyncio.Event) -> None:
    while not stop.is_set():
        await journal.drain()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=5)


async def main(jobs: int, batch: int, concurrency: int, budget: float) -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    machine()
    env = await dev_server()
    try:
        async with sandbox_process() as sandbox:
            with tempfile.TemporaryDirectory() as data:
                settings = bench_settings(
                    sandbox,
                    data,
                    job_import_concurrency=concurrency,
                    linkedin_batch_budget_seconds=budget,
                    webhooks=False,
                )
                async with running_worker(env.client, settings):
                    customer = await onboard(env.client, sandbox, settings)
                    await run(env.client, sandbox, settings, customer, jobs, batch)
    finally:
        await env.shutdown()


async def run(
    temporal: Any, sandbox: SandboxControl, settings: Settings, customer: str, jobs: int, batch: int
) -> None:
    address = temporal.service_client.config.target_host
    app = create_app(
        settings,
        lambda: connect(TEST_KEYS, target_host=address),
        app_secrets=StoredAppSecrets(settings),
    )
    server = ServerThread(app, health="/healthz").start()
    journal = Journal(sandbox)
    await journal.drain()
    journal.calls.clear()
    journal.submissions.clear()
    stop = asyncio.Event()
    drainer = asyncio.create_task(draining(journal, stop))
    listed_query = where(
        WorkflowType=JOB_WORKFLOW_TYPE, CustomerId=customer, JobStatus=JobStatus.LISTED
    ).query
    answered: Counter[str] = Counter()
    started = time.monotonic()
    try:
        async with httpx.AsyncClient(base_url=server.url, headers=API_AUTH, timeout=600) as http:
            for number, at in enumerate(range(0, jobs, batch)):
                body = {"jobs": [wire(f"imp-{i}") for i in range(at, min(at + batch, jobs))]}
                for _ in range(5):  # jobs Temporal did not take: the same key again
                    response = await http.post(
                        f"/v1/customers/{customer}/jobs/batch",
                        json=body,
                        headers={"Idempotency-Key": f"bench-{number}"},
                    )
                    response.raise_for_status()
                    answer = response.json()
                    unavailable = [j for j in answer["jobs"] if j["refusalReason"] == "Unavailable"]
                    answered.update(posts=1)
                    if not unavailable:
                        break
                    answered.update(resent=len(unavailable))
                answered.update(started=answer["started"], refused=answer["refused"])
        posted = time.monotonic() - started
        while (listed := (await temporal.count_workflows(listed_query)).count) < jobs:
            if time.monotonic() - started > 3600:
                print(f"gave up: {listed} of {jobs} listed after an hour")
                break
            await asyncio.sleep(2)
        done = time.monotonic() - started
    finally:
        stop.set()
        await drainer
        await journal.drain()
        server.stop()
    total_calls = sum(v for k, v in journal.calls.items() if k != "accessToken")
    largest = max((records for _, records in journal.submissions), default=0)
    table(
        f"Import of {jobs:,} jobs for one customer ({batch:,} a batch, "
        f"{settings.job_import_concurrency} starts at once, batcher budget "
        f"{settings.linkedin_batch_budget_seconds:g} s)",
        ("measure", "value"),
        [
            ("batches answered (every job's workflow started)", f"{posted / 60:.1f} min"),
            ("every job LISTED at LinkedIn", f"{done / 60:.1f} min"),
            ("jobs started / refused", f"{answered['started']:,} / {answered['refused']:,}"),
            (
                "batch POSTs (jobs Temporal did not take, sent again)",
                f"{answered['posts']:,} ({answered['resent']:,})",
            ),
            *(
                (f"LinkedIn calls: {endpoint}", f"{count:,}")
                for endpoint, count in sorted(journal.calls.items())
            ),
            ("LinkedIn job calls per job", f"{total_calls / jobs:.4f}"),
            ("largest simpleJobPostings call", f"{largest} jobs (LinkedIn: 100)"),
            (
                "most job records in any minute",
                f"{journal.busiest_minute():,} (premium limit {PREMIUM_RECORDS_PER_MINUTE:,})",
            ),
        ],
    )


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--budget", type=float, default=2.0, help="LINKEDIN_ATS_LINKEDIN_BATCH_BUDGET_SECONDS"
    )
    args = parser.parse_args()
    asyncio.run(main(args.jobs, args.batch, args.concurrency, args.budget))


if __name__ == "__main__":
    cli()
    sys.stdout.flush()
    os._exit(0)  # sdk-python#300: leave before interpreter teardown
