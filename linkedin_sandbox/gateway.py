"""What happens to every request around its resource: LinkedIn's path rules, one request
at a time over the world, due tasks processed first, the world saved if it changed, and
LinkedIn's error shape for whatever a resource or the framework refuses.
"""

from __future__ import annotations

import re
import uuid

from fastapi import FastAPI, Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.base import RequestResponseEndpoint

from linkedin_sandbox import jobs
from linkedin_sandbox.errors import LinkedInRefusal, error_response, not_found
from linkedin_sandbox.faults import ASGIApp, Receive, Scope, Send
from linkedin_sandbox.sandbox import Sandbox
from linkedin_sandbox.webhooks import WEBHOOKS_PATH
from linkedin_sandbox.widget import SAVE_PATH

_VERSION = re.compile(r"^\d{4}(0[1-9]|1[0-2])$")
"""LinkedIn-Version is a month, YYYYMM (LinkedIn's SDK sends 202504)."""
API_ROOTS = ("/v2/", "/rest/")
"""Where LinkedIn's resources live: the unversioned and the versioned API."""
MISSING_VERSION = (
    "A required header LinkedIn-Version is missing or invalid: versioned APIs under "
    "/rest/ need LinkedIn-Version: YYYYMM"
)


class LinkedInPaths:
    """What LinkedIn does to a path before its resources see it (pure ASGI).

    A trailing slash names the same resource (LinkedIn's SDK and Postman collection send
    `/v2/provisionedApplications/`), and versioned paths under /rest/ need a
    LinkedIn-Version header.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if len(path) > 1 and path.endswith("/") and not path.startswith("/sandbox/"):
                scope = {**scope, "path": path.rstrip("/") or "/", "raw_path": None}
            if scope["path"].startswith("/rest/"):
                headers = dict(scope.get("headers") or [])
                version = headers.get(b"linkedin-version", b"").decode("latin-1")
                if not _VERSION.match(version):
                    await error_response(400, MISSING_VERSION, 0)(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def resource_named(path: str) -> str:
    """What LinkedIn's 404 names: the resource after the API root (`simpleJobPostingTaskss`
    for `/v2/simpleJobPostingTaskss`), or the path when it lies outside both roots."""
    for root in API_ROOTS:
        if path.startswith(root) and len(path) > len(root):
            return path[len(root) :].split("/", 1)[0]
    return path


def install(api: FastAPI, sandbox: Sandbox) -> None:
    """LinkedIn's error handlers and the middleware that serialises access to the world."""

    @api.exception_handler(LinkedInRefusal)
    async def refused(_: Request, exc: LinkedInRefusal) -> JSONResponse:
        return error_response(exc.status, exc.message, exc.code)

    @api.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        """LinkedIn's error shape for unknown paths and methods, never FastAPI's."""
        if request.url.path.startswith("/sandbox/"):
            return await http_exception_handler(request, exc)
        if exc.status_code == 404:
            missing = not_found(resource_named(request.url.path))
            return error_response(missing.status, missing.message, missing.code)
        return error_response(exc.status_code, str(exc.detail), 0)

    @api.middleware("http")
    async def serialise(request: Request, call_next: RequestResponseEndpoint) -> Response:
        """One request at a time sees and changes the world, which is then saved if changed."""
        if request.url.path in (SAVE_PATH, WEBHOOKS_PATH):
            # The widget's changes happen before its only await (the ATS callback), and
            # that callback may reach code that calls the sandbox again; a webhook's
            # registration waits on its challenge, then takes the lock itself: no lock here.
            saved = await call_next(request)
            sandbox.save()
            return saved
        async with sandbox.lock:
            if not request.url.path.startswith("/sandbox/"):
                jobs.process_due(sandbox.world, sandbox.settings)
            response = await call_next(request)
            sandbox.save()
            response.headers.setdefault("x-li-uuid", uuid.uuid4().hex)
            return response
