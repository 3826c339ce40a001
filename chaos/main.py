"""`python -m chaos` (`make chaos`): run the stack under chaos, settle, audit, print, judge."""

from __future__ import annotations

import asyncio
import hashlib
import os
import platform
import random
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.table import Table

from chaos.ats import Api, Ats, Candidates, Customer, Ledger
from chaos.audit import (
    Findings,
    Received,
    audit_applications,
    audit_customers,
    audit_histories,
    audit_jobs,
    audit_linkedin_changes,
    audit_resyncs,
    count_calls,
)
from chaos.havoc import Havoc, Journal
from chaos.stack import ChaosStack
from cli.common import console, finish
from cli.logs import configure_logging
from domain.applications import APPLICATION_WORKFLOW_TYPE, application_workflow_id, document_path
from domain.integration_workflow import IntegrationState
from domain.job_workflow import JOB_STATUS_CHECKS_WORKFLOW_TYPE, JobState


@dataclass(frozen=True)
class Plan:
    seconds: float
    settle: float
    seed: int
    customers: int
    jobs: int
    kill_every: float
    applications: int = 0
    """Candidates applying over the chaos (Apply Connect)."""
    apply_jobs: int = 0
    """Jobs with on-site apply questions, kept open for them."""


@dataclass
class Run:
    plan: Plan
    stack: ChaosStack
    ledger: Ledger
    havoc: Havoc
    found: Findings
    journal: list[dict[str, Any]]
    elapsed: float = 0.0


async def chaos(plan: Plan, data: Path) -> Run:
    stack = ChaosStack(data)
    await stack.start()
    try:
        return await _drive(plan, stack)
    finally:
        stack.stop()


async def _drive(plan: Plan, stack: ChaosStack) -> Run:
    rng = random.Random(plan.seed)
    token = stack.settings.api_token.get_secret_value()
    ledger = Ledger()
    ats = Ats(
        Api(stack.api_url, token, ledger),
        stack.sandbox_url,
        stack.api_url,
        token,
        random.Random(rng.random()),
    )
    journal = Journal(stack.sandbox_url)
    havoc = Havoc(stack, journal, random.Random(rng.random()), plan.kill_every, ledger)
    await havoc.register_webhook(f"{stack.api_url}/linkedin/webhook")
    started = time.monotonic()
    ats.chaos_until = started + plan.seconds
    ats.settle_until = ats.chaos_until + plan.settle
    collector = asyncio.create_task(havoc.collect_until(ats.settle_until))
    customers = [
        Customer(f"chaos{i}", f"urn:li:contract:{9000 + i}", f"boss{i}@chaos.example.com")
        for i in range(plan.customers)
    ]
    drivers = [asyncio.create_task(ats.onboard(c)) for c in customers]
    drivers.append(asyncio.create_task(_jobs(ats, customers, plan.jobs, drivers)))
    inbox = None
    if plan.applications and plan.apply_jobs:
        candidates = Candidates(ats, plan.applications)
        inbox = await _ats_webhooks(ats, candidates)
        drivers.append(asyncio.create_task(_apply_jobs(ats, customers, plan.apply_jobs, drivers)))
        drivers.append(asyncio.create_task(candidates.apply_until(ats.chaos_until)))
    await asyncio.gather(havoc.faults_until(ats.chaos_until), havoc.kills_until(ats.chaos_until))
    async with havoc.lock:
        await stack.revive()
        await havoc.calm()
    left = ats.settle_until - time.monotonic() + 40  # an HTTP call may outlast the deadline
    await asyncio.wait(drivers, timeout=max(left, 1))
    collector.cancel()
    await journal.collect()
    found = await _audit(stack, ledger, journal, applications=inbox is not None)
    if inbox is not None:
        inbox[0].should_exit = True
        await inbox[1]
    for driver in drivers:  # a driver that broke leaves the audit incomplete: say so
        if not driver.done():
            driver.cancel()
        elif driver.exception() is not None:
            found.broken.append(f"the ATS driver broke: {driver.exception()!r}")
    return Run(plan, stack, ledger, havoc, found, journal.entries, time.monotonic() - started)


