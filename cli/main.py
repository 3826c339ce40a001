"""`linkedin-ats`: run the sandbox, the worker, the API; drive onboarding and jobs."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import httpx
import typer

from cli.applications import applications_app
from cli.common import OutlivesItsReader, console, errors, fail, finish, run_briefly
from cli.jobs import job_app, jobs, linkedin_events
from cli.logs import configure_logging
from cli.webhooks import webhooks_app
from domain.integration_workflow import ContextStatus

if TYPE_CHECKING:
    from rich.console import Console

    from client.codec import PayloadKeys
    from client.integrations import IntegrationsClient
    from domain.integration_workflow import IntegrationState
    from settings import Settings


app = typer.Typer(
    name="linkedin-ats",
    help="Durable orchestration of an ATS's customers on LinkedIn, on Temporal.",
    no_args_is_help=True,
    add_completion=False,
)


credentials_app = typer.Typer(
    help="The credential store of customers' LinkedIn client secrets.", no_args_is_help=True
)
app.add_typer(job_app, name="job")
app.add_typer(credentials_app, name="credentials")
app.command("jobs")(jobs)
app.command("linkedin-events")(linkedin_events)
app.add_typer(webhooks_app, name="webhooks")
app.add_typer(applications_app, name="applications")


@app.callback()
def root() -> None:
    """Durable orchestration of an ATS's customers on LinkedIn, on Temporal."""


@app.command()
def sandbox(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port for LinkedIn's API and OAuth paths.")] = 8090,
    state: Annotated[
        Path | None, typer.Option(help="SQLite file that keeps state across restarts.")
    ] = None,
    task_delay: Annotated[
        float | None, typer.Option(help="Seconds each job task stays IN_PROGRESS.")
    ] = None,
) -> None:
    """Serve the stateful LinkedIn sandbox."""
    import uvicorn

    from linkedin_sandbox import SandboxSettings, create_app

    settings = SandboxSettings()
    if state is not None:
        state.parent.mkdir(parents=True, exist_ok=True)
        settings.state_path = str(state)
    if task_delay is not None:
        settings.task_delay_seconds = task_delay
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")


@app.command()
def worker() -> None:
    """Run the worker: our workflows and activities on the task queue."""
    from activities.credentials import CredentialConfigError
    from settings import get_settings
    from workers.worker import run_worker

    configure_logging()
    settings = get_settings()
    checked_payload_keys(settings)
    try:
        asyncio.run(run_worker(settings))
    except CredentialConfigError as error:
        fail(str(error))


@credentials_app.command()
def reencrypt() -> None:
    """Re-encrypt every stored secret under the newest key of LINKEDIN_ATS_CREDENTIAL_KEY.

    Run it once every worker has the new key after the old ones; then drop the old.
    """
    from activities.credentials import CredentialConfigError, Reencryption
    from settings import get_settings
    from workers.worker import credential_store

    async def run() -> Reencryption:
        store = credential_store(get_settings())
        try:
            await store.open()
            return await store.reencrypt()
        finally:
            await store.close()

    configure_logging()
    try:
        report = asyncio.run(run())
    except CredentialConfigError as error:
        fail(str(error))
    console.print(
        f"re-encrypted {report.reencrypted} secret(s) under the newest key; "
        f"{report.current} already were"
    )
    if report.unreadable:
        fail(
            f"no configured key decrypts the secret(s) of {', '.join(report.unreadable)}: left "
            "as they were. Add the key that encrypted them to LINKEDIN_ATS_CREDENTIAL_KEY "
            "(before the newest) and run this again"
        )
    finish(0)


@app.command()
def api(
    host: Annotated[str | None, typer.Option(help="Interface; LINKEDIN_ATS_API_HOST.")] = None,
    port: Annotated[int | None, typer.Option(help="Port; LINKEDIN_ATS_API_PORT.")] = None,
) -> None:
    """Serve the ATS-facing HTTP API (OpenAPI at /docs)."""
    import uvicorn

    from api.app import create_app
    from api.limits import default_token_refused
    from settings import get_settings

    configure_logging()
    settings = get_settings()
    host = host or settings.api_host
    refused = default_token_refused(host, settings.api_token.get_secret_value())
    if refused:
        fail(refused)
    checked_payload_keys(settings)
    from workers.worker import StoredAppSecrets

    uvicorn.run(
        create_app(settings, app_secrets=StoredAppSecrets(settings)),
        host=host,
        port=port or settings.api_port,
        log_config=None,  # uvicorn logs through the root handler configure_logging set
        log_level="info",
        access_log=False,  # the API's own request log says more and never logs headers
    )


