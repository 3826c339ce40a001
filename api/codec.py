"""Temporal's remote codec endpoint, so the UI and `temporal` CLI show our encrypted payloads.

POST /encode and /decode take and answer `{"payloads": [...]}` in protobuf JSON. Callers
present `Authorization: Bearer <token>`; the Temporal UI, which cannot add that header
without a login of its own, is given an endpoint that carries the token as its first path
segment instead (`http://host:port/<token>`). CORS admits the UI's origins only.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Iterable, Sequence

from google.protobuf import json_format
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send
from temporalio.api.common.v1 import Payload, Payloads

from api.limits import EdgeGuard, anyone_may_get, bearer
from api.request_log import RequestLog
from client.codec import EncryptionCodec, PayloadKeyError, PayloadKeys

MAX_REQUEST_BYTES = 16 * 1024 * 1024
"""A history page's payloads: Temporal caps each at 2 MB, base64 adds a third."""
PATH_TOKEN = "codec.path_token"

Transform = Callable[[Iterable[Payload]], Awaitable[list[Payload]]]


def create_codec_app(keys: PayloadKeys, token: str, ui_origins: Sequence[str]) -> ASGIApp:
    codec = EncryptionCodec(keys)

    def endpoint(transform: Transform) -> Callable[[Request], Awaitable[Response]]:
        async def apply(request: Request) -> Response:
            try:
                payloads = json_format.Parse(await request.body(), Payloads())
            except json_format.ParseError as error:
                return JSONResponse({"detail": f"expected Payloads JSON: {error}"}, 400)
            try:
                answered = Payloads(payloads=await transform(payloads.payloads))
            except PayloadKeyError as error:
                return JSONResponse({"detail": str(error)}, 422)
            return Response(json_format.MessageToJson(answered), media_type="application/json")

        return apply

    async def health(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    app = Starlette(
        routes=[
            Route("/healthz", health),
            Route("/encode", endpoint(codec.encode), methods=["POST"]),
            Route("/decode", endpoint(codec.decode), methods=["POST"]),
        ]
    )
    with_header = bearer(token)
    guarded = EdgeGuard(
        app,
        authorised=lambda scope: bool(scope.get(PATH_TOKEN)) or with_header(scope),
        max_bytes=MAX_REQUEST_BYTES,
        setting="the codec server's limit",
        public=anyone_may_get(frozenset({"/healthz"})),
    )
    return CORSMiddleware(
        TokenInPath(RequestLog(guarded), token),  # logged after the token left the path
        allow_origins=list(ui_origins),
        allow_methods=["POST"],
        allow_headers=["content-type", "x-namespace", "authorization"],
        max_age=600,
    )


class TokenInPath:
    """`/<token>/decode` is `/decode` with the token shown: for the UI's endpoint setting."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            first, _, rest = scope["path"].lstrip("/").partition("/")
            if rest and secrets.compare_digest(first.encode(), self.token):
                scope = {**scope, "path": f"/{rest}", "raw_path": f"/{rest}".encode()}
                scope[PATH_TOKEN] = True
        await self.app(scope, receive, send)
