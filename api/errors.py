"""Refusals from our clients as HTTP answers."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse

from client.errors import Refused

REFUSAL_STATUS = {"InvalidOperation": 422, "OperationConflict": 409, "NotFound": 404}
"""HTTP status of each refusal reason; anything else is 503."""


async def refused(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, Refused)
    code = REFUSAL_STATUS.get(error.reason, 503)
    return JSONResponse({"detail": error.message, "reason": error.reason}, status_code=code)
