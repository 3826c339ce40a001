"""Job operations held against the engine itself (issue 11), on one dev server.

    make bench        # or: .venv/bin/python -m bench.jobs [--idle N]

Prints, in markdown: the trivial workflow+activity rate beside ours and their ratio;
LinkedIn calls per job operation at concurrency 1, 10, 100 and 1,000 (counted from the
sandbox's journal), batched and, for comparison, unbatched; p50/p95 latency per
operation; Temporal billable actions per lifecycle counted from the histories; and idle
job workflows held by one worker process, with its RSS. No assertion on time anywhere:
the numbers are for people (docs/performance.md), not for CI.

The sandbox runs in its own process (LinkedIn is another machine), tasks finish at once;
the dev server keeps its state in memory; workers run in this process except the idle
one, which is `linkedin-ats worker` in its own so that its RSS is its own.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import structlog
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.jobs import JobActivities, JobTiming
from bench.trivial import TrivialWorkflow, noop
from cli.up import free_port
from client.errors import Refused
from client.jobs import JobsClient
from domain.job_postings import JobPosting
from domain.job_workflow import (
    JOB_WAKEUPS_WORKFLOW_TYPE,
    JOB_WORKFLOW_TYPE,
    JobStatus,
    Operation,
    OperationOutcome,
    job_workflow_id,
)
from domain.visibility import where
from linkedin import LinkedInClient
from settings import Settings
from tests.conftest import PARTNER
from tests.jobs_support import job_fields, onboard_with_contract
from tests.sandbox_control import SandboxControl
from tests.temporal_support import TEST_KEYS, dev_server
from workers.worker import (
    WORKFLOW_RUNNER,
    WORKFLOWS,
    credential_store,
    linkedin_client,
    running_worker,
)

BIN = Path(sys.executable).parent
CONTRACT = "urn:li:contract:555"
JOB_ENDPOINTS = ("simpleJobPostings", "simpleJobPostingTasks", "jobPostingStatus")
LIFECYCLE = ("CREATE", "UPDATE", "UPGRADE", "DOWNGRADE", "CLOSE")


def table(title: str, header: tuple[str, ...], rows: Iterable[tuple[Any, ...]]) -> None:
    """A markdown table, ready to paste into docs/performance.md."""
    print(f"\n### {title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join(" --- " for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join(str(cell) for cell in row) + " |")
    sys.stdout.flush()


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


def p50_p95(values: list[float]) -> tuple[str, str]:
    ordered = sorted(values)
    return ms(statistics.median(ordered)), ms(ordered[round(0.95 * (len(ordered) - 1))])


def bench_settings(sandbox: SandboxControl, data: str, **overrides: Any) -> Settings:
    """One run's settings: the sandbox as LinkedIn, a task queue and data dir of its own."""
    return Settings(
        linkedin_api_url=sandbox.url,
        linkedin_oauth_url=sandbox.url,
        task_queue=f"bench-{uuid.uuid4()}",
        data_dir=Path(data),
        **overrides,
    )


async def healthy(url: str, tries: int = 400) -> None:
    """Until `url` answers 2xx (a process just started), at most `tries` times 50 ms."""
    async with httpx.AsyncClient() as http:
        for _ in range(tries):
            try:
                (await http.get(url)).raise_for_status()
                return
            except httpx.HTTPError:
                await asyncio.sleep(0.05)


def wire(external_id: str, **overrides: Any) -> dict[str, Any]:
    return JobPosting.model_validate(job_fields(external_id, **overrides)).to_wire()


@dataclass
class Stack:
    env: WorkflowEnvironment
    sandbox: SandboxControl
    settings: Settings
    customer: str
    jobs: JobsClient
    """On the batched worker's task queue."""

    def queue(self, task_queue: str) -> JobsClient:
        return JobsClient(self.env.client, task_queue=task_queue)


# -- the sandbox in its own process ---------------------------------------------------------


