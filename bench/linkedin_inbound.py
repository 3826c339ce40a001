"""LinkedIn talking back, measured through our HTTP API as LinkedIn calls it, on one dev server.

    make bench-inbound    # or: .venv/bin/python -m bench.linkedin_inbound [--jobs N]

Prints, in markdown: (1) webhook intake, 100 concurrent signed POSTs to /linkedin/webhook
(p50/p99 of the 200, which is answered once the event is durable in Temporal), beside 100
concurrent bare workflow starts on the same server; (2) a resync of every open job of one
customer: time until LinkedIn has each job back as UPDATE, against LinkedIn's 30 minutes,
and LinkedIn calls per job; (3) one status check of every job: jobPostingStatus calls,
and what that costs for 10,000 jobs a day. The API runs in its own process (`linkedin-ats
api`), as do the worker, the sandbox and the dev server; this one plays LinkedIn. No
assertion on time: the numbers are for docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import structlog
from temporalio.client import Client

from bench.http_api import api_and_worker, spied
from bench.jobs import (
    BIN,
    bench_settings,
    create,
    healthy,
    journal,
    machine,
    onboard,
    sandbox_process,
    table,
    wire,
)
from bench.trivial import TrivialWorkflow
from cli.up import free_port
from client.jobs import JobsClient
from domain.job_workflow import JOB_STATUS_CHECKS_WORKFLOW_TYPE, JOB_WORKFLOW_TYPE
from domain.linkedin_events import SignatureForm, sign
from settings import Settings
from tests.sandbox_control import SandboxControl
from tests.temporal_support import TEST_KEYS_TEXT, dev_server, eventually
from workers.worker import credential_store

CONCURRENT = 100
ROUNDS = 5
PARTNER_SECRET = Settings().partner_client_secret.get_secret_value()
CHECKS_A_DAY = 4  # the default interval, 6 h


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def quantiles(values: list[float]) -> tuple[str, str, str]:
    return (
        f"{statistics.median(values) * 1000:.0f} ms",
        f"{p99(values) * 1000:.0f} ms",
        f"{max(values) * 1000:.0f} ms",
    )


@asynccontextmanager
async def api_process(
    client: Client, settings: Settings, port: int | None = None, profile: Path | None = None
) -> AsyncIterator[str]:
    port = port or free_port()
    env = {
        **os.environ,
        "TEMPORAL_ADDRESS": client.service_client.config.target_host,
        "LINKEDIN_ATS_PAYLOAD_KEYS": TEST_KEYS_TEXT,
        "LINKEDIN_ATS_TASK_QUEUE": settings.task_queue,
        "LINKEDIN_ATS_DATA_DIR": str(settings.data_dir),
    }
    command = [str(BIN / "linkedin-ats"), "api", "--port", str(port)]
    process = await asyncio.create_subprocess_exec(
        *spied(profile, "api", command),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        await healthy(f"{url}/healthz", 400)
        yield url
    finally:
        process.send_signal(2)  # SIGINT: py-spy writes its profile on the way out
        await process.wait()


class LinkedInSender:
    """LinkedIn's side of the door: kept-alive HTTP/1.1 connections, opened
    before anything is timed, each carrying one signed POST at a time. Bare asyncio streams,
    not httpx: a Python HTTP client's own cost, paid in the process that also measures,
    had been most of what the rows showed (the API logged p50 100 ms where httpx timed
    477 ms)."""

    def __init__(self, api_url: str, connections: int = CONCURRENT) -> None:
        self._connections = connections
        address = httpx.URL(api_url)
        self._host, self._port = address.host, address.port or 80
        self._idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = (
            asyncio.Queue()
        )

    async def __aenter__(self) -> LinkedInSender:
        for _ in range(self._connections):
            self._idle.put_nowait(await asyncio.open_connection(self._host, self._port))
        return self

    async def __aexit__(self, *_: object) -> None:
        while not self._idle.empty():
            self._idle.get_nowait()[1].close()

    async def post(self, path: str, raw: bytes, headers: Mapping[str, str]) -> float:
        """Seconds from the request's first byte to the whole 2xx answer."""
        reader, writer = await self._idle.get()
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        request = (
            f"POST {path} HTTP/1.1\r\nHost: {self._host}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(raw)}\r\n{head}\r\n"
        ).encode() + raw
        started = time.perf_counter()
        writer.write(request)
        status = (await reader.readline()).split()[1]
        length = 0
        while (line := await reader.readline()) != b"\r\n":
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        await reader.readexactly(length)
        took = time.perf_counter() - started
        self._idle.put_nowait((reader, writer))
        if not status.startswith(b"2"):
            raise RuntimeError(f"POST {path} answered {status.decode()}")
        return took


