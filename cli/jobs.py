"""`linkedin-ats job …` and `linkedin-ats jobs`: a customer's jobs from the command line."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli.common import console, fail, finish, run_briefly
from domain.job_workflow import JobState, JobStatus
from domain.linkedin_events import EventOutcome

if TYPE_CHECKING:
    from client.jobs import JobsClient
    from domain.job_workflow import Operation

job_app = typer.Typer(help="Post and manage one job at LinkedIn.", no_args_is_help=True)

Customer = Annotated[str, typer.Argument(help="The customer's id in your ATS.")]
External = Annotated[str, typer.Argument(help="The job's externalJobPostingId.")]
Wait = Annotated[bool, typer.Option(help="Wait for LinkedIn to finish the operation.")]
JobFile = Annotated[Path, typer.Option("--file", help="The job as JSON, LinkedIn's field names.")]


async def _jobs() -> JobsClient:
    from client.connection import connect
    from client.jobs import JobsClient
    from settings import get_settings

    settings = get_settings()
    return JobsClient.from_settings(await connect(settings.load_payload_keys()), settings)


def _read(path: Path) -> dict[str, Any]:
    try:
        body = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        fail(f"{path}: {error}")
    if not isinstance(body, dict):
        fail(f"{path}: expected a JSON object")
    return body


def _checked(body: dict[str, Any]) -> dict[str, Any]:
    """The job checked against LinkedIn's rules before anything is contacted."""
    from client.jobs import validated_job

    async def check() -> dict[str, Any]:
        return validated_job(body).to_wire()

    return run_briefly(check)


def _budget(amount: str | None, currency: str) -> dict[str, Any] | None:
    if amount is None:
        return None
    return {"payForPerformanceTotalBudget": {"currencyCode": currency, "amount": amount}}


def _run(call: Callable[[JobsClient], Awaitable[Operation]], wait: bool) -> None:
    async def go() -> Operation:
        return await call(await _jobs())

    label = "waiting for LinkedIn…" if wait else "submitting…"
    with console.status(label):
        operation = run_briefly(go)
    line = f"{operation.kind} {operation.outcome}"
    if operation.task_id:
        line += f"  task {operation.task_id}"
    if operation.job_id_after:
        line += f"  jobId {operation.job_id_after}  {operation.job_posting_url_after}"
    console.print(line)
    if operation.error:
        console.print(f"LinkedIn said: {operation.error}")
    if operation.note:
        console.print(operation.note)
    finish(0 if operation.outcome != "FAILED" else 1)


@job_app.command()
def create(customer: Customer, file: JobFile, wait: Wait = True) -> None:
    """Post a job (its workflow starts with it)."""
    body = _checked({"jobPostingOperationType": "CREATE", **_read(file)})
    _run(lambda c: c.create(customer, body, wait=wait), wait)


@job_app.command()
def put(customer: Customer, file: JobFile, wait: Wait = True) -> None:
    """The whole job: created, or updated when LinkedIn has it; the same job is a no-op."""
    body = _checked({**_read(file), "jobPostingOperationType": "CREATE"})
    _run(lambda c: c.put(customer, body, wait=wait), wait)


@job_app.command()
def update(customer: Customer, file: JobFile, wait: Wait = True) -> None:
    """Change a job's content (same listing type)."""
    body = _checked({**_read(file), "jobPostingOperationType": "UPDATE"})
    _run(lambda c: c.update(customer, body, wait=wait), wait)


@job_app.command()
def upgrade(
    customer: Customer,
    external_id: External,
    contract: Annotated[str, typer.Option(help="Contract id (the N of urn:li:contract:N).")],
    budget: Annotated[str | None, typer.Option(help="P4P total budget, e.g. 275.00.")] = None,
    currency: Annotated[str, typer.Option(help="ISO 4217 currency of the budget.")] = "USD",
    wait: Wait = True,
) -> None:
    """BASIC → PREMIUM (P4P with --budget); LinkedIn keeps the jobId and URL."""
    urn = f"urn:li:contract:{contract}"
    money = _budget(budget, currency)
    _run(lambda c: c.upgrade(customer, external_id, urn, budget=money, wait=wait), wait)