@asynccontextmanager
async def sandbox_process() -> AsyncIterator[SandboxControl]:
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        str(BIN / "linkedin-ats"),
        "sandbox",
        "--port",
        str(port),
        "--task-delay",
        "0",
        stdout=subprocess.DEVNULL,
    )
    control = SandboxControl(f"http://127.0.0.1:{port}")
    try:
        for _ in range(200):
            try:
                (await control.http.get("/sandbox/health")).raise_for_status()
                break
            except httpx.HTTPError:
                await asyncio.sleep(0.05)
        yield control
    finally:
        await control.http.aclose()
        process.terminate()
        await process.wait()


async def journal(sandbox: SandboxControl) -> Counter[str]:
    """LinkedIn calls since the last clear, by endpoint; then clear."""
    counts: Counter[str] = Counter()
    for entry in await sandbox.requests():
        path = str(entry["path"]).rstrip("/")
        counts["accessToken" if path.startswith("/oauth") else path.rsplit("/", 1)[-1]] += 1
    (await sandbox.http.delete("/sandbox/requests")).raise_for_status()
    return counts


async def onboard(client: Client, sandbox: SandboxControl, settings: Settings) -> str:
    """A customer onboarded for jobs, with premium contract 555 enabled (for upgrades)."""
    customer = f"bench-{uuid.uuid4().hex[:6]}"
    async with LinkedInClient(api_url=sandbox.url, oauth_url=sandbox.url, partner=PARTNER) as li:
        await onboard_with_contract(li, sandbox, settings, client, customer, CONTRACT)
    return customer


# -- workers ----------------------------------------------------------------------------------


@asynccontextmanager
async def unbatched_worker(client: Client, settings: Settings) -> AsyncIterator[str]:
    """Job workflows whose activity calls LinkedInClient directly: how main ran before."""
    task_queue = f"unbatched-{uuid.uuid4()}"
    linkedin = linkedin_client(settings)
    timing = JobTiming(task_poll_seconds=settings.job_task_poll_seconds)
    # LinkedInClient has the batcher's three methods, one call each.
    activities = JobActivities(linkedin, credential_store(settings), client, timing)  # type: ignore[arg-type]
    worker = Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        workflow_runner=WORKFLOW_RUNNER,
        activities=[activities.run_job_operation, activities.notify_jobs_of_enabled_contract],
    )
    async with worker:
        yield task_queue
    await linkedin.aclose()


# -- measurements -----------------------------------------------------------------------------


async def finished(jobs: JobsClient, customer: str, external_id: str, op: Operation) -> Operation:
    while not (op.outcome.is_final or op.outcome == OperationOutcome.NEEDS_ATTENTION):
        op = await jobs.await_operation(customer, external_id, op.id)
    return op


async def create(jobs: JobsClient, customer: str, external_id: str, wait: bool) -> Operation:
    """CREATE, sent again when the server gave up waiting for the busy worker to accept it;
    a CREATE that got through the first time is then refused, and read back instead."""
    for _ in range(10):
        try:
            return await jobs.create(customer, wire(external_id), wait=wait)
        except (WorkflowUpdateRPCTimeoutOrCancelledError, RPCError) as error:
            if isinstance(error, RPCError) and error.status != RPCStatusCode.DEADLINE_EXCEEDED:
                raise
        except Refused as refusal:
            if "already exists" not in refusal.message:
                raise
            return (await jobs.state(customer, external_id)).operations[0]
    return await jobs.create(customer, wire(external_id), wait=wait)


async def creates(jobs: JobsClient, customer: str, count: int) -> tuple[list[float], float]:
    """`count` concurrent CREATEs, each awaited to its end: latencies and total seconds."""
    prefix = uuid.uuid4().hex[:6]

    async def one(i: int) -> float:
        external_id = f"c{prefix}-{i}"
        started = time.perf_counter()
        op = await create(jobs, customer, external_id, wait=True)
        op = await finished(jobs, customer, external_id, op)
        assert op.outcome == OperationOutcome.SUCCEEDED, op
        return time.perf_counter() - started

    started = time.perf_counter()
    latencies = await asyncio.gather(*(one(i) for i in range(count)))
    return list(latencies), time.perf_counter() - started