def checked_payload_keys(settings: Settings) -> PayloadKeys:
    """The payload keys; a one-line failure, before serving, when they cannot be loaded."""
    from client.codec import PayloadKeyError

    try:
        return settings.load_payload_keys()
    except PayloadKeyError as error:
        fail(str(error))


@app.command("codec-server")
def codec_server(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int | None, typer.Option(help="Port; LINKEDIN_ATS_CODEC_PORT.")] = None,
    cors_origin: Annotated[
        list[str] | None,
        typer.Option(help="Origin of a Temporal UI that may call it; the local UI's by default."),
    ] = None,
) -> None:
    """Serve Temporal's codec endpoint (/encode, /decode) so the UI shows our payloads."""
    import uvicorn

    from api.codec import create_codec_app
    from settings import get_settings

    configure_logging()
    settings = get_settings()
    if settings.codec_token is None:
        fail("set LINKEDIN_ATS_CODEC_TOKEN: the bearer token callers of the codec server present")
    origins = cors_origin or [
        f"http://{name}:{settings.temporal_ui_port}" for name in ("127.0.0.1", "localhost")
    ]
    codec = create_codec_app(
        checked_payload_keys(settings), settings.codec_token.get_secret_value(), origins
    )
    uvicorn.run(
        codec,
        host=host,
        port=port or settings.codec_port,
        log_config=None,
        log_level="info",
        access_log=False,
    )


@app.command("payload-key")
def payload_key(
    rotate: Annotated[
        bool, typer.Option(help="Add a newest key to the file; the older ones still decrypt.")
    ] = False,
) -> None:
    """Create the payload key file (mode 0600), or add a new key to it with --rotate."""
    from client.codec import PayloadKeyError, new_key, read_key_file, write_key_file
    from settings import get_settings

    path = get_settings().payload_key_path
    try:
        if path.exists() and not rotate:
            fail(f"{path} exists; --rotate adds a new key to it")
        keys = read_key_file(path).with_new_key() if rotate else new_key()
    except PayloadKeyError as error:
        fail(str(error))
    write_key_file(path, keys)
    console.print(
        f"{path}: {len(keys.keys)} key(s), the newest {keys.newest_id} encrypts from the next "
        "start of the worker, API and codec server"
    )
    finish(0)


@app.command()
def setup() -> None:
    """Prepare the Temporal namespace of TEMPORAL_*: our search attributes and the job
    wake-up schedule (idempotent: run it again after changing either)."""
    from client.connection import connect
    from settings import get_settings
    from workers.setup import prepare_namespace

    async def register() -> list[str]:
        settings = get_settings()
        return await prepare_namespace(await connect(settings.load_payload_keys()), settings)

    added = run_briefly(register)
    console.print(f"registered: {', '.join(added)}" if added else "search attributes in place")
    console.print("job wake-up schedule in place")
    finish(0)


@app.command()
def demo() -> None:
    """A scripted tour of the running stack (start it with `linkedin-ats up`)."""
    run_briefly(tour)
    finish(0)


async def tour() -> None:
    from cli.demo import Tour
    from client.applications import ApplicationsClient
    from client.connection import connect
    from client.integrations import IntegrationsClient
    from client.jobs import JobsClient
    from client.webhooks import WebhooksClient
    from settings import get_settings

    settings = get_settings()
    temporal = await connect(
        settings.load_payload_keys(), target_host=f"127.0.0.1:{settings.temporal_port}"
    )
    await Tour(
        settings,
        IntegrationsClient.from_settings(temporal, settings),
        JobsClient.from_settings(temporal, settings),
        WebhooksClient.from_settings(temporal, settings),
        ApplicationsClient(
            temporal,
            task_queue=settings.task_queue,
            webhooks=settings.webhooks,
            retention_days=settings.application_retention_days,
        ),
        console,
    ).run()


@app.command()
def up(
    with_demo: Annotated[bool, typer.Option("--demo", help="Run the demo once it is up.")] = False,
) -> None:
    """Start Temporal + UI, the sandbox, the worker and the API; stop them with Ctrl-C."""
    from cli.up import Interrupted, Stack, StartupError, ensure_payload_key_file
    from settings import get_settings

    settings = get_settings()
    out = OutlivesItsReader(soft_wrap=True)
    created = ensure_payload_key_file(settings)
    if created:
        out.print(
            f"created the payload key file {created} (mode 0600): Temporal's data can be read "
            "only with it, so back it up; `linkedin-ats payload-key --rotate` adds a newer key"
        )
    stack = Stack(settings)
    try:
        with stack.supervising():
            try:
                stack.check_ports()
                with out.status("starting…") as status:
                    stack.start(lambda name: status.update(f"{name} is up; starting the next…"))
            except StartupError as error:
                stack.stop()
                fail(str(error))
            print_urls(settings, out)
            if with_demo:
                try:
                    stack.run(tour())
                except Exception as error:  # the stack stays up for a look at what went wrong
                    errors.print(f"[red]demo failed:[/red] {type(error).__name__}: {error}")
            reason = stack.wait()
            out.print(f"stopping ({reason})…")
    except Interrupted:
        pass  # a stop signal while starting: supervising() has stopped what had started
    finish(0)