async def signed_post(sender: LinkedInSender, body: Mapping[str, object]) -> float:
    raw = json.dumps(body).encode()
    headers = {"X-LI-Signature": sign(raw, PARTNER_SECRET, SignatureForm.HMAC_OF_PREFIXED_BODY)}
    return await sender.post("/linkedin/webhook", raw, headers)


async def routing(client: Client) -> int:
    """Events still being taken in or routed: each round starts on a quiet engine, as the
    starts do."""
    taking_in = 'WorkflowType = "LinkedInIntakeWorkflow" AND ExecutionStatus = "Running"'
    query = 'WorkflowType = "LinkedInEventWorkflow" AND LinkedInEventOutcome = "RECEIVED"'
    return (await client.count_workflows(taking_in)).count + (
        await client.count_workflows(query)
    ).count


async def intake(client: Client, api_url: str, application: str, job: str) -> None:
    trivial_queue = f"trivial-{uuid.uuid4()}"  # no worker: a start is all that is timed

    async def start(i: int) -> float:
        started = time.perf_counter()
        await client.start_workflow(
            TrivialWorkflow.run, i, id=f"start-{uuid.uuid4()}", task_queue=trivial_queue
        )
        return time.perf_counter() - started

    ours: list[float] = []
    engine: list[float] = []
    for round_ in range(ROUNDS):
        engine += await asyncio.gather(*(start(i) for i in range(CONCURRENT)))
        bodies = [
            {
                "type": "JOB_POSTING_STATUS",
                "externalJobPostingId": job,
                "developerApplicationUrn": application,
                "listingStatus": "LISTED",
                "n": f"{round_}-{i}",
            }
            for i in range(CONCURRENT)
        ]
        async with LinkedInSender(api_url) as sender:  # the API closes idle ones after 5 s
            ours += await asyncio.gather(*(signed_post(sender, body) for body in bodies))
        await eventually(lambda: routing(client), lambda running: running == 0, within=600)
    table(
        f"(1) webhook intake: {CONCURRENT} concurrent signed POSTs, {ROUNDS} rounds, each "
        "answered once durable in Temporal",
        ("path", "requests", "p50", "p99", "max"),
        [
            ("`POST /linkedin/webhook` (our API)", len(ours), *quantiles(ours)),
            ("bare `start_workflow` (the engine)", len(engine), *quantiles(engine)),
            ("ratio p99 ours / engine", "", "", f"{p99(ours) / p99(engine):.1f}", ""),
        ],
    )


async def post_jobs(jobs: JobsClient, customer: str, count: int) -> list[str]:
    ids = [f"open-{i}" for i in range(count)]
    gate = asyncio.Semaphore(200)

    async def one(external_id: str) -> None:
        async with gate:  # sent again when the busy server gave up waiting for the worker
            await create(jobs, customer, external_id, wait=False)

    await asyncio.gather(*(one(i) for i in ids))
    return ids


async def listed(client: Client, customer: str) -> int:
    query = (
        f'WorkflowType = "{JOB_WORKFLOW_TYPE}" AND CustomerId = "{customer}" '
        'AND JobStatus = "LISTED"'
    )
    return (await client.count_workflows(query)).count


async def updates_back(sandbox: SandboxControl, seen: set[str]) -> int:
    for entry in await sandbox.requests():
        if entry["method"] == "POST" and entry["path"].endswith("/simpleJobPostings"):
            for element in (entry["body"] or {}).get("elements", []):
                if element.get("jobPostingOperationType") == "UPDATE":
                    seen.add(element["externalJobPostingId"])
    return len(seen)


async def quiet(sandbox: SandboxControl, seconds: float = 3.0) -> bool:
    """Whether LinkedIn received nothing for `seconds`."""
    before = len(await sandbox.requests())
    await asyncio.sleep(seconds)
    return len(await sandbox.requests()) == before