async def _jobs(
    ats: Ats, customers: list[Customer], in_flight: int, drivers: list[asyncio.Task[Any]]
) -> None:
    """Keep `in_flight` jobs going for onboarded customers while the chaos lasts."""
    running: set[asyncio.Task[None]] = set()
    count = 0
    while time.monotonic() < ats.chaos_until:
        ready = [c for c in customers if c.onboarded]
        if ready and len(running) < in_flight:
            customer = ats.rng.choice(ready)
            count += 1
            task = asyncio.create_task(ats.run_job(customer, f"{customer.id}-job{count}"))
            running.add(task)
            task.add_done_callback(running.discard)
            drivers.append(task)
        await asyncio.sleep(0.5)
    if running:
        await asyncio.wait(running)


async def _apply_jobs(
    ats: Ats, customers: list[Customer], count: int, drivers: list[asyncio.Task[Any]]
) -> None:
    """`count` jobs with on-site apply questions, spread over the customers as they onboard."""
    made = 0
    while made < count and time.monotonic() < ats.chaos_until:
        ready = [c for c in customers if c.onboarded]
        if not ready:
            await asyncio.sleep(0.5)
            continue
        customer = ready[made % len(ready)]
        made += 1
        job = ats.run_job(customer, f"{customer.id}-apply{made}", apply=True)
        drivers.append(asyncio.create_task(job))
        await asyncio.sleep(0.2)


async def _ats_webhooks(ats: Ats, candidates: Candidates) -> tuple[Any, asyncio.Task[None]]:
    """The ATS's webhook endpoint, in this process (never killed), registered with our API
    for every customer; the uvicorn server, to stop after the audit."""
    import uvicorn

    from cli.up import free_port
    from cli.webhooks import receiver

    port, secret = free_port(), {"value": ""}
    app = receiver(lambda: secret["value"], candidates.heard)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    serving = asyncio.create_task(server.serve())
    answer = await ats.api.call(
        "POST", "/v1/webhooks", ats.settle_until, json={"url": f"http://127.0.0.1:{port}/"}
    )
    if answer is None or answer.status_code >= 300:
        raise RuntimeError(f"the ATS could not register its webhook: {answer}")
    secret["value"] = answer.json()["secret"]
    return server, serving


async def _received(
    stack: ChaosStack, ledger: Ledger, sandbox: httpx.AsyncClient, api: httpx.AsyncClient
) -> tuple[list[dict[str, Any]], dict[str, Received]]:
    """LinkedIn's applications once it has delivered them all and the ATS heard each (or
    five minutes passed), and ours: runs, status, each document as our API serves it."""
    linkedin: list[dict[str, Any]] = []
    for _ in range(150):
        linkedin = (await sandbox.get("/sandbox/applications")).raise_for_status().json()
        waiting = [
            a
            for a in linkedin
            if a["delivery"] == "QUEUED"
            or (a["delivery"] == "DELIVERED" and a["jobApplicationId"] not in ledger.heard)
        ]
        if not waiting:
            break
        await asyncio.sleep(2)
    temporal = await stack.temporal()
    runs: Counter[str] = Counter()
    async for execution in temporal.list_workflows(f'WorkflowType = "{APPLICATION_WORKFLOW_TYPE}"'):
        runs[execution.id] += 1
    ours: dict[str, Received] = {}
    for application in linkedin:
        urn, customer = application["jobApplicationId"], application["customerId"]
        key = urn.rsplit(":", 1)[-1]
        count = runs[application_workflow_id(customer, key)]
        answer = await api.get(f"/v1/customers/{customer}/applications/{key}")
        if answer.status_code != 200:
            ours[urn] = Received(count, None, {})
            continue
        view = answer.json()
        documents = {}
        for document in view.get("documents") or []:
            served = await api.get(document_path(customer, key, document["kind"]))
            if served.status_code == 200:
                documents[document["kind"]] = hashlib.sha256(served.content).hexdigest()
        ours[urn] = Received(count, view.get("status"), documents)
    return linkedin, ours


