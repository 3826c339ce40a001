"""The HTTP edge: who may send a body, and how large, decided before a byte of it is read.

FastAPI reads and parses a request body before its dependencies check the token, so an
anonymous client could make us buffer any amount. This ASGI middleware answers 401 from the
headers alone and 413 from Content-Length, and stops a body without one at the limit.
"""

from __future__ import annotations

import ipaddress
import json
import secrets
from collections.abc import Callable

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import PROBLEM, problem_body

DEFAULT_TOKEN = "dev-token"
PUBLIC_PATHS = frozenset({"/healthz", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"})
"""What anyone may GET: health and the API's description."""
SIGNED_PREFIX = "/linkedin/"
"""LinkedIn's door: it cannot send our token and signs each event instead (api/linkedin.py)."""

Authorised = Callable[[Scope], bool]


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int, setting: str) -> None:
        super().__init__(413, f"request body exceeds the limit of {limit} bytes ({setting})")


def bearer(token: str) -> Authorised:
    """Whether a request carries `Authorization: Bearer <token>` (compared in constant time)."""
    expected = f"Bearer {token}".encode()

    def check(scope: Scope) -> bool:
        for name, value in scope["headers"]:
            if name == b"authorization":
                return secrets.compare_digest(value, expected)
        return False

    return check


class EdgeGuard:
    """401 without the token and 413 over `max_bytes`, before the app reads the body."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        authorised: Authorised,
        max_bytes: int,
        setting: str = "LINKEDIN_ATS_MAX_REQUEST_BYTES",
        public: frozenset[str] = PUBLIC_PATHS,
    ) -> None:
        self.app = app
        self.authorised = authorised
        self.max_bytes = max_bytes
        self.setting = setting
        self.public = public

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        open_to_all = (
            scope["method"] in ("GET", "HEAD") and scope["path"] in self.public
        ) or scope["path"].startswith(SIGNED_PREFIX)
        if not open_to_all and not self.authorised(scope):
            await _answer(send, 401, "a valid bearer token is required", bearer_challenge=True)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await _answer(send, 413, BodyTooLarge(self.max_bytes, self.setting).detail)
            return
        await self._bounded(scope, receive, send)

    async def _bounded(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, stopping a body that grows past the limit as it streams."""
        seen = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes, self.setting)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except BodyTooLarge as error:
            if started:
                raise
            await _answer(send, 413, error.detail)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _answer(send: Send, status: int, detail: str, *, bearer_challenge: bool = False) -> None:
    body = json.dumps(problem_body(status, detail)).encode()
    headers = [
        (b"content-type", PROBLEM.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    if bearer_challenge:
        headers.append((b"www-authenticate", b"Bearer"))
    # The body was not read: ask the client to drop the connection rather than send it.
    headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def default_token_refused(host: str, token: str) -> str | None:
    """Why the API must not serve on `host` with this token, or None when it may."""
    if token == DEFAULT_TOKEN and not is_loopback(host):
        return (
            f"LINKEDIN_ATS_API_TOKEN is the default {DEFAULT_TOKEN!r}: set a secret of your own "
            f"before serving on {host} (the default is accepted on loopback only)"
        )
    return None