TRIVIAL_RUNNER = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules("bench")
)
"""The yardstick runs as ours does: its module passes through the sandbox too."""


async def trivial(client: Client, count: int) -> float:
    """`count` concurrent trivial workflows, each one no-op activity: total seconds."""
    task_queue = f"trivial-{uuid.uuid4()}"
    prefix = uuid.uuid4().hex[:6]
    worker = Worker(
        client,
        task_queue=task_queue,
        workflows=[TrivialWorkflow],
        activities=[noop],
        workflow_runner=TRIVIAL_RUNNER,
    )
    async with worker:
        started = time.perf_counter()
        await asyncio.gather(
            *(
                client.execute_workflow(
                    TrivialWorkflow.run, i, id=f"trivial-{prefix}-{i}", task_queue=task_queue
                )
                for i in range(count)
            )
        )
        return time.perf_counter() - started


async def engine_ratio(stack: Stack, count: int = 200, rounds: int = 2) -> None:
    rows: list[tuple[Any, ...]] = []
    ratios = []
    for round_ in range(1, rounds + 1):
        trivial_rate = count / await trivial(stack.env.client, count)
        _, seconds = await creates(stack.jobs, stack.customer, count)
        ours = count / seconds
        ratios.append(ours / trivial_rate)
        rows.append(
            (round_, count, f"{trivial_rate:.1f}", f"{ours:.1f}", f"{ours / trivial_rate:.2f}")
        )
    rows.append(("mean", "", "", "", f"{statistics.mean(ratios):.2f} (goal ≥ 0.5)"))
    table(
        f"(a) {count} concurrent CREATEs (awaited) beside {count} trivial workflow+activity "
        "pairs, same dev server",
        ("round", "concurrent", "trivial workflows/s", "job operations/s", "ratio"),
        rows,
    )


async def calls_per_operation(stack: Stack, unbatched_queue: str) -> None:
    rows = []
    await journal(stack.sandbox)
    for label, jobs, levels in (
        ("batched", stack.jobs, (1, 10, 100, 1000)),
        ("unbatched", stack.queue(unbatched_queue), (1, 10, 100)),
    ):
        for count in levels:
            repeat = 20 if count == 1 else 1  # one lone operation at a time, 20 times
            latencies: list[float] = []
            seconds = 0.0
            for _ in range(repeat):
                lat, took = await creates(jobs, stack.customer, count)
                latencies += lat
                seconds += took
            calls = await journal(stack.sandbox)
            operations = count * repeat
            job_calls = sum(calls[e] for e in JOB_ENDPOINTS)
            p50, p95 = p50_p95(latencies)
            rows.append(
                (
                    label,
                    count,
                    operations,
                    *(calls[e] for e in JOB_ENDPOINTS),
                    calls["accessToken"],
                    f"{job_calls / operations:.3f}",
                    p50,
                    p95,
                    f"{operations / seconds:.1f}",
                )
            )
    table(
        "(b, d) CREATE at concurrency N: LinkedIn calls per operation (sandbox journal) and "
        "latency (goal ≤ 0.1 calls per operation at 100+)",
        (
            "worker",
            "concurrent",
            "operations",
            "simpleJobPostings",
            "simpleJobPostingTasks",
            "jobPostingStatus",
            "token",
            "calls/operation",
            "p50 ms",
            "p95 ms",
            "operations/s",
        ),
        rows,
    )


BILLABLE = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED: "workflow starts",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW: "workflow starts",
    EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: "activity attempts",
    EventType.EVENT_TYPE_TIMER_STARTED: "timers",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED: "updates",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED: "signals",
    EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: "upserts",
    EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED: "child workflows",
}
CATEGORIES = list(dict.fromkeys(BILLABLE.values()))
VERSION_MARKERS = "workflow versioning (patched's marker and TemporalChangeVersion; not billed)"