async def _audit(
    stack: ChaosStack, ledger: Ledger, journal: Journal, applications: bool = False
) -> Findings:
    found = Findings()
    token = stack.settings.api_token.get_secret_value()
    await _check_statuses(stack)
    async with (
        httpx.AsyncClient(base_url=stack.sandbox_url, timeout=60) as sandbox,
        httpx.AsyncClient(
            base_url=stack.api_url, headers={"Authorization": f"Bearer {token}"}, timeout=60
        ) as api,
    ):
        world = (await sandbox.get("/sandbox/state")).raise_for_status().json()
        resyncs = (await sandbox.get("/sandbox/resync")).raise_for_status().json()
        jobs: dict[str, dict[str, Any] | None] = {}
        for job, customer in ledger.jobs.items():
            answer = await api.get(f"/v1/customers/{customer}/jobs/{job}")
            ok = answer.status_code == 200
            # Read through our own model: the audit sees one field style, whatever the wire's.
            jobs[job] = (
                JobState.model_validate(answer.json()).model_dump(mode="json") if ok else None
            )
        if applications:
            linkedin, received = await _received(stack, ledger, sandbox, api)
            audit_applications(linkedin, set(ledger.applied), received, ledger.heard, found)
        integrations = {}
        for customer_id in ledger.customers:
            answer = await api.get(f"/v1/customers/{customer_id}/integrations")
            states = answer.json() if answer.status_code == 200 else []
            integrations[customer_id] = [
                IntegrationState.model_validate(state).model_dump(mode="json") for state in states
            ]
    audit_jobs(ledger, jobs, world, found)
    audit_linkedin_changes(jobs, world, time.time() * 1000, found)
    audit_resyncs(resyncs, jobs, found)
    audit_customers(ledger, integrations, world, found)
    count_calls(journal.entries, found)
    await audit_histories(await stack.temporal(), found)
    return found


async def _check_statuses(stack: ChaosStack) -> None:
    """One status check, as the schedule runs it: what a webhook could not deliver (the
    sandbox killed with events queued) is read instead. Waits until LinkedIn is quiet."""
    temporal = await stack.temporal()
    await temporal.execute_workflow(
        JOB_STATUS_CHECKS_WORKFLOW_TYPE,
        timedelta(minutes=5),
        id=f"chaos-status-check-{time.time_ns()}",
        task_queue=stack.settings.task_queue,
        result_type=int,
    )
    async with httpx.AsyncClient(base_url=stack.sandbox_url, timeout=60) as sandbox:
        seen = -1
        for _ in range(60):
            count = len((await sandbox.get("/sandbox/requests")).json())
            if count == seen:
                return
            seen = count
            await asyncio.sleep(3)


