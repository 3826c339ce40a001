"""The sandbox assembled: one module per LinkedIn resource, the control API, the webhook
LinkedIn delivers events to, and the middleware around them (faults and journal
outermost, then LinkedIn's path rules).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from linkedin_sandbox import (
    apply,
    control,
    events,
    gateway,
    integrations,
    jobs,
    oauth,
    provisioning,
    reports,
    webhooks,
    widget,
)
from linkedin_sandbox.faults import FaultMiddleware
from linkedin_sandbox.outbox import Outbox
from linkedin_sandbox.sandbox import Sandbox
from linkedin_sandbox.settings import SandboxSettings


def create_app(
    settings: SandboxSettings | None = None,
    webhook_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """The sandbox app; `webhook_transport` carries what it sends the partner's webhook
    (tests pass an in-process one), the network when unset."""
    sandbox = Sandbox(settings or SandboxSettings())
    outbox = Outbox(sandbox, webhook_transport)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        outbox.start()  # a webhook kept in the state file is validated on time
        api.state.applications.resume()  # and an application accepted, not yet delivered
        yield
        await outbox.aclose()
        sandbox.save()

    api = FastAPI(
        title="LinkedIn sandbox",
        description="A stateful stand-in for LinkedIn's partner APIs (linkedin-ats).",
        lifespan=lifespan,
    )
    api.state.sandbox = sandbox
    api.state.outbox = outbox
    gateway.install(api, sandbox)
    oauth.routes(api, sandbox)
    provisioning.routes(api, sandbox)
    integrations.routes(api, sandbox, outbox)
    jobs.routes(api, sandbox)
    reports.routes(api, sandbox)
    widget.routes(api, sandbox, outbox)
    webhooks.routes(api, sandbox, outbox)  # before control: /sandbox/faults/webhooks first
    events.routes(api, sandbox, outbox)
    api.state.applications = apply.routes(api, sandbox, outbox)
    control.routes(api, sandbox, outbox)
    # The middleware stack is built lazily: wrap it once, outermost, for faults + journal.
    api.add_middleware(gateway.LinkedInPaths)
    api.add_middleware(FaultMiddleware, faults=sandbox.faults, journal=sandbox.journal)
    return api
