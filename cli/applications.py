"""`linkedin-ats applications list|show|action`: Apply Connect applications from the command
line. Contact details are shown only by `show`, never in lists."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from cli.common import console, fail, finish, run_briefly
from domain.applications import ActionRequest, LifecycleAction

if TYPE_CHECKING:
    from client.applications import ApplicationsClient

applications_app = typer.Typer(
    help="Applications LinkedIn delivered (Apply Connect): list, show, send an action.",
    no_args_is_help=True,
)

Customer = Annotated[str, typer.Argument(help="The customer's id in your ATS.")]
Application = Annotated[str, typer.Argument(help="The application id (of jobApplicationId).")]


async def _client() -> ApplicationsClient:
    from client.applications import ApplicationsClient
    from client.connection import connect
    from settings import get_settings

    settings = get_settings()
    return ApplicationsClient(
        await connect(settings.load_payload_keys()),
        task_queue=settings.task_queue,
        webhooks=settings.webhooks,
        retention_days=settings.application_retention_days,
    )


@applications_app.command("list")
def list_(
    customer: Customer,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many.")] = 50,
) -> None:
    """The customer's applications, newest first."""

    async def go() -> None:
        found = await (await _client()).list_applications(customer, page_size=limit)
        if not found.items:
            console.print("no applications")
        for item in found.items:
            when = item.received_at.isoformat() if item.received_at else "?"
            state = "erased" if item.erased else "kept"
            console.print(
                f"{item.application_id}  job {item.external_job_posting_id or '?'}  {when}  {state}"
            )

    run_briefly(go)
    finish(0)


@applications_app.command()
def show(customer: Customer, application: Application) -> None:
    """One application as JSON: answers, contact, skills, documents, actions."""

    async def go() -> str:
        view = await (await _client()).state(customer, application)
        return json.dumps(view.model_dump(mode="json", by_alias=True), indent=2)

    console.print_json(run_briefly(go))
    finish(0)


@applications_app.command()
def action(
    customer: Customer,
    application: Application,
    kind: Annotated[LifecycleAction, typer.Argument(help="What happened.")],
    key: Annotated[
        str | None, typer.Option("--key", help="Idempotency key: the same key sends once.")
    ] = None,
    at: Annotated[
        datetime | None, typer.Option(help="When it happened (ISO 8601); now by default.")
    ] = None,
) -> None:
    """Tell LinkedIn the candidate's application was viewed, its resume downloaded, or it
    was rejected: one call per occurrence."""
    performed = at.astimezone(UTC) if at else datetime.now(UTC)
    request = ActionRequest(action=kind, performed_at=performed)

    async def go() -> str:
        record = await (await _client()).record_action(customer, application, request, key)
        return f"{record.action} {record.status}  id {record.id}"

    try:
        console.print(run_briefly(go))
    except ValueError as error:
        fail(str(error))
    finish(0)