def integrations_client() -> Awaitable[IntegrationsClient]:
    from client.connection import connect
    from client.integrations import IntegrationsClient
    from settings import get_settings

    async def make() -> IntegrationsClient:
        settings = get_settings()
        return IntegrationsClient.from_settings(
            await connect(settings.load_payload_keys()), settings
        )

    return make()


@app.command()
def onboard(
    customer: Annotated[str, typer.Argument(help="The customer's id in your ATS.")],
    name: Annotated[
        str | None, typer.Option(help="The customer's name, shown by LinkedIn.")
    ] = None,
    integration_type: Annotated[
        list[str] | None,
        typer.Option(
            "--type",
            help="Integration type(s) or plugin bundle(s), e.g. RECRUITER_SYSTEM_CONNECT_COMPANY; "
            "PJP by default.",
        ),
    ] = None,
) -> None:
    """Start onboarding a customer (one durable workflow per integration type)."""
    from domain.integrations import integration_types

    try:
        types = integration_types(integration_type or ["PREMIUM_JOB_POSTING"])
    except ValueError as error:
        fail(f"--type: {error}")

    async def start() -> list[str]:
        return await (await integrations_client()).start_onboarding(
            customer, name or customer, types
        )

    for workflow_id in run_briefly(start):
        console.print(f"started {workflow_id}")
    finish(0)


@app.command()
def offboard(
    customer: Annotated[str, typer.Argument(help="The customer's id in your ATS.")],
    erase: Annotated[
        bool, typer.Option(help="Erase what we keep about the customer once it is off.")
    ] = True,
    wait: Annotated[bool, typer.Option(help="Follow its progress until it is done.")] = False,
) -> None:
    """Offboard a customer: close its jobs at LinkedIn, retire its app, erase it (durable)."""
    import asyncio

    from client.connection import connect
    from client.customers import CustomersClient
    from client.integrations import IntegrationsClient
    from domain.offboarding import OffboardingState, OffboardingStatus
    from settings import get_settings

    def line(state: OffboardingState) -> str:
        return (
            f"{state.status}: jobs closed {state.jobs_closed} of {state.jobs_total}, "
            f"app retired {'yes' if state.app_retired else 'no'}"
        )

    async def go() -> OffboardingState:
        settings = get_settings()
        temporal = await connect(settings.load_payload_keys())
        customers = CustomersClient(
            temporal,
            IntegrationsClient.from_settings(temporal, settings),
            task_queue=settings.task_queue,
            ats_name=settings.ats_name,
            webhooks=settings.webhooks,
        )
        state = await customers.offboard(customer, erase=erase)
        console.print(line(state))
        while wait and state.status != OffboardingStatus.OFFBOARDED:
            await asyncio.sleep(2)
            state = (await customers.customer(customer)).offboarding or state
            console.print(line(state))
        return state

    state = run_briefly(go)
    if state.erasure is not None:
        erased = state.erasure
        console.print(
            f"erased: secret {'yes' if erased.credentials else 'none kept'}, "
            f"{erased.access_tokens} tokens, {erased.job_workflows} job and "
            f"{erased.integration_workflows} integration workflow runs"
        )
    finish(0)


@app.command("widget-save")
def widget_save(
    customer: Annotated[str, typer.Argument(help="The customer's id in your ATS.")],
    contract: Annotated[str, typer.Option(help="The contract id the customer picks.")],
    poster: Annotated[str, typer.Option(help="Default job poster's email; '' removes it.")],
) -> None:
    """Act as the customer saving the widget in the sandbox; its callback reaches our API."""
    from cli.demo import widget_save_request
    from settings import get_settings

    url, body = widget_save_request(get_settings(), customer, f"urn:li:contract:{contract}", poster)
    try:
        response = httpx.post(url, json=body, timeout=30)
    except httpx.HTTPError as error:
        fail(f"the sandbox did not answer: {error}")
    if response.status_code != 200:
        fail(f"the widget says: {response.json().get('message', response.text)}")
    console.print_json(data=response.json())
    console.print(
        f"callback to the API answered {response.headers.get('x-sandbox-callback-status')}"
    )
    finish(0)