def report(run: Run) -> None:
    found, ledger, stack, havoc = run.found, run.ledger, run.stack, run.havoc
    calls, minimum = sum(found.calls.values()), sum(found.minimum.values())
    console.print(
        f"chaos: seed {run.plan.seed}, {run.plan.seconds:.0f} s of chaos + settling "
        f"({run.elapsed:.0f} s in all), {run.plan.customers} customers, "
        f"{run.plan.jobs} jobs at a time, {run.plan.applications} applications to "
        f"{run.plan.apply_jobs} jobs; {platform.node()} "
        f"({os.cpu_count()} CPUs, Python {platform.python_version()})"
    )
    struck = sum(
        1 for e in run.journal if e["status"] is None or e["status"] in (429, 500, 502, 503)
    )
    faults = ", ".join(f"{k} {v}" for k, v in sorted(havoc.faults.items()))
    kills = ", ".join(f"{k} {v}" for k, v in sorted(stack.kills.items()))
    by_endpoint = ", ".join(f"{e} {found.calls[e]}/{found.minimum[e]}" for e in sorted(found.calls))
    table = Table("", "count", "detail", title="chaos")
    for name, count, detail in (
        ("operations", found.operations, _ats_detail(ledger)),
        ("faults", sum(havoc.faults.values()), f"{faults}; {struck} answers failed or dropped"),
        ("kills", sum(stack.kills.values()), f"{kills}; other exits {dict(stack.crashes) or 0}"),
        ("lost", len(found.lost), ""),
        (
            "applied twice",
            len(found.applied_twice),
            f"{found.sent_again} elements sent again, none after LinkedIn applied them"
            if not found.applied_twice
            else "non-UPDATE elements sent again after LinkedIn applied them",
        ),
        ("wrong final state", len(found.wrong), "ours against LinkedIn's and the ATS's"),
        ("stuck", len(found.stuck), "operations or integrations not settled"),
        (
            "workflow task failures",
            len(found.task_failures),
            f"besides, {len(found.tasks_redone)} sent back for a signal that came as the "
            "workflow closed (UnhandledCommand), and run again with it",
        ),
        ("LinkedIn calls over the minimum", calls - minimum, f"{calls} made: {by_endpoint}"),
        ("runs that do not replay", len(found.replay_failures), found.replay.line()),
        (
            "LinkedIn's own changes",
            sum(havoc.linkedin.values()),
            f"{dict(havoc.linkedin) or 0}; {found.linkedin_changes} changed jobs compared; "
            f"resyncs back in time: {', '.join(found.resyncs) or 'none'}",
        ),
        (
            "applications",
            found.applications,
            f"accepted by LinkedIn over {len(ledger.apply_jobs)} jobs, each received once, "
            f"at the ATS, documents intact: {found.documents} documents checked (sha256), "
            f"{found.redelivered} webhooks redelivered (same event id); candidates turned "
            f"away {dict(ledger.apply_refused) or 0}",
        ),
    ):
        table.add_row(name, str(count), detail)
    console.print(table)
    for title, problems in (
        ("lost", found.lost),
        ("applied twice", found.applied_twice),
        ("wrong final state", found.wrong),
        ("stuck", found.stuck),
        ("workflow task failures", found.task_failures),
        ("runs that do not replay", found.replay_failures),
        ("chaos itself", found.broken),
    ):
        for problem in problems[:20]:
            console.print(f"[red]{title}[/red]: {problem}")


def _ats_detail(ledger: Ledger) -> str:
    enabled = sum(c.enabled for c in ledger.customers.values())
    return (
        f"{len(ledger.jobs)} jobs of {len(ledger.customers)} customers ({enabled} enabled); "
        f"{ledger.http_retries} HTTP retries with the same key, {ledger.resends} sent again "
        f"after a failed task, {ledger.operator_retries} operator retries, "
        f"refused {dict(ledger.refused) or 0}"
    )


def main(
    seconds: Annotated[float, typer.Option(help="How long faults and kills go on.")] = 90,
    settle: Annotated[
        float, typer.Option(help="After that, how long everything may take to settle.")
    ] = 420,
    seed: Annotated[int | None, typer.Option(help="Seed of faults, kills and jobs.")] = None,
    customers: Annotated[int, typer.Option(help="Customers onboarded.")] = 3,
    jobs: Annotated[int, typer.Option(help="Jobs in flight at a time.")] = 6,
    kill_every: Annotated[float, typer.Option(help="Mean seconds between two SIGKILLs.")] = 10,
    applications: Annotated[
        int, typer.Option(help="Candidates applying through LinkedIn (Apply Connect).")
    ] = 40,
    apply_jobs: Annotated[int, typer.Option(help="Jobs with on-site apply questions.")] = 2,
    keep: Annotated[bool, typer.Option(help="Keep the data dir and logs.")] = False,
) -> None:
    """The whole stack under faults and SIGKILLs; exits 1 on any loss, double, wrong or stuck."""
    configure_logging()
    plan = Plan(
        seconds,
        settle,
        seed if seed is not None else random.randrange(10**6),
        customers,
        jobs,
        kill_every,
        applications,
        apply_jobs,
    )
    data = Path(tempfile.mkdtemp(prefix="linkedin-ats-chaos-"))
    run = asyncio.run(chaos(plan, data))
    report(run)
    if keep or run.found.failed:
        console.print(f"data and logs kept in {data}")
    else:
        shutil.rmtree(data, ignore_errors=True)
    finish(1 if run.found.failed else 0)


def entry() -> None:
    typer.run(main)
