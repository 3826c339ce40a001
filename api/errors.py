"""Every error the API answers, as RFC 9457 problem details (`application/problem+json`).

One shape: `{"type", "title", "status", "detail", "errors"?}`. `detail` is one readable
line; a request with invalid fields lists every one of them at once in `errors`, each
with its `path` (e.g. `body.budget.payForPerformanceTotalBudget.amount`) and `message`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError
from pydantic.alias_generators import to_camel
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from client.errors import Refused
from domain.validation import rule

PROBLEM = "application/problem+json"
log = structlog.get_logger("api")

REFUSAL_STATUS = {"InvalidOperation": 422, "OperationConflict": 409, "NotFound": 404}
"""HTTP status of each refusal reason; anything else is 503."""

RETRY_AFTER = {"Retry-After": "5"}
"""On a 503: a worker retries a failing task, and learns a replay's order, within seconds."""


class FieldError(BaseModel):
    path: str = Field(description="Where, e.g. body.budget.payForPerformanceTotalBudget.amount.")
    message: str = Field(description="The rule the value broke.")


class Problem(BaseModel):
    """RFC 9457 problem details: the body of every error answer, as `problem_body` makes it."""

    type: str = Field(description="A URL naming the problem, e.g. …/problems/NotFound.")
    title: str = Field(description="The status's phrase.")
    status: int
    detail: str = Field(description="One readable line.")
    errors: list[FieldError] | None = Field(
        default=None, description="Each invalid field, when the request had any."
    )


ANSWERS = {
    400: "A required query parameter is missing (LinkedIn's `challengeCode`).",
    401: "No bearer token, or a wrong one.",
    404: "No such customer, integration, job, operation or endpoint.",
    409: "Its state does not allow it: a closed job, too many unfinished operations, "
    "as many webhook endpoints as allowed.",
    413: "The body is larger than LINKEDIN_ATS_MAX_REQUEST_BYTES.",
    422: "Invalid input: every invalid field is named in `errors`.",
    500: "Our own code failed; the API's log has the trace.",
    503: "Temporal is unreachable or did not answer in time, or a workflow cannot be read; "
    "try again after Retry-After.",
}
"""What each error status means, as the OpenAPI document and docs/api.md say it."""


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error statuses, each a Problem (api.openapi files it
    under application/problem+json)."""
    return {status: {"model": Problem, "description": ANSWERS[status]} for status in statuses}


def problem_body(status: int, detail: str, kind: str | None = None) -> dict[str, Any]:
    title = HTTPStatus(status).phrase
    return {
        "type": f"https://linkedin-ats.dev/problems/{kind or title.lower().replace(' ', '-')}",
        "title": title,
        "status": status,
        "detail": detail,
    }


def problem(
    status: int,
    detail: str,
    *,
    kind: str | None = None,
    errors: Sequence[Mapping[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """A problem-details answer; `kind` names the problem (a refusal reason, say)."""
    body = problem_body(status, detail, kind)
    if errors:
        body["errors"] = list(errors)
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _field_errors(errors: Iterable[Mapping[str, Any]], camel: bool = False) -> list[dict[str, str]]:
    """Each error's path and rule; `camel` names fields as the API's JSON does."""
    return [{"path": _path(e["loc"], camel), "message": rule(e)} for e in errors]


def _path(loc: Iterable[Any], camel: bool) -> str:
    return ".".join(to_camel(p) if camel and isinstance(p, str) else str(p) for p in loc)


def _invalid(errors: list[dict[str, str]]) -> JSONResponse:
    lines = "; ".join(f"{e['path']}: {e['message']}" if e["path"] else e["message"] for e in errors)
    return problem(422, lines, kind="invalid-request", errors=errors)


async def _request_invalid(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    return _invalid(_field_errors(error.errors()))


async def _model_invalid(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ValidationError)  # a model our clients build from the request
    return _invalid(_field_errors(error.errors(), camel=True))


async def _http(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    return problem(error.status_code, str(error.detail), headers=error.headers)


async def _refused(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, Refused)
    status = REFUSAL_STATUS.get(error.reason, 503)
    headers = RETRY_AFTER if status == 503 else None
    return problem(status, error.message, kind=error.reason, headers=headers)


async def _temporal(_: Request, error: Exception) -> JSONResponse:
    """Temporal's answer by what it means: only an unreachable server is "unavailable"."""
    assert isinstance(error, RPCError)
    if error.status == RPCStatusCode.NOT_FOUND:
        return problem(404, error.message)
    if error.status == RPCStatusCode.UNAVAILABLE:
        detail = f"Temporal: {error.message}"
        return problem(503, detail, kind="temporal-unavailable", headers=RETRY_AFTER)
    if error.status in (RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED):
        detail = f"Temporal did not answer in time: {error.message}"
        return problem(503, detail, kind="temporal-timeout", headers=RETRY_AFTER)
    detail = f"Temporal refused the call ({error.status.name}): {error.message}"
    return problem(500, detail, kind="temporal-error")


async def _update_failed(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, WorkflowUpdateFailedError)
    cause = error.cause
    if isinstance(cause, ApplicationError) and cause.type in REFUSAL_STATUS:
        return problem(REFUSAL_STATUS[cause.type], cause.message, kind=cause.type)
    message = getattr(cause, "message", None) or str(cause or error)
    return problem(422, message, kind="invalid-request")


class ProblemForEveryError:
    """Answers any exception no handler took as a 500 problem, and keeps the connection.

    Starlette's own last resort answers a bare text 500 and re-raises, after which uvicorn
    drops the keep-alive connection: a client's next request on it then fails with
    "Server disconnected", though it was never received. The detail names the error's
    type only: its text may hold a request's personal data."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as error:
            if started:
                raise
            log.exception("api.unhandled_error", path=scope.get("path"), error=type(error).__name__)
            detail = f"internal error ({type(error).__name__}); the server log has its trace"
            await problem(500, detail, kind="internal-error")(scope, receive, send)


def install(app: FastAPI) -> None:
    """Answer every error of `app` as problem details."""
    app.add_middleware(ProblemForEveryError)
    app.add_exception_handler(RequestValidationError, _request_invalid)
    app.add_exception_handler(ValidationError, _model_invalid)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(Refused, _refused)
    app.add_exception_handler(RPCError, _temporal)
    app.add_exception_handler(WorkflowUpdateFailedError, _update_failed)