async def resync_and_checks(
    client: Client, settings: Settings, sandbox: SandboxControl, api_url: str, count: int
) -> None:
    customer = await onboard(client, sandbox, settings)
    jobs = JobsClient(client, task_queue=settings.task_queue)
    started = time.perf_counter()
    await post_jobs(jobs, customer, count)
    await eventually(lambda: listed(client, customer), lambda n: n >= count, within=3600)
    posted = time.perf_counter() - started
    stored = await credential_store(settings).get(customer)
    assert stored is not None
    await journal(sandbox)

    body = {
        "type": "RESYNC_JOBS",
        "developerApplicationUrn": stored.application_key,
        "syncAllOpenJobs": True,
    }
    seen: set[str] = set()
    async with LinkedInSender(api_url, connections=1) as sender:
        requested = time.perf_counter()
        answered = await signed_post(sender, body)
        await eventually(lambda: updates_back(sandbox, seen), lambda n: n >= count, within=3600)
    back = time.perf_counter() - requested
    await asyncio.sleep(3 * settings.job_task_poll_seconds)  # the last tasks are read back
    calls = await journal(sandbox)
    job_calls = sum(calls[e] for e in ("simpleJobPostings", "simpleJobPostingTasks"))
    status_calls = calls["jobPostingStatus"]
    table(
        f"(2) resync of every open job of one customer ({count} jobs, `syncAllOpenJobs`)",
        ("jobs", "answer", "all back at LinkedIn", "LinkedIn's limit", "calls/job", "of them"),
        [
            (
                count,
                f"{answered * 1000:.0f} ms",
                f"{back / 60:.1f} min",
                "30 min",
                f"{(job_calls + status_calls) / count:.3f}",
                f"{calls['simpleJobPostings']} posts, {calls['simpleJobPostingTasks']} task "
                f"reads, {status_calls} status reads",
            )
        ],
    )

    checked = time.perf_counter()
    told = await client.execute_workflow(
        JOB_STATUS_CHECKS_WORKFLOW_TYPE,
        timedelta(minutes=30),
        id=f"checks-{uuid.uuid4()}",
        task_queue=settings.task_queue,
        result_type=int,
    )
    # the reads follow the signals: wait until the journal stops growing
    await eventually(lambda: quiet(sandbox), lambda still: still, within=3600)
    took = time.perf_counter() - checked
    reads = (await journal(sandbox))["jobPostingStatus"]
    a_day = reads / max(told, 1) * 10_000 * CHECKS_A_DAY
    table(
        "(3) one status check of every live job (`JobStatusChecksWorkflow`)",
        ("jobs told", "jobPostingStatus calls", "ids/call", "took", "10,000 jobs a day (4 checks)"),
        [(told, reads, f"{told / max(reads, 1):.0f}", f"{took:.0f} s", f"{a_day:.0f} calls")],
    )
    print(f"\n(posting the {count} jobs first took {posted / 60:.1f} min)")


async def main(count: int, profile: Path | None) -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    machine()
    env = await dev_server()
    try:
        async with sandbox_process() as sandbox:
            with tempfile.TemporaryDirectory() as data:
                settings = bench_settings(sandbox, data)
                async with api_and_worker(env.client, settings, sandbox, profile) as processes:
                    api_url = processes.api_url
                    customer = await onboard(env.client, sandbox, settings)
                    jobs = JobsClient(env.client, task_queue=settings.task_queue)
                    await jobs.create(customer, wire("watched"), wait=True)
                    stored = await credential_store(settings).get(customer)
                    assert stored is not None
                    await intake(env.client, api_url, stored.application_key, "watched")
                    if count:
                        await resync_and_checks(env.client, settings, sandbox, api_url, count)
    finally:
        await env.shutdown()


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--jobs", type=int, default=5000, help="open jobs to resync and check (0: intake only)"
    )
    parser.add_argument("--profile", type=Path, help="run the API under py-spy; profile here")
    args = parser.parse_args()
    asyncio.run(main(args.jobs, args.profile))


if __name__ == "__main__":
    cli()
    sys.stdout.flush()
    os._exit(0)  # sdk-python#300: leave before interpreter teardown