async def actions(client: Client, handle: WorkflowHandle[Any, Any]) -> Counter[str]:
    """Billable actions in one workflow's history and its children's (Temporal Cloud's
    list, less heartbeats and queries, which histories do not show)."""
    counts: Counter[str] = Counter()
    async for event in handle.fetch_history_events():
        category = BILLABLE.get(event.event_type)
        if is_versioning(event):
            category = VERSION_MARKERS
        if category is not None:
            counts[category] += 1
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            counts["activity attempts"] += event.activity_task_started_event_attributes.attempt - 1
        if event.event_type == EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED:
            child = event.child_workflow_execution_started_event_attributes.workflow_execution
            counts["child workflows"] += 2  # Cloud: one for the start, one for the execution
            child_handle = client.get_workflow_handle(child.workflow_id, run_id=child.run_id)
            await child_handle.result()
            inside = await actions(client, child_handle)
            inside["workflow starts"] -= 1  # counted as the child's start above
            counts += Counter({f"{k} (in children)": v for k, v in inside.items() if v})
    return counts


def is_versioning(event: HistoryEvent) -> bool:
    """workflow.patched's marker, and its TemporalChangeVersion upsert, which Temporal
    Cloud exempts from action counting."""
    if event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED:
        return True
    if event.event_type != EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
        return False
    fields = event.upsert_workflow_search_attributes_event_attributes.search_attributes
    return set(fields.indexed_fields) == {"TemporalChangeVersion"}


def billed(counts: Counter[str]) -> int:
    return sum(n for category, n in counts.items() if category != VERSION_MARKERS)


async def sweep_actions(stack: Stack) -> None:
    """What the wake-up sweep, which replaces each job's own timers, costs per run."""
    handle = await stack.env.client.start_workflow(
        JOB_WAKEUPS_WORKFLOW_TYPE,
        timedelta(minutes=1),
        id=f"bench-wakeups/{uuid.uuid4()}",
        task_queue=stack.settings.task_queue,
    )
    await handle.result()
    per_run = billed(await actions(stack.env.client, handle)) + 1  # + the schedule's action
    table(
        "(c2) The job wake-up sweep (one schedule for every job), billable actions",
        ("what", "actions"),
        [
            ("one run: the schedule's action, the workflow start, its activity", per_run),
            ("a day at the default interval (15 min)", per_run * 96),
            ("each job it wakes (a due auto-renew or expiry)", "+1 signal"),
        ],
    )


async def lifecycle(
    jobs: JobsClient, customer: str, external_id: str, wait: bool
) -> dict[str, float]:
    """create, update, upgrade, downgrade, close of one job; latency of each."""
    steps: dict[str, Callable[[], Awaitable[Operation]]] = {
        "CREATE": lambda: jobs.create(customer, wire(external_id), wait=wait),
        "UPDATE": lambda: jobs.update(
            customer, wire(external_id, title="Staff Engineer"), wait=wait
        ),
        "UPGRADE": lambda: jobs.upgrade(customer, external_id, CONTRACT, wait=wait),
        "DOWNGRADE": lambda: jobs.downgrade(customer, external_id, wait=wait),
        "CLOSE": lambda: jobs.close(customer, external_id, wait=wait),
    }
    latency: dict[str, float] = {}
    for kind, step in steps.items():
        started = time.perf_counter()
        op = await step()
        if wait:
            op = await finished(jobs, customer, external_id, op)
            assert op.outcome == OperationOutcome.SUCCEEDED, (kind, op)
        latency[kind] = time.perf_counter() - started
    return latency


