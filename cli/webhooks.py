"""`linkedin-ats webhooks …`: register endpoints, and listen to deliveries locally."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated

import typer

from cli.common import console, finish, run_briefly

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from client.webhooks import RegisteredEndpoint, WebhooksClient

webhooks_app = typer.Typer(help="Webhooks to the ATS: endpoints and deliveries.")

Delivered = Callable[[dict[str, object], bool], Awaitable[None] | None]


def receiver(secret: Callable[[], str], on_delivery: Delivered) -> Starlette:
    """An endpoint that verifies each delivery's signature and hands it on."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from domain.webhooks import SIGNATURE_HEADER, verify

    async def deliver(request: Request) -> Response:
        body = await request.body()
        valid = verify(secret(), request.headers.get(SIGNATURE_HEADER, ""), body, int(time.time()))
        outcome = on_delivery(json.loads(body), valid)
        if outcome is not None:
            await outcome
        return Response(status_code=204 if valid else 400)

    async def health(_: Request) -> Response:
        return Response(status_code=204)

    return Starlette(
        routes=[Route("/", deliver, methods=["POST"]), Route("/healthz", health, methods=["GET"])]
    )


async def _client() -> WebhooksClient:
    from client.connection import connect
    from client.webhooks import WebhooksClient
    from settings import get_settings

    settings = get_settings()
    return WebhooksClient.from_settings(await connect(settings.load_payload_keys()), settings)


@webhooks_app.command()
def listen(
    port: Annotated[int, typer.Option(help="Loopback port to receive deliveries on.")] = 8099,
    customer: Annotated[str | None, typer.Option(help="Only this customer's events.")] = None,
) -> None:
    """Register a loopback endpoint and print each delivery, its signature checked."""
    import uvicorn

    url = f"http://127.0.0.1:{port}/"
    registered = run_briefly(lambda: _register(url, customer))
    console.print(f"listening on {url} as {registered.id}; Ctrl-C to stop")

    def show(event: dict[str, object], valid: bool) -> None:
        mark = "[green]signature ok[/green]" if valid else "[red]BAD SIGNATURE[/red]"
        data = event.get("data") or {}
        job = data.get("externalJobPostingId") if isinstance(data, dict) else None
        console.print(f"{event.get('type')}  {event.get('customerId')}  {job or ''}  {mark}")

    server = uvicorn.Server(
        uvicorn.Config(
            receiver(lambda: registered.secret, show),
            host="127.0.0.1",
            port=port,
            log_level="error",
        )
    )
    try:
        asyncio.run(server.serve())
    finally:
        run_briefly(lambda: _remove(registered.id))
    finish(0)


async def _register(url: str, customer: str | None) -> RegisteredEndpoint:
    return await (await _client()).register(url, customer)


async def _remove(endpoint_id: str) -> bool:
    return await (await _client()).remove(endpoint_id)
