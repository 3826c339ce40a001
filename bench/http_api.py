"""Job operations through the HTTP API, as an ATS sends them (issue 22), on one dev server.

    make bench        # or: .venv/bin/python -m bench.http_api [--seconds 60] [--profile DIR]

Prints, in markdown, one row per traffic shape: bursts of 200 and 1,000 concurrent
`PUT /v1/customers/{c}/jobs/{id}?wait=true`, and Poisson streams at 1, 10 and 20
operations/s (each for `--seconds`), for one customer and for 20. Each row has the
engine's trivial workflow+activity rate measured just before it in the same run, our
rate and the ratio, LinkedIn calls per operation by endpoint (the sandbox's journal),
p50/p95 latency of the PUT until the operation's outcome, the API process's CPU (from
/proc) and the load average. No assertion on time: the numbers are for people
(docs/performance.md), not for CI.

Processes: the dev server, the sandbox (`linkedin-ats sandbox`, tasks finish at once), the
API (`linkedin-ats api`) and the worker (`linkedin-ats worker`) each in its own; this one
sends the requests and runs the trivial yardstick's worker. With `--profile DIR` the API
and the worker run under py-spy, which writes a flame graph of each to DIR.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import structlog
from temporalio.client import Client

from bench.jobs import (
    BIN,
    JOB_ENDPOINTS,
    bench_settings,
    healthy,
    journal,
    machine,
    onboard,
    sandbox_process,
    table,
    trivial,
    wire,
)
from cli.up import free_port
from domain.job_workflow import MAX_WAIT_SECONDS
from settings import Settings
from tests.sandbox_control import SandboxControl
from tests.temporal_support import TEST_KEYS_TEXT, dev_server

TOKEN = "bench-token"
FINAL = {"SUCCEEDED", "FAILED", "CANCELLED"}
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


@dataclass
class Processes:
    api_url: str
    api_pid: int
    worker_pid: int


def environment(client: Client, settings: Settings, sandbox: SandboxControl) -> dict[str, str]:
    public = {"LINKEDIN_ATS_PUBLIC_URL": settings.public_url} if settings.public_url else {}
    return {
        **public,
        **os.environ,
        "TEMPORAL_ADDRESS": client.service_client.config.target_host,
        "TEMPORAL_NAMESPACE": client.namespace,
        "LINKEDIN_ATS_LINKEDIN_API_URL": sandbox.url,
        "LINKEDIN_ATS_LINKEDIN_OAUTH_URL": sandbox.url,
        "LINKEDIN_ATS_TASK_QUEUE": settings.task_queue,
        "LINKEDIN_ATS_DATA_DIR": str(settings.data_dir),
        "LINKEDIN_ATS_PAYLOAD_KEYS": TEST_KEYS_TEXT,
        "LINKEDIN_ATS_API_TOKEN": TOKEN,
    }


def spied(profile: Path | None, name: str, command: list[str]) -> list[str]:
    """The command, under py-spy (one speedscope profile in `profile`) when asked."""
    if profile is None:
        return command
    os.makedirs(profile, exist_ok=True)
    output = str(profile / f"{name}.speedscope.json")
    spy = [str(BIN / "py-spy"), "record", "--idle", "--rate", "50", "--format", "speedscope"]
    return [*spy, "--output", output, "--", *command]


@asynccontextmanager
async def api_and_worker(
    client: Client,
    settings: Settings,
    sandbox: SandboxControl,
    profile: Path | None,
    port: int | None = None,
) -> AsyncIterator[Processes]:
    """`linkedin-ats api` and `linkedin-ats worker`, each its own process; under py-spy with
    `profile`."""
    env = environment(client, settings, sandbox)
    port = port or free_port()
    api_command = spied(profile, "api", [str(BIN / "linkedin-ats"), "api", "--port", str(port)])
    worker_command = spied(profile, "worker", [str(BIN / "linkedin-ats"), "worker"])
    logs = settings.data_dir
    worker = await asyncio.create_subprocess_exec(
        *worker_command,
        env={**env, "LINKEDIN_ATS_METRICS_ADDRESS": f"127.0.0.1:{free_port()}"},
        stdout=subprocess.DEVNULL,
        stderr=(logs / "worker.log").open("wb"),
    )
    api = await asyncio.create_subprocess_exec(
        *api_command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(logs / "api.log").open("wb"),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        await healthy(f"{url}/healthz", 600)
        if profile is None:
            yield Processes(url, api.pid, worker.pid)
        else:
            yield Processes(url, children(api.pid)[0], children(worker.pid)[0])
    finally:
        for process in (api, worker):
            if process.returncode is None:
                process.send_signal(2)  # SIGINT: py-spy writes its profile on the way out
        for process in (api, worker):
            try:
                await asyncio.wait_for(process.wait(), 60)
            except TimeoutError:
                process.kill()
                await process.wait()


# -- one operation, as an ATS sends it -------------------------------------------------------


async def put(http: httpx.AsyncClient, customer: str, external_id: str) -> float | None:
    """PUT a new job with wait=true, then (if the answer came before the outcome) read the
    operation until it has one: seconds from the request to its outcome."""
    path = f"/v1/customers/{customer}/jobs/{external_id}"
    started = time.perf_counter()
    try:
        return await _put(http, path, external_id, started)
    except httpx.HTTPStatusError:  # the API kept answering 5xx: counted, not timed
        return None


async def _put(http: httpx.AsyncClient, path: str, external_id: str, started: float) -> float:
    operation = (
        await sent(
            lambda: http.put(
                path,
                params={"wait": "true", "waitSeconds": str(MAX_WAIT_SECONDS)},
                json=wire(external_id),
                headers={"Idempotency-Key": f"put-{external_id}"},
            )
        )
    ).json()
    wait = {"waitSeconds": str(MAX_WAIT_SECONDS)}
    read = partial(http.get, f"{path}/operations/{operation['id']}", params=wait)
    while operation["outcome"] not in FINAL:
        operation = (await sent(read)).json()
    if operation["outcome"] != "SUCCEEDED":
        raise RuntimeError(f"{external_id}: {operation}")
    return time.perf_counter() - started


async def sent(request: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response:
    """The answer, the request sent again (it is idempotent) after a connection the server
    closed while idle (uvicorn keeps one alive 5 s) or a 5xx."""
    for _ in range(20):
        try:
            answer = await request()
        except httpx.TransportError:
            await asyncio.sleep(0.5)
            continue
        if answer.status_code < 500:
            return answer.raise_for_status()
        await asyncio.sleep(1)
    return (await request()).raise_for_status()


@dataclass
class Measured:
    answers: list[float | None]

    @property
    def latencies(self) -> list[float]:
        return [a for a in self.answers if a is not None]

    @property
    def failed(self) -> int:
        return sum(a is None for a in self.answers)

    seconds: float
    """From the first request to the last outcome."""


async def burst(http: httpx.AsyncClient, customers: list[str], count: int) -> Measured:
    prefix = uuid.uuid4().hex[:6]
    started = time.perf_counter()
    latencies = await asyncio.gather(
        *(put(http, customers[i % len(customers)], f"b{prefix}-{i}") for i in range(count))
    )
    return Measured(list(latencies), time.perf_counter() - started)


async def stream(
    http: httpx.AsyncClient, customers: list[str], rate: float, seconds: float
) -> Measured:
    """Poisson arrivals at `rate` a second for `seconds`, each awaited to its outcome."""
    prefix = uuid.uuid4().hex[:6]
    rng = random.Random(f"{rate}-{len(customers)}")
    arrivals: list[float] = []
    at = rng.expovariate(rate)
    while at < seconds:
        arrivals.append(at)
        at += rng.expovariate(rate)
    started = time.perf_counter()

    async def one(i: int, due: float) -> float | None:
        await asyncio.sleep(max(0.0, started + due - time.perf_counter()))
        return await put(http, customers[i % len(customers)], f"s{prefix}-{i}")

    latencies = await asyncio.gather(*(one(i, due) for i, due in enumerate(arrivals)))
    return Measured(list(latencies), time.perf_counter() - started)


# -- rows ----------------------------------------------------------------------------------


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[round(q * (len(ordered) - 1))]


HEADER = (
    "path",
    "customers",
    "operations",
    "engine wf/s",
    "job ops/s",
    "ratio",
    *JOB_ENDPOINTS,
    "token",
    "LinkedIn calls/op",
    "p50 s",
    "p95 s",
    "API CPU s (ms/op)",
    "worker CPU s (ms/op)",
    "load avg (1 min)",
)


async def row(
    label: str,
    client: Client,
    sandbox: SandboxControl,
    processes: Processes,
    measure: Any,
    burst_size: int | None,
    customers: int,
) -> tuple[Any, ...]:
    engine = 200 / await trivial(client, 200)
    await journal(sandbox)
    api_before = cpu_seconds(processes.api_pid)
    worker_before = cpu_seconds(processes.worker_pid)
    measured: Measured = await measure()
    api_cpu = cpu_seconds(processes.api_pid) - api_before
    worker_cpu = cpu_seconds(processes.worker_pid) - worker_before
    await asyncio.sleep(2)  # the last task reads are answered and journalled
    calls = await journal(sandbox)
    ops = len(measured.latencies)
    ours = ops / measured.seconds
    label = f"{label} ({measured.failed} failed)" if measured.failed else label
    job_calls = sum(calls[e] for e in JOB_ENDPOINTS)
    ratio = f"{ours / engine:.2f}" if burst_size else f"({ours / engine:.2f})"
    return (
        label,
        customers,
        ops,
        f"{engine:.1f}",
        f"{ours:.1f}",
        ratio,
        *(calls[e] for e in JOB_ENDPOINTS),
        calls["accessToken"],
        f"{job_calls / ops:.3f}",
        f"{quantile(measured.latencies, 0.5):.2f}",
        f"{quantile(measured.latencies, 0.95):.2f}",
        f"{api_cpu:.1f} ({api_cpu / ops * 1000:.0f})",
        f"{worker_cpu:.1f} ({worker_cpu / ops * 1000:.0f})",
        f"{os.getloadavg()[0]:.2f}",
    )


async def main(
    bursts: list[int],
    rates: list[float],
    customer_counts: list[int],
    seconds: float,
    profile: Path | None,
) -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    machine()
    env = await dev_server()
    rows: list[tuple[Any, ...]] = []
    try:
        async with sandbox_process() as sandbox:
            with tempfile.TemporaryDirectory() as data:
                settings = bench_settings(sandbox, data)
                async with api_and_worker(env.client, settings, sandbox, profile) as processes:
                    every = [
                        await onboard(env.client, sandbox, settings)
                        for _ in range(max(customer_counts))
                    ]
                    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
                    async with httpx.AsyncClient(
                        base_url=processes.api_url,
                        limits=limits,
                        timeout=MAX_WAIT_SECONDS + 30,
                        headers={"Authorization": f"Bearer {TOKEN}"},
                    ) as http:
                        await put(http, every[0], "warm-up")
                        for count in customer_counts:
                            customers = every[:count]
                            shapes: list[tuple[str, Any, int | None]] = [
                                (f"burst {n:,}", partial(burst, http, customers, n), n)
                                for n in bursts
                            ] + [
                                (
                                    f"Poisson {rate:g}/s for {seconds:.0f} s",
                                    partial(stream, http, customers, rate, seconds),
                                    None,
                                )
                                for rate in rates
                            ]
                            for label, measure, size in shapes:
                                rows.append(
                                    await row(
                                        label, env.client, sandbox, processes, measure, size, count
                                    )
                                )
                                print(rows[-1], file=sys.stderr, flush=True)
    finally:
        await env.shutdown()
    table(
        "(h) Job operations through the HTTP API: `PUT …?wait=true` until the outcome, "
        "beside the engine's trivial workflow+activity rate measured just before each row "
        "(a stream's ratio, in brackets, is only its offered rate's share)",
        HEADER,
        rows,
    )
    if profile is not None:
        print(f"\n(py-spy profiles of the API and the worker: {profile}/*.speedscope.json)")


def numbers(text: str) -> list[float]:
    return [float(n) for n in text.split(",") if n]


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bursts", default="200,1000", help="burst sizes")
    parser.add_argument("--rates", default="1,10,20", help="Poisson stream rates, per second")
    parser.add_argument("--customers", default="1,20", help="customer counts")
    parser.add_argument("--seconds", type=float, default=60, help="each stream's length")
    parser.add_argument("--profile", type=Path, default=None, help="py-spy the API into DIR")
    args = parser.parse_args()
    asyncio.run(
        main(
            [int(n) for n in numbers(args.bursts)],
            numbers(args.rates),
            [int(n) for n in numbers(args.customers)],
            args.seconds,
            args.profile,
        )
    )


if __name__ == "__main__":
    cli()
    sys.stdout.flush()
    os._exit(0)  # sdk-python#300: leave before interpreter teardown