@job_app.command()
def downgrade(
    customer: Customer,
    external_id: External,
    contract: Annotated[
        str | None, typer.Option(help="Contract id; the job's own by default.")
    ] = None,
    wait: Wait = True,
) -> None:
    """PREMIUM → BASIC; prints the new jobId and URL."""
    urn = f"urn:li:contract:{contract}" if contract else None
    _run(lambda c: c.downgrade(customer, external_id, urn, wait=wait), wait)


@job_app.command()
def renew(
    customer: Customer,
    external_id: External,
    budget: Annotated[str | None, typer.Option(help="New P4P total budget.")] = None,
    currency: Annotated[str, typer.Option(help="ISO 4217 currency of the budget.")] = "USD",
    wait: Wait = True,
) -> None:
    """RENEW: 30 more days (P4P: with the new budget)."""
    money = _budget(budget, currency)
    _run(lambda c: c.renew(customer, external_id, money, wait=wait), wait)


@job_app.command()
def close(customer: Customer, external_id: External, wait: Wait = True) -> None:
    """CLOSE the job; its workflow then completes."""
    _run(lambda c: c.close(customer, external_id, wait=wait), wait)


@job_app.command()
def discard(customer: Customer, external_id: External) -> None:
    """Give up a job LinkedIn never listed (its CREATE failed or is parked)."""
    _run(lambda c: c.discard(customer, external_id), wait=False)


JsonLines = Annotated[
    Path, typer.Argument(help="One job a line, each a PUT's JSON with its externalJobPostingId.")
]


def _lines(path: Path) -> list[dict[str, Any]]:
    jobs: list[dict[str, Any]] = []
    try:
        text = path.read_text()
    except OSError as error:
        fail(f"{path}: {error}")
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            job = json.loads(line)
        except ValueError as error:
            fail(f"{path}:{number}: {error}")
        if not isinstance(job, dict):
            fail(f"{path}:{number}: expected a JSON object")
        jobs.append(job)
    return jobs


@job_app.command("import")
def import_jobs(
    customer: Customer,
    file: JsonLines,
    key: Annotated[
        str | None,
        typer.Option(
            help="Idempotency key of the import; by default the file's digest, so "
            "importing the same file again starts nothing twice."
        ),
    ] = None,
    partial: Annotated[bool, typer.Option(help="Start the valid jobs, list the others.")] = False,
) -> None:
    """PUT every job of a JSON-lines file, 1,000 a batch, with a progress bar."""
    import hashlib

    from rich.progress import Progress

    from domain.job_batches import MAX_BATCH_JOBS, check_batch

    jobs = _lines(file)
    if not jobs:
        fail(f"{file}: no jobs")
    _, invalid = check_batch(jobs, int(time.time() * 1000))
    if invalid and not partial:
        for entry in invalid[:20]:
            for error in entry.errors:
                console.print(f"job {entry.index + 1}: {error.path or '(job)'}: {error.message}")
        fail(
            f"{len(invalid)} of {len(jobs)} jobs are invalid: nothing was started (--partial "
            "starts the valid ones)"
        )
    digest = key or hashlib.sha256(file.read_bytes()).hexdigest()[:32]
    chunks = [jobs[at : at + MAX_BATCH_JOBS] for at in range(0, len(jobs), MAX_BATCH_JOBS)]

    async def go() -> tuple[int, int, int]:
        client = await _jobs()
        started = refused = 0
        with Progress(console=console) as progress:
            bar = progress.add_task("importing", total=len(jobs))
            for number, chunk in enumerate(chunks):
                offset = number * MAX_BATCH_JOBS

                def advance(done: int, offset: int = offset) -> None:
                    progress.update(bar, completed=offset + done)

                answer = await client.put_many(
                    customer,
                    chunk,
                    idempotency_key=f"{digest}-{number}",
                    partial=partial,
                    on_progress=advance,
                )
                started += answer.started
                refused += answer.refused
                for entry in answer.jobs:
                    if entry.refused:
                        console.print(f"job {offset + entry.index + 1}: {entry.refused}")
        return started, len(invalid), refused

    started, bad, refused = run_briefly(go)
    console.print(f"{started} started, {bad} invalid, {refused} refused; `jobs` lists them")
    finish(0 if not bad and not refused else 1)


OperationId = Annotated[
    str | None,
    typer.Option("--operation", help="One operation's id; every parked one if left out."),
]


