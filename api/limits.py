"""The HTTP edge: who may send a body, and how large, decided before a byte of it is read.

FastAPI reads and parses a request body before its dependencies run, so an anonymous
client could make us buffer any amount. This ASGI middleware is where the bearer token is
compared, the one place: it answers 401 from the headers alone and 413 from Content-Length,
stops a body without one at the limit, and marks the request it let through with the token
(`token_checked`) for the routes behind it (api.deps.bearer_token) to require.
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
TOKEN_CHECKED = "linkedin_ats.token_checked"
"""The scope key the edge sets on a request that carried the token."""

Authorised = Callable[[Scope], bool]
Public = Callable[[Scope], bool]
"""Whether a request needs no token (health, the API's description, LinkedIn's webhooks)."""


def anyone_may_get(paths: frozenset[str]) -> Public:
    """GET and HEAD of these paths need no token."""

    def check(scope: Scope) -> bool:
        return scope["method"] in ("GET", "HEAD") and scope["path"] in paths

    return check


def token_checked(scope: Scope) -> bool:
    """Whether the edge let this request through with the token."""
    return scope.get(TOKEN_CHECKED) is True


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
    """401 without the token (unless `public`) and 413 over `max_bytes`, before the app
    reads the body."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        authorised: Authorised,
        public: Public,
        max_bytes: int,
        setting: str = "LINKEDIN_ATS_MAX_REQUEST_BYTES",
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
        if not self.public(scope):
            if not self.authorised(scope):
                await _answer(send, 401, "a valid bearer token is required", bearer_challenge=True)
                return
            scope = {**scope, TOKEN_CHECKED: True}
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