async def lifecycles(stack: Stack, count: int = 20) -> None:
    client = stack.env.client
    prefix = uuid.uuid4().hex[:6]
    ids = [f"l{prefix}-{i}" for i in range(count)]
    results = await asyncio.gather(*(lifecycle(stack.jobs, stack.customer, i, True) for i in ids))
    handles = [client.get_workflow_handle(job_workflow_id(stack.customer, i)) for i in ids]
    await asyncio.gather(*(h.result() for h in handles))
    waited = [await actions(client, h) for h in handles]

    async def one(external_id: str, jobs: JobsClient, wait: bool) -> Counter[str]:
        await lifecycle(jobs, stack.customer, external_id, wait)
        handle = client.get_workflow_handle(job_workflow_id(stack.customer, external_id))
        await handle.result()
        return await actions(client, handle)

    not_waited = await one(f"q{prefix}", stack.jobs, False)
    webhooks = JobsClient(client, task_queue=stack.settings.task_queue, webhooks=True)
    with_webhooks = await one(f"w{prefix}", webhooks, True)

    def mean(category: str) -> float:
        return statistics.mean(c[category] for c in waited)

    categories = list(dict.fromkeys([*CATEGORIES, *with_webhooks]))
    rows: list[tuple[Any, ...]] = [
        (category, f"{mean(category):.1f}", not_waited[category], with_webhooks[category])
        for category in categories
        if mean(category) or not_waited[category] or with_webhooks[category]
    ]
    totals = (
        statistics.mean(billed(c) for c in waited),
        billed(not_waited),
        billed(with_webhooks),
    )
    rows.append(("**total**", f"{totals[0]:.1f}", *totals[1:]))
    rows.append(("**per operation** (goal ≤ 3)", *(f"{t / len(LIFECYCLE):.2f}" for t in totals)))
    table(
        "(c) Temporal billable actions per lifecycle (create, update, upgrade, downgrade, "
        "close of one job), from the histories; child workflows count twice at Temporal Cloud",
        (
            "action",
            f"calls wait for the outcome (mean of {count} jobs)",
            "calls do not wait",
            "calls wait, webhooks on (no endpoint registered)",
        ),
        rows,
    )
    table(
        f"(d) Latency per operation, {count} jobs' lifecycles at once, each call awaited",
        ("operation", "p50 ms", "p95 ms"),
        [(kind, *p50_p95([r[kind] for r in results])) for kind in LIFECYCLE],
    )


# -- idle workflows on one worker process -----------------------------------------------------


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def dev_server_pid() -> int | None:
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if command and command[0] == str(BIN / "temporal").encode() and b"start-dev" in command:
            return int(entry.name)
    return None


