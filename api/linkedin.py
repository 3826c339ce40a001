"""LinkedIn's door: webhook validation and signed events, outside the ATS's bearer token.

LinkedIn cannot send our token; it proves itself by signing (../shared/linkedin-inbound.md
§1-2). A GET with `challengeCode` is answered at once, from secrets alone. A POST is
checked on its raw bytes before anything parses it; unsigned or forged is 401, too large
413, and neither starts anything. An accepted event is in Temporal before the 200
(`LinkedInEventsClient.accept`), and the same bytes again are a no-op.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Annotated, Protocol

import structlog
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.params import Depends as DependsParam
from fastapi.responses import JSONResponse

from api.paths import segment
from client.applications import AcceptedApplication, ApplicationsClient
from client.linkedin_events import (
    MAX_LISTED,
    AcceptedEvent,
    LinkedInEventsClient,
    LinkedInEventSummary,
)
from domain.applications import MAX_APPLICATION_BYTES
from domain.linkedin_events import (
    MAX_EVENT_BYTES,
    SIGNATURE_HEADER,
    EventOutcome,
    SignatureForm,
    challenge_response,
    signature_form,
)

log = structlog.get_logger("linkedin_inbound")


class AppSecrets(Protocol):
    """The client secrets LinkedIn signs with: ours (the parent app) and each customer's."""

    @property
    def partner_secret(self) -> str: ...

    async def of_application(self, application: str) -> tuple[str, str] | None:
        """(customer id, client secret) of a customer's app, by URN, id or client id."""
        ...

    async def of_customer(self, customer_id: str) -> str | None: ...


class PartnerSecretOnly:
    """No credential store: only events the parent app signs are accepted."""

    def __init__(self, partner_secret: str) -> None:
        self._partner_secret = partner_secret

    @property
    def partner_secret(self) -> str:
        return self._partner_secret

    async def of_application(self, application: str) -> tuple[str, str] | None:
        return None

    async def of_customer(self, customer_id: str) -> str | None:
        return None


router = APIRouter(prefix="/linkedin", tags=["linkedin"])

ChallengeCode = Annotated[str | None, Query(alias="challengeCode", min_length=1, max_length=200)]
ApplicationId = Annotated[str | None, Query(alias="applicationId", min_length=1, max_length=200)]


def _secrets(request: Request) -> AppSecrets:
    secrets: AppSecrets = request.app.state.app_secrets
    return secrets


def _events(request: Request) -> LinkedInEventsClient:
    client: LinkedInEventsClient = request.app.state.linkedin_events
    return client


@router.get("/webhook", summary="LinkedIn validates our webhook URL")
async def parent_challenge(
    request: Request,
    challenge_code: ChallengeCode = None,
    application_id: ApplicationId = None,
) -> JSONResponse:
    return await _challenge(request, challenge_code, application_id, None)


@router.post("/webhook", summary="An event of the parent application (job status, resync)")
async def parent_event(request: Request) -> AcceptedEvent:
    return await _event(request, None)


@router.get("/customers/{customer_id}/events", summary="LinkedIn validates a customer's URL")
async def customer_challenge(
    request: Request,
    customer_id: str,
    challenge_code: ChallengeCode = None,
    application_id: ApplicationId = None,
) -> JSONResponse:
    return await _challenge(request, challenge_code, application_id, segment(customer_id))


@router.post("/customers/{customer_id}/events", summary="A push event of a customer's app")
async def customer_event(request: Request, customer_id: str) -> AcceptedEvent:
    return await _event(request, segment(customer_id))


@router.get(
    "/customers/{customer_id}/applications",
    summary="LinkedIn validates a job's jobApplicationWebhookUrl (Apply Connect)",
)
async def applications_challenge(
    request: Request,
    customer_id: str,
    challenge_code: ChallengeCode = None,
    application_id: ApplicationId = None,
) -> JSONResponse:
    return await _challenge(request, challenge_code, application_id, segment(customer_id))


@router.post(
    "/customers/{customer_id}/applications",
    summary="An Apply Connect application: durable before the 200; a retry is a no-op",
)
async def application_received(request: Request, customer_id: str) -> AcceptedApplication:
    customer = segment(customer_id)
    body = await _bounded_body(request, MAX_APPLICATION_BYTES)
    header = request.headers.get(SIGNATURE_HEADER)
    if not header:
        raise HTTPException(401, f"{SIGNATURE_HEADER}: required; LinkedIn signs every application")
    form = await _verified(request, header, body, customer)
    if form is None:
        log.warning("linkedin.forged", path=request.url.path, bytes=len(body))
        raise HTTPException(401, f"{SIGNATURE_HEADER}: does not match this body")
    applications: ApplicationsClient = request.app.state.applications
    accepted = await applications.accept(customer, body, form)
    log.info(
        "linkedin.application",
        application=accepted.application_id,
        duplicate=accepted.duplicate,
        form=form.name,
        customer_id=customer,
    )
    return accepted


def event_routes(dependencies: Sequence[DependsParam]) -> APIRouter:
    """For the ATS, behind its token: what LinkedIn sent, and what became of it."""
    listing = APIRouter(dependencies=list(dependencies), tags=["linkedin"])

    @listing.get("/v1/linkedin-events")
    async def linkedin_events(
        client: Annotated[LinkedInEventsClient, Depends(_events)],
        outcome: EventOutcome | None = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LISTED)] = 100,
    ) -> list[LinkedInEventSummary]:
        """The latest events LinkedIn sent, newest first; `outcome=UNMATCHED` lists those
        naming a customer or job we do not hold."""
        return await client.list_events(outcome, limit)

    return listing


async def _challenge(
    request: Request, code: str | None, application: str | None, customer_id: str | None
) -> JSONResponse:
    """`{"challengeCode", "challengeResponse"}` under the secret of `applicationId` when
    given (a customer's child app), else the parent app's (§1)."""
    if code is None:
        raise HTTPException(400, "challengeCode: required (LinkedIn's webhook validation)")
    secrets = _secrets(request)
    secret = secrets.partner_secret
    if application is not None:
        found = await secrets.of_application(application)
        if found is None or customer_id not in (None, found[0]):
            raise HTTPException(404, f"applicationId: no customer has application {application}")
        secret = found[1]
    body = {"challengeCode": code, "challengeResponse": challenge_response(code, secret)}
    return JSONResponse(body)


async def _event(request: Request, customer_id: str | None) -> AcceptedEvent:
    body = await _bounded_body(request)
    header = request.headers.get(SIGNATURE_HEADER)
    if not header:
        raise HTTPException(401, f"{SIGNATURE_HEADER}: required; LinkedIn signs every event")
    form = await _verified(request, header, body, customer_id)
    if form is None:
        log.warning("linkedin.forged", path=request.url.path, bytes=len(body))
        raise HTTPException(401, f"{SIGNATURE_HEADER}: does not match this body")
    accepted = await _events(request).accept(body, form, customer_id)
    log.info(
        "linkedin.event",
        event_id=accepted.event_id,
        duplicate=accepted.duplicate,
        form=form.name,
        customer_id=customer_id,
    )
    return accepted


async def _bounded_body(request: Request, limit: int = MAX_EVENT_BYTES) -> bytes:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise HTTPException(413, f"body: over {limit} bytes; not a LinkedIn event")
    return body


async def _verified(
    request: Request, header: str, body: bytes, customer_id: str | None
) -> SignatureForm | None:
    """Which secret signed it, tolerantly (§2 leaves parent or child open): the parent's,
    the customer's of the path, or the app the body names."""
    secrets = _secrets(request)
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
