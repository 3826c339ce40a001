"""LinkedIn's door: webhook validation and signed events, outside the ATS's bearer token.

LinkedIn cannot send our token; it proves itself by signing (../shared/linkedin-inbound.md
§1-2). A GET with `challengeCode` is answered at once, from secrets alone. A POST is
checked on its raw bytes before anything parses it; unsigned or forged is 401, too large
413, and neither starts anything. An accepted event is in Temporal before the 200
(`LinkedInEventsClient.accept`), and the same bytes again are a no-op.
"""

from __future__ import annotations

import json
from typing import Annotated

import structlog
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse

from api import errors
from api.deps import Applications, AppSecrets, CustomerId, LinkedInEvents, Secrets
from client.applications import AcceptedApplication
from client.linkedin_events import AcceptedEvent, LinkedInEventsClient
from domain.applications import MAX_APPLICATION_BYTES
from domain.linkedin_events import (
    MAX_EVENT_BYTES,
    SIGNATURE_HEADER,
    SignatureForm,
    challenge_response,
    signature_form,
)

log = structlog.get_logger("linkedin_inbound")

SIGNED = errors.problems(413) | {
    401: {"model": errors.Problem, "description": "No X-LI-Signature, or one no secret explains."}
}
EVENT_BODY = {
    "requestBody": {
        "required": True,
        "description": "LinkedIn's event, verified on these raw bytes before it is parsed.",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}

router = APIRouter(prefix="/linkedin", tags=["linkedin"])

ChallengeCode = Annotated[str | None, Query(alias="challengeCode", min_length=1, max_length=200)]
ApplicationId = Annotated[str | None, Query(alias="applicationId", min_length=1, max_length=200)]


@router.get("/webhook", responses=errors.problems(400, 404))
async def linkedin_challenge(
    secrets: Secrets,
    challenge_code: ChallengeCode = None,
    application_id: ApplicationId = None,
) -> JSONResponse:
    """LinkedIn validates the parent app's webhook URL (every 2 hours)."""
    return await _challenge(secrets, challenge_code, application_id, None)


@router.post("/webhook", responses=SIGNED, openapi_extra=EVENT_BODY)
async def linkedin_event(
    request: Request, secrets: Secrets, events: LinkedInEvents
) -> AcceptedEvent:
    """An event of the parent app (job status change, resync request), signed by LinkedIn."""
    return await _event(request, secrets, events, None)


@router.get("/customers/{customer_id}/events", responses=errors.problems(400, 404))
async def linkedin_customer_challenge(
    secrets: Secrets,
    customer_id: CustomerId,
    challenge_code: ChallengeCode = None,
    application_id: ApplicationId = None,
) -> JSONResponse:
    """LinkedIn validates a customer's own callback URL."""
    return await _challenge(secrets, challenge_code, application_id, customer_id)


@router.post("/customers/{customer_id}/events", responses=SIGNED, openapi_extra=EVENT_BODY)
async def linkedin_customer_event(
    request: Request, secrets: Secrets, events: LinkedInEvents, customer_id: CustomerId
) -> AcceptedEvent:
    """A push event of a customer's app, signed by LinkedIn."""
    return await _event(request, secrets, events, customer_id)


@router.get("/customers/{customer_id}/applications", responses=errors.problems(400, 404))
async def linkedin_applications_challenge(
    secrets: Secrets,
    customer_id: CustomerId,
    challenge_code: ChallengeCode = None,
    application_id: ApplicationId = None,
) -> JSONResponse:
    """LinkedIn validates a job's jobApplicationWebhookUrl (Apply Connect)."""
    return await _challenge(secrets, challenge_code, application_id, customer_id)


@router.post("/customers/{customer_id}/applications", responses=SIGNED, openapi_extra=EVENT_BODY)
async def linkedin_application(
    request: Request, secrets: Secrets, applications: Applications, customer_id: CustomerId
) -> AcceptedApplication:
    """An Apply Connect application: durable before the 200; a retry is a no-op."""
    body, form = await _signed(request, secrets, customer_id, MAX_APPLICATION_BYTES)
    accepted = await applications.accept(customer_id, body, form)
    log.info(
        "linkedin.application",
        application=accepted.application_id,
        form=form.name,
        customer_id=customer_id,
    )
    return accepted


async def _challenge(
    secrets: AppSecrets, code: str | None, application: str | None, customer_id: str | None
) -> JSONResponse:
    """`{"challengeCode", "challengeResponse"}` under the secret of `applicationId` when
    given (a customer's child app), else the parent app's (§1)."""
    if code is None:
        raise HTTPException(400, "challengeCode: required (LinkedIn's webhook validation)")
    secret = secrets.partner_secret
    if application is not None:
        found = await secrets.of_application(application)
        if found is None or customer_id not in (None, found[0]):
            raise HTTPException(404, f"applicationId: no customer has application {application}")
        secret = found[1]
    body = {"challengeCode": code, "challengeResponse": challenge_response(code, secret)}
    return JSONResponse(body)


async def _event(
    request: Request,
    secrets: AppSecrets,
    events: LinkedInEventsClient,
    customer_id: str | None,
) -> AcceptedEvent:
    body, form = await _signed(request, secrets, customer_id, MAX_EVENT_BYTES)
    accepted = await events.accept(body, form, customer_id)
    log.info(
        "linkedin.event",
        event_id=accepted.event_id,
        form=form.name,
        customer_id=customer_id,
    )
    return accepted


async def _signed(
    request: Request, secrets: AppSecrets, customer_id: str | None, limit: int
) -> tuple[bytes, SignatureForm]:
    """The raw body and the signature form that proved it LinkedIn's; 401 or 413 otherwise,
    before anything parses it."""
    body = await _bounded_body(request, limit)
    header = request.headers.get(SIGNATURE_HEADER)
    if not header:
        raise HTTPException(401, f"{SIGNATURE_HEADER}: required; LinkedIn signs what it sends")
    form = await _verified(secrets, header, body, customer_id)
    if form is None:
        log.warning("linkedin.forged", path=request.url.path, bytes=len(body))
        raise HTTPException(401, f"{SIGNATURE_HEADER}: does not match this body")
    return body, form


async def _bounded_body(request: Request, limit: int) -> bytes:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise HTTPException(413, f"body: over {limit} bytes; not a LinkedIn event")
    return body


async def _verified(
    secrets: AppSecrets, header: str, body: bytes, customer_id: str | None
) -> SignatureForm | None:
    """Which secret signed it, tolerantly (§2 leaves parent or child open): the parent's,
    the customer's of the path, or the app the body names."""
    keys = [secrets.partner_secret]
    if customer_id is not None:
        own = await secrets.of_customer(customer_id)
        keys += [own] if own else []
    form = signature_form(header, body, keys)
    if form is not None:
        return form
    try:
        named = json.loads(body).get("developerApplicationUrn")
    except (ValueError, AttributeError):
        return None
    if not isinstance(named, str) or len(named) > 200:
        return None
    found = await secrets.of_application(named)
    if found is None or customer_id not in (None, found[0]):
        return None
    return signature_form(header, body, [found[1]])
