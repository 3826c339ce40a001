"""The parent application's webhook, as LinkedIn's Developer Portal keeps it, and what
LinkedIn delivered to it. LinkedIn has no API for this; the sandbox serves it under
/sandbox/webhooks, /sandbox/deliveries and /sandbox/faults/webhooks.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Query, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from linkedin_sandbox.faults import WEBHOOKS, DeliveryFault
from linkedin_sandbox.outbox import Outbox
from linkedin_sandbox.sandbox import Sandbox
from linkedin_sandbox.state import Webhook

WEBHOOKS_PATH = "/sandbox/webhooks"
CHALLENGE_FAILED = "This URL did not pass the security challenge check"
"""LinkedIn's message when a URL fails validation at registration [WV]."""


class Registration(BaseModel):
    url: str


def webhook_view(hook: Webhook) -> dict[str, Any]:
    last = hook.last_validation
    return {
        "url": hook.url,
        "status": hook.status,
        "misses": hook.misses,
        "validations": hook.validations,
        "registeredAtMs": hook.registered_at_ms,
        "nextValidationMs": hook.next_validation_ms,
        "lastValidation": {
            "atMs": last.at_ms,
            "kind": last.kind,
            "ok": last.ok,
            "reason": last.reason,
        },
    }


def routes(api: FastAPI, sandbox: Sandbox, outbox: Outbox) -> None:
    """Register before control.routes: /sandbox/faults/webhooks precedes /faults/{endpoint}."""

    @api.post(WEBHOOKS_PATH, status_code=201)
    async def register(registration: Registration) -> JSONResponse:
        # Not under the gateway's lock: the challenge waits on the partner (up to 3 s).
        reason = await outbox.register(registration.url)
        if reason is not None:
            return JSONResponse(
                {"message": CHALLENGE_FAILED, "status": 400, "reason": reason}, status_code=400
            )
        assert sandbox.world.webhook is not None
        return JSONResponse(webhook_view(sandbox.world.webhook), status_code=201)

    @api.get(WEBHOOKS_PATH)
    async def webhooks() -> list[dict[str, Any]]:
        hook = sandbox.world.webhook
        return [webhook_view(hook)] if hook else []

    @api.delete(WEBHOOKS_PATH, status_code=204)
    async def unregister() -> Response:
        async with sandbox.lock:
            sandbox.world.webhook = None
            sandbox.world.changed()
        return Response(status_code=204)

    @api.get("/sandbox/deliveries")
    async def deliveries(
        event_type: str | None = Query(default=None, alias="type"),
    ) -> list[dict[str, Any]]:
        return [d for d in outbox.deliveries if event_type in (None, d["type"])]

    @api.delete("/sandbox/deliveries", status_code=204)
    async def clear_deliveries() -> Response:
        outbox.deliveries.clear()
        return Response(status_code=204)

    @api.put(f"/sandbox/faults/{WEBHOOKS}")
    async def set_delivery_fault(fault: DeliveryFault) -> dict[str, Any]:
        outbox.faults = fault
        return fault.model_dump(by_alias=True)
