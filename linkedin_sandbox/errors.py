"""LinkedIn's refusals and the shape it answers them in."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse


class LinkedInRefusal(Exception):
    """A whole request refused, with LinkedIn's status, message and service error code."""

    def __init__(self, status: int, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


def error_response(status: int, message: str, code: int | None = None) -> JSONResponse:
    """LinkedIn's error body: message, status, and serviceErrorCode when it has one."""
    body: dict[str, Any] = {"message": message, "status": status}
    if code is not None:
        body["serviceErrorCode"] = code
    return JSONResponse(body, status_code=status, headers={"x-li-uuid": uuid.uuid4().hex})


def not_found(resource: str) -> LinkedInRefusal:
    """LinkedIn's answer for a path or resource it does not have."""
    return LinkedInRefusal(404, f"Resource {resource} does not exist", 0)


def forbidden(what: str) -> LinkedInRefusal:
    """LinkedIn's answer to a token that may not call this endpoint."""
    return LinkedInRefusal(403, f"Not enough permissions to access: {what}", 100)


async def json_body(request: Request) -> Any:
    """The request's JSON, or LinkedIn's 400 for a body that is not JSON."""
    try:
        return await request.json()
    except ValueError:
        raise LinkedInRefusal(400, "Invalid JSON in the request body", 0) from None
