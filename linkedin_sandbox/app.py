"""The sandbox assembled: one module per LinkedIn resource, the control API, and the
middleware around them (faults and journal outermost, then LinkedIn's path rules).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from linkedin_sandbox import control, gateway, integrations, jobs, oauth, provisioning, widget
from linkedin_sandbox.faults import FaultMiddleware
from linkedin_sandbox.sandbox import Sandbox
from linkedin_sandbox.settings import SandboxSettings


def create_app(settings: SandboxSettings | None = None) -> FastAPI:
    sandbox = Sandbox(settings or SandboxSettings())

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        sandbox.save()

    api = FastAPI(
        title="LinkedIn sandbox",
        description="A stateful stand-in for LinkedIn's partner APIs (linkedin-ats).",
        lifespan=lifespan,
    )
    api.state.sandbox = sandbox
    gateway.install(api, sandbox)
    oauth.routes(api, sandbox)
    provisioning.routes(api, sandbox)
    integrations.routes(api, sandbox)
    jobs.routes(api, sandbox)
    widget.routes(api, sandbox)
    control.routes(api, sandbox)
    # The middleware stack is built lazily: wrap it once, outermost, for faults + journal.
    api.add_middleware(gateway.LinkedInPaths)
    api.add_middleware(FaultMiddleware, faults=sandbox.faults, journal=sandbox.journal)
    return api