@app.command()
def integrations(
    status: Annotated[ContextStatus | None, typer.Option(help="Only this headline status.")] = None,
    customer: Annotated[str | None, typer.Option(help="Only this customer.")] = None,
) -> None:
    """List integrations with their status, from Temporal's search attributes."""
    from rich.table import Table

    async def fetch() -> list[IntegrationState]:
        client = await integrations_client()
        found = await client.list_integrations(status=status, customer_id=customer)
        return [await client.integration_state(i.customer_id, i.integration_type) for i in found]

    table = Table("workflow", "status", "contexts", "waiting for")
    for state in run_briefly(fetch):
        contexts = ", ".join(f"{c.integration_context}={c.status}" for c in state.contexts.values())
        table.add_row(
            f"integration/{state.customer_id}/{state.integration_type}",
            str(state.status),
            contexts or "-",
            state.waiting_for,
        )
    console.print(table)
    finish(0)


@app.command()
def enable(
    customer: Annotated[str, typer.Argument(help="The customer's id in your ATS.")],
    contract: Annotated[str | None, typer.Option(help="Only this contract id.")] = None,
    integration_type: Annotated[str, typer.Option("--type")] = "PREMIUM_JOB_POSTING",
) -> None:
    """Enable and verify at LinkedIn now, and show the result."""
    from domain.integrations import IntegrationType

    context = f"urn:li:contract:{contract}" if contract else None

    async def call() -> IntegrationState:
        client = await integrations_client()
        return await client.enable(customer, IntegrationType(integration_type), context)

    state = run_briefly(call)
    console.print_json(state.model_dump_json())
    finish(0)


@app.command("p4p-setup")
def p4p_setup(
    customer: Annotated[str, typer.Argument(help="The customer's id in your ATS.")],
    partner_contract_id: Annotated[
        int, typer.Argument(help="LinkedIn's partnerContractId of the customer's P4P contract.")
    ],
    name: Annotated[
        str | None, typer.Option(help="The customer's name, if it is not onboarded yet.")
    ] = None,
) -> None:
    """Set up a P4P hiring contract for a customer (provisionedHiringContracts, once)."""
    from domain.integration_workflow import HiringContractState

    async def call() -> HiringContractState:
        client = await integrations_client()
        return await client.setup_hiring_contract(customer, partner_contract_id, name)

    record = run_briefly(call)
    console.print_json(record.model_dump_json())
    finish(0)


@app.command("apps-sync")
def apps_sync(
    customer: Annotated[str | None, typer.Option(help="Only this customer.")] = None,
) -> None:
    """Update customers' LinkedIn apps to the configured widget domains and callback URLs."""
    from domain.integration_workflow import ApplicationSync

    async def call() -> dict[str, ApplicationSync]:
        return await (await integrations_client()).sync_applications(customer)

    synced = run_briefly(call)
    for customer_id, sync in synced.items():
        changed = ", ".join(sync.changed) or "already up to date"
        console.print(f"{customer_id}: {changed}")
    if not synced:
        console.print("no onboarded customer")
    finish(0)


def print_urls(settings: Settings, out: Console) -> None:
    from rich.table import Table

    table = Table(title="linkedin-ats is up", show_header=False)
    table.add_row("Temporal UI", f"http://127.0.0.1:{settings.temporal_ui_port}")
    table.add_row("API docs", f"http://{settings.api_host}:{settings.api_port}/docs")
    table.add_row("API token", "LINKEDIN_ATS_API_TOKEN (docs/configuration.md)")
    table.add_row("Codec server", f"http://127.0.0.1:{settings.codec_port} (for the UI)")
    table.add_row("LinkedIn sandbox", f"http://127.0.0.1:{settings.sandbox_port}/docs")
    table.add_row("Temporal gRPC", f"127.0.0.1:{settings.temporal_port}")
    table.add_row("Worker metrics", f"http://{settings.metrics_address}/metrics")
    table.add_row("Logs", str(settings.data_dir.resolve() / "logs"))
    out.print(table)
    console.print("Try, in another terminal:")
    console.print("  .venv/bin/linkedin-ats onboard globex --name Globex")
    console.print(
        "  .venv/bin/linkedin-ats widget-save globex --contract 555 --poster boss@globex.com"
    )
    console.print("  .venv/bin/linkedin-ats integrations")
    console.print("Ctrl-C stops everything; state stays in .data/.")


def main() -> None:
    app()