async def idle_workflows(stack: Stack, target: int, budget_seconds: float) -> None:
    task_queue = f"idle-{uuid.uuid4()}"
    customer = await onboard(stack.env.client, stack.sandbox, stack.settings)
    env = {
        **os.environ,
        "TEMPORAL_ADDRESS": stack.env.client.service_client.config.target_host,
        "TEMPORAL_NAMESPACE": stack.env.client.namespace,
        "LINKEDIN_ATS_LINKEDIN_API_URL": stack.sandbox.url,
        "LINKEDIN_ATS_LINKEDIN_OAUTH_URL": stack.sandbox.url,
        "LINKEDIN_ATS_TASK_QUEUE": task_queue,
        "LINKEDIN_ATS_DATA_DIR": str(stack.settings.data_dir),
        "LINKEDIN_ATS_METRICS_ADDRESS": f"127.0.0.1:{free_port()}",
        "LINKEDIN_ATS_PAYLOAD_KEYS": TEST_KEYS.dumps().strip(),  # the dev server's client's
    }
    worker_log = (stack.settings.data_dir / "idle-worker.log").open("wb")
    worker = await asyncio.create_subprocess_exec(
        str(BIN / "linkedin-ats"),
        "worker",
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=worker_log,
    )
    try:
        await asyncio.sleep(5)
        if worker.returncode is not None:
            log = (stack.settings.data_dir / "idle-worker.log").read_text()[-2000:]
            raise RuntimeError(f"`linkedin-ats worker` exited with {worker.returncode}: {log}")
        baseline = rss_mb(worker.pid)
        jobs = stack.queue(task_queue)
        prefix = uuid.uuid4().hex[:6]
        gate = asyncio.Semaphore(200)
        deadline = time.monotonic() + budget_seconds
        started_jobs = 0

        async def one(i: int) -> None:
            nonlocal started_jobs
            async with gate:
                if time.monotonic() > deadline:
                    return
                await create(jobs, customer, f"i{prefix}-{i}", wait=False)
                started_jobs += 1

        began = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(target)))
        query = where(
            WorkflowType=JOB_WORKFLOW_TYPE, CustomerId=customer, JobStatus=JobStatus.LISTED
        ).query
        listed = 0
        settle = time.monotonic() + 180
        while time.monotonic() < settle:
            listed = (await stack.env.client.count_workflows(query)).count
            if listed >= started_jobs:
                break
            await asyncio.sleep(2)
        seconds = time.perf_counter() - began
        await asyncio.sleep(5)  # let the worker go idle
        server = dev_server_pid()
        rows = [
            (
                "job workflows started (each one CREATE, then idle)",
                f"{started_jobs:,} of {target:,}",
            ),
            ("of them LISTED, idle until an operation or their wake-up", f"{listed:,}"),
            ("time to start and list them", f"{seconds:.0f} s ({started_jobs / seconds:.0f}/s)"),
            ("worker RSS before the jobs", f"{baseline:.0f} MB"),
            ("worker RSS with the jobs idle", f"{rss_mb(worker.pid):.0f} MB"),
            ("worker peak RSS", f"{rss_mb(worker.pid, 'VmHWM'):.0f} MB"),
            (
                "dev server RSS (in-memory SQLite, everything this run started)",
                f"{rss_mb(server):.0f} MB" if server else "not found",
            ),
        ]
    finally:
        if worker.returncode is None:
            worker.terminate()
        await worker.wait()
        worker_log.close()
    table(
        f"(e) Idle job workflows on one dev server, one `linkedin-ats worker` process "
        f"(start budget {budget_seconds:.0f} s)",
        ("what", "measured"),
        rows,
    )


# -- the run --------------------------------------------------------------------------------


def machine() -> None:
    free = subprocess.run(["free", "-h"], capture_output=True, text=True).stdout
    print("\n### Machine\n")
    print(
        f"`nproc`: {os.cpu_count()}; {platform.processor() or platform.machine()}; "
        f"Python {platform.python_version()}; {platform.platform()}\n"
    )
    print("```\n" + free.rstrip() + "\n```")
    sys.stdout.flush()


async def main(parts: str, idle: int, idle_seconds: float) -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    machine()
    env = await dev_server()
    try:
        async with sandbox_process() as sandbox:
            with tempfile.TemporaryDirectory() as data:
                settings = bench_settings(sandbox, data)
                async with running_worker(env.client, settings):
                    customer = await onboard(env.client, sandbox, settings)
                    stack = Stack(
                        env,
                        sandbox,
                        settings,
                        customer,
                        JobsClient(env.client, task_queue=settings.task_queue),
                    )
                    if "a" in parts:
                        await engine_ratio(stack)
                    if "b" in parts:
                        async with unbatched_worker(env.client, settings) as unbatched:
                            await calls_per_operation(stack, unbatched)
                    if "c" in parts:
                        await lifecycles(stack)
                        await sweep_actions(stack)
                    if "e" in parts and idle:
                        await idle_workflows(stack, idle, idle_seconds)
    finally:
        await env.shutdown()


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--parts", default="abce", help="tables to measure: a, b, c, e")
    parser.add_argument("--idle", type=int, default=10_000, help="idle job workflows (0: skip)")
    parser.add_argument("--idle-seconds", type=float, default=300, help="time to start them")
    args = parser.parse_args()
    asyncio.run(main(args.parts, args.idle, args.idle_seconds))


if __name__ == "__main__":
    cli()
    sys.stdout.flush()
    os._exit(0)  # sdk-python#300: leave before interpreter teardown