@job_app.command()
def retry(customer: Customer, external_id: External, operation: OperationId = None) -> None:
    """Try a parked operation again (after fixing what it waits for)."""
    run_briefly(lambda: _operator(customer, external_id, operation, retry=True))
    console.print("retry sent; `job show` tells how it goes")
    finish(0)


@job_app.command()
def cancel(customer: Customer, external_id: External, operation: OperationId = None) -> None:
    """Give up a parked (or queued, when named) operation."""
    run_briefly(lambda: _operator(customer, external_id, operation, retry=False))
    console.print("cancel sent; `job show` tells how it goes")
    finish(0)


async def _operator(customer: str, external_id: str, operation: str | None, retry: bool) -> None:
    client = await _jobs()
    send = client.retry if retry else client.cancel
    await send(customer, external_id, operation)


@job_app.command()
def show(customer: Customer, external_id: External) -> None:
    """The job's state: LinkedIn's four fields first, then jobId, expiry, operations."""

    async def go() -> JobState:
        return await (await _jobs()).state(customer, external_id)

    state = run_briefly(go)
    read_at = f"read {state.status_read_at:%Y-%m-%d %H:%M} UTC" if state.status_read_at else ""
    console.print(
        f"{state.status} · LinkedIn ({read_at or 'as of the last operation'}): "
        f"listing {state.listing_status or '-'}, apply {state.linked_in_apply_status or '-'}, "
        f"promotion {state.promotion_status or '-'}, {state.job_posting_url or 'no URL yet'}"
    )
    if state.linked_in_status_message:
        console.print(f"LinkedIn says: {state.linked_in_status_message}")
    console.print_json(state.model_dump_json(indent=1))
    finish(0)


def linkedin_events(
    outcome: Annotated[
        EventOutcome | None,
        typer.Option(help="Only this outcome: UNMATCHED lists events for jobs we do not hold."),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
) -> None:
    """What LinkedIn sent us (job status changes, resync requests), newest first."""
    from rich.table import Table

    from client.connection import connect
    from client.linkedin_events import LinkedInEventsClient
    from settings import get_settings

    async def go() -> list[Any]:
        settings = get_settings()
        temporal = await connect(settings.load_payload_keys())
        return await LinkedInEventsClient(temporal, settings.task_queue).list_events(outcome, limit)

    table = Table("event", "type", "outcome", "customer", "received")
    for event in run_briefly(go):
        received = f"{event.received_at:%Y-%m-%d %H:%M:%S}" if event.received_at else ""
        row = (event.event_id, event.type, event.outcome, event.customer_id, received)
        table.add_row(*(str(cell or "") for cell in row))
    console.print(table)
    finish(0)


STUCK = "STUCK"
"""Not a job status: running jobs whose workflow task keeps failing (docs/operations.md)."""

JobListing = StrEnum("JobListing", {str(v): str(v) for v in [*JobStatus, STUCK]})  # type: ignore[misc]
"""What `jobs --status` takes: a job status, or STUCK."""


def jobs(
    customer: Annotated[str | None, typer.Option(help="Only this customer.")] = None,
    status: Annotated[
        JobListing | None,
        typer.Option(
            help=f"Only this status, or {STUCK}: running jobs whose workflow task keeps failing."
        ),
    ] = None,
) -> None:
    """List jobs with their status, from Temporal's search attributes."""
    from rich.table import Table

    if status == STUCK:
        stuck = run_briefly(lambda: _stuck(customer))
        table = Table("workflow", "task attempt", "task scheduled")
        for job in stuck:
            table.add_row(job.workflow_id, str(job.attempt), str(job.scheduled_at))
        console.print(table)
        finish(0)
    wanted = JobStatus(status) if status else None

    async def go() -> list[Any]:
        client, found, cursor = await _jobs(), [], None
        while True:
            page = await client.list_jobs(customer_id=customer, status=wanted, cursor=cursor)
            found += page.items
            if (cursor := page.next_cursor) is None:
                return found

    table = Table("workflow", "status", "listing")
    for job in run_briefly(go):
        table.add_row(job.workflow_id, str(job.status), str(job.listing_type))
    console.print(table)
    finish(0)


async def _stuck(customer: str | None) -> list[Any]:
    return await (await _jobs()).stuck_jobs(customer_id=customer)
