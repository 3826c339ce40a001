"""POST /oauth/v2/accessToken: the client-credentials grant, for the partner and child apps."""

from __future__ import annotations

import secrets
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from linkedin_sandbox.sandbox import Sandbox
from linkedin_sandbox.state import Token


def routes(api: FastAPI, sandbox: Sandbox) -> None:
    @api.post("/oauth/v2/accessToken")
    async def access_token(request: Request) -> JSONResponse:
        form = dict(parse_qsl((await request.body()).decode()))
        if form.get("grant_type") != "client_credentials":
            return JSONResponse(
                {
                    "error": "unsupported_grant_type",
                    "error_description": 'A required parameter "grant_type" is missing or '
                    "is not client_credentials",
                },
                status_code=400,
            )
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        settings = sandbox.settings
        if client_id == settings.partner_client_id:
            valid = secrets.compare_digest(secret, settings.partner_client_secret)
        else:
            app = sandbox.world.apps.get(client_id)
            valid = app is not None and secrets.compare_digest(secret, app.client_secret)
        if not valid:
            return JSONResponse(
                {"error": "invalid_client", "error_description": "Client authentication failed"},
                status_code=401,
            )
        token = "AQ" + secrets.token_urlsafe(48)
        ttl = settings.token_ttl_seconds
        sandbox.world.tokens[token] = Token(
            client_id=client_id, expires_at_ms=sandbox.world.now_ms() + ttl * 1000
        )
        sandbox.world.changed()
        expires_in: int | str = str(ttl) if settings.token_expires_in_as_string else ttl
        return JSONResponse({"access_token": token, "expires_in": expires_in})
