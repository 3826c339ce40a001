"""Faults on demand and the request journal, as a pure ASGI middleware.

Pure ASGI so that "commit then drop" can really drop: the request is processed and
committed, then the connection closes before any answer body, as when LinkedIn's
answer is lost on the way back.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, urlencode

from pydantic import BaseModel, Field, PrivateAttr

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

ENDPOINTS = {
    "/oauth/v2/accessToken": "accessToken",
    "/v2/provisionedApplications": "provisionedApplications",
    "/rest/provisionedHiringContracts": "provisionedHiringContracts",
    "/v2/atsIntegrations": "atsIntegrations",
    "/v2/simpleJobPostings": "simpleJobPostings",
    "/v2/simpleJobPostingTasks": "simpleJobPostingTasks",
    "/v2/jobPostingStatus": "jobPostingStatus",
    "/rest/simpleJobPostings": "simpleJobPostings",
    "/rest/simpleJobPostingTasks": "simpleJobPostingTasks",
    "/ambry": "ambry",
    "/v2/jobApplicationLifecycleActions": "jobApplicationLifecycleActions",
}
SECRET_FIELDS = {"client_secret", "access_token"}


def endpoint_of(path: str) -> str | None:
    for prefix, name in ENDPOINTS.items():
        if path == prefix or path.startswith(prefix + "/"):
            return name
    return None


class Fault(BaseModel):
    """What to do to the next requests of one endpoint."""

    fail_next: int = Field(default=0, ge=0, alias="failNext")
    status: int = Field(default=500, ge=400, le=599)
    message: str | None = None
    """LinkedIn's message to answer with; a generic one for the status when unset."""
    retry_after: float | None = Field(default=None, alias="retryAfter")
    error_rate: float = Field(default=0.0, ge=0.0, le=1.0, alias="errorRate")
    latency_ms: int = Field(default=0, ge=0, alias="latencyMs")
    drop_next: int = Field(default=0, ge=0, alias="dropNext")
    """Process and commit the next N requests, then drop their answers."""
    seed: int | None = None
    _rng: random.Random | None = PrivateAttr(default=None)

    model_config = {"populate_by_name": True}

    def roll(self) -> bool:
        """Whether error_rate strikes this request; seeded, so a run can be repeated."""
        if self._rng is None:
            self._rng = random.Random(self.seed)
        return self._rng.random() < self.error_rate


WEBHOOKS = "webhooks"
"""The fault name for what LinkedIn POSTs to the partner's webhook (DeliveryFault)."""


class DeliveryFault(BaseModel):
    """What to do to the next events LinkedIn delivers to the partner's webhook."""

    duplicate_next: int = Field(default=0, ge=0, alias="duplicateNext")
    """Deliver each of the next N events twice: the same bytes and signature again."""
    reorder_next: int = Field(default=0, ge=0, alias="reorderNext")
    """Hold the next N events until all N are queued, then send them newest first."""
    forge_next: int = Field(default=0, ge=0, alias="forgeNext")
    """Before each of the next N events, a third party POSTs it signed with a wrong secret;
    the receiver must refuse it (401)."""

    model_config = {"populate_by_name": True}


class Journal:
    """The last requests the sandbox answered, secrets masked."""

    def __init__(self, size: int = 10_000) -> None:
        self.entries: deque[dict[str, Any]] = deque(maxlen=size)

    def record(self, scope: Scope, body: bytes, status: int | None) -> None:
        headers = {}
        for raw_name, raw_value in scope.get("headers", []):
            name = raw_name.decode("latin-1").lower()
            value = raw_value.decode("latin-1")
            if name == "authorization":
                value = value.split(" ", 1)[0] + " ***"
            headers[name] = value
        self.entries.append(
            {
                "at": time.time(),
                "method": scope["method"],
                "path": scope["path"],
                "query": scope.get("query_string", b"").decode("latin-1"),
                "headers": headers,
                "body": _masked_body(body, headers.get("content-type", "")),
                "status": status,
            }
        )


def _masked_body(body: bytes, content_type: str) -> Any:
    if not body:
        return None
    text = body.decode("utf-8", "replace")
    if "x-www-form-urlencoded" in content_type:
        pairs = [(k, "***" if k in SECRET_FIELDS else v) for k, v in parse_qsl(text)]
        return urlencode(pairs, safe="*")
    try:
        return json.loads(text)
    except ValueError:
        return text


class FaultMiddleware:
    def __init__(self, app: ASGIApp, faults: dict[str, Fault], journal: Journal) -> None:
        self.app = app
        self.faults = faults
        self.journal = journal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        endpoint = endpoint_of(scope["path"])
        fault = self.faults.get(endpoint) if endpoint else None
        journaled = not scope["path"].startswith("/sandbox/")

        async def replay() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        async def journaling_send(message: Message) -> None:
            # Journal before the answer leaves, so a caller never reads a journal without it.
            if journaled and message["type"] == "http.response.start":
                self.journal.record(scope, body, message["status"])
            await send(message)

        if fault is not None:
            if fault.latency_ms:
                await asyncio.sleep(fault.latency_ms / 1000)
            if self._should_fail(fault):
                await self._fail(fault, journaling_send)
                return
            if fault.drop_next > 0:
                fault.drop_next -= 1
                await self.app(scope, replay, _swallow)
                self.journal.record(scope, body, None)
                await send(
                    {
                        "type": "http.response.start",
                        "status": 200,
                        "headers": [(b"content-length", b"64")],
                    }
                )
                return
        await self.app(scope, replay, journaling_send)

    def _should_fail(self, fault: Fault) -> bool:
        if fault.fail_next > 0:
            fault.fail_next -= 1
            return True
        return fault.error_rate > 0 and fault.roll()

    async def _fail(self, fault: Fault, send: Send) -> None:
        messages = {429: "Too Many Requests", 503: "Service Unavailable", 504: "Gateway Timeout"}
        payload = json.dumps(
            {
                "serviceErrorCode": 0,
                "message": fault.message or messages.get(fault.status, "Internal Server Error"),
                "status": fault.status,
            }
        ).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode()),
        ]
        if fault.retry_after is not None:
            headers.append((b"retry-after", str(int(fault.retry_after)).encode()))
        await send({"type": "http.response.start", "status": fault.status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


async def _swallow(message: Message) -> None:
    return None
