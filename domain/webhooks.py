"""Webhooks to the ATS: events, endpoints, Stripe-style signatures, and the job's events.

An event is delivered at least once, as a signed POST: the body is the event's JSON, the
`LinkedIn-ATS-Signature` header is `t=<unix seconds>,v1=<hex HMAC-SHA256 of
"<t>.<body>">` under the endpoint's secret, and `Idempotency-Key` is the event id, so the
ATS drops duplicates. An endpoint's secret is derived from the deployment's signing key
and the endpoint id: it is shown once at registration and never stored or sent to
Temporal.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

from domain.job_workflow import JobState, Operation, OperationKind, OperationOutcome

WEBHOOK_ENDPOINTS_WORKFLOW_TYPE = "WebhookEndpointsWorkflow"
WEBHOOK_DELIVERY_WORKFLOW_TYPE = "WebhookDeliveryWorkflow"
WEBHOOK_TARGETS = "webhook_targets"
POST_WEBHOOK = "post_webhook"

SIGNATURE_HEADER = "LinkedIn-ATS-Signature"


def webhook_endpoints_workflow_id(task_queue: str) -> str:
    """One registry per deployment (its task queue)."""
    return f"webhook-endpoints/{task_queue}"


MAX_ENDPOINTS = 100
DEFAULT_TOLERANCE_SECONDS = 300


class WebhookEventType(StrEnum):
    INTEGRATION_CHANGED = "integration.changed"
    JOB_LISTED = "job.listed"
    JOB_UPDATED = "job.updated"
    JOB_UPGRADED = "job.upgraded"
    JOB_DOWNGRADED = "job.downgraded"
    JOB_RENEWED = "job.renewed"
    JOB_CLOSED = "job.closed"
    JOB_DISCARDED = "job.discarded"
    JOB_EXPIRED = "job.expired"
    JOB_OPERATION_FAILED = "job.operation_failed"
    JOB_NEEDS_ATTENTION = "job.needs_attention"
    JOB_OPERATION_CANCELLED = "job.operation_cancelled"
    JOB_LINKEDIN_CHANGED = "job.linkedin_changed"
    CUSTOMER_OFFBOARDING = "customer.offboarding"
    CUSTOMER_OFFBOARDED = "customer.offboarded"
    """LinkedIn's view of the job changed on its side (a read after its webhook or a check)."""
    APPLICATION_RECEIVED = "application.received"
    """A candidate applied on LinkedIn (Apply Connect): answers, contact, document links."""
    APPLICATION_ACTION_SENT = "application.action_sent"
    APPLICATION_ACTION_FAILED = "application.action_failed"
    """A lifecycle action LinkedIn took, or refused for good."""


_SUCCEEDED = {
    OperationKind.CREATE: WebhookEventType.JOB_LISTED,
    OperationKind.UPDATE: WebhookEventType.JOB_UPDATED,
    OperationKind.UPGRADE: WebhookEventType.JOB_UPGRADED,
    OperationKind.DOWNGRADE: WebhookEventType.JOB_DOWNGRADED,
    OperationKind.RENEW: WebhookEventType.JOB_RENEWED,
    OperationKind.CLOSE: WebhookEventType.JOB_CLOSED,
    OperationKind.DISCARD: WebhookEventType.JOB_DISCARDED,
}


class _Camel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class WebhookEvent(_Camel):
    """What the ATS receives."""

    id: str
    """Unique per event: the delivery's Idempotency-Key."""
    type: WebhookEventType
    customer_id: str
    created_at: datetime
    data: dict[str, Any]


class WebhookEndpoint(_Camel):
    id: str
    url: str
    customer_id: str | None = None
    """Only this customer's events; every customer's when left out."""

    def receives(self, event: WebhookEvent) -> bool:
        return self.customer_id in (None, event.customer_id)


class NewWebhookEndpoint(_Camel):
    url: str = Field(max_length=2000)
    customer_id: str | None = Field(default=None, min_length=1, max_length=100)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")) or any(c.isspace() for c in value):
            raise ValueError(f"must be an absolute http(s) URL, got {value!r}")
        return value


class PostWebhook(BaseModel):
    endpoint: WebhookEndpoint
    event: WebhookEvent


def endpoint_secret(signing_key: bytes, endpoint_id: str) -> str:
    """The endpoint's secret: derived, so it is never stored."""
    digest = hmac.new(signing_key, endpoint_id.encode(), hashlib.sha256).digest()
    return "whsec_" + base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value for a body sent at `timestamp` (unix seconds)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(
    secret: str,
    header: str,
    body: bytes,
    now: int,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
) -> bool:
    """What an ATS runs on each delivery: the signature matches and is recent."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def job_events(
    before: dict[str, tuple[OperationOutcome, int]],
    was_expired: bool,
    state: JobState,
    at: datetime,
) -> list[WebhookEvent]:
    """The events a change of the job's state makes: each operation that finished or
    parked since `before` (outcome and attempts by operation id), and expiry."""
    events = []
    for op in state.operations:
        seen = before.get(op.id)
        kind = _event_type(op)
        if kind is not None and (seen is None or seen[0] != op.outcome):
            events.append(_job_event(kind, state, at, op))
    if state.expired and not was_expired:
        events.append(_job_event(WebhookEventType.JOB_EXPIRED, state, at, None))
    return events


LINKEDIN_FIELDS = ("jobPostingUrl", "listingStatus", "linkedInApplyStatus", "promotionStatus")


def linkedin_view(state: JobState) -> tuple[str | None, ...]:
    """What LinkedIn requires partners to show of a job, in LINKEDIN_FIELDS order."""
    return tuple(
        _text(value)
        for value in (
            state.job_posting_url,
            state.listing_status,
            state.linked_in_apply_status,
            state.promotion_status,
        )
    )


def linkedin_changed_event(
    before: tuple[str | None, ...], state: JobState, at: datetime
) -> WebhookEvent | None:
    """`job.linkedin_changed` with the old and new values, when LinkedIn's view moved."""
    after = linkedin_view(state)
    if before == after:
        return None
    event = _job_event(WebhookEventType.JOB_LINKEDIN_CHANGED, state, at, None)
    event.id = "evt_" + hashlib.sha256(f"{event.id}|{at.isoformat()}".encode()).hexdigest()[:32]
    event.data["linkedIn"] = {
        "old": dict(zip(LINKEDIN_FIELDS, before, strict=True)),
        "new": dict(zip(LINKEDIN_FIELDS, after, strict=True)),
        "statusMessage": state.linked_in_status_message,
    }
    return event


OFFSITE_REASON = (
    "LinkedIn no longer takes applications for this Apply Connect job "
    "(linkedInApplyStatus NOT_ENABLED): it is off-site apply now, candidates go to its "
    "companyApplyUrl. LinkedIn does this when the first application to a job cannot be "
    "delivered, or when the job's questions are refused; fix the cause and post the job again."
)


def offsite_event(
    before: tuple[str | None, ...], state: JobState, at: datetime
) -> WebhookEvent | None:
    """`job.needs_attention` when an Apply Connect job's linkedInApplyStatus turned
    NOT_ENABLED: LinkedIn switched it to off-site apply, silently but for this status."""
    onsite = state.posting is not None and state.posting.onsite_apply_configuration is not None
    apply_status = linkedin_view(state)[2]
    if not onsite or apply_status != "NOT_ENABLED" or before[2] == "NOT_ENABLED":
        return None
    event = _job_event(WebhookEventType.JOB_NEEDS_ATTENTION, state, at, None)
    event.id = (
        "evt_" + hashlib.sha256(f"{event.id}|offsite|{at.isoformat()}".encode()).hexdigest()[:32]
    )
    event.data["reason"] = OFFSITE_REASON
    event.data["statusMessage"] = state.linked_in_apply_status_message
    return event


def _text(value: str | None) -> str | None:
    return None if value is None else str(value)


def integration_event(
    customer_id: str,
    integration_type: str,
    integration_context: str,
    status: str,
    reason: str,
    transition_count: int,
    at: datetime,
) -> WebhookEvent:
    """A context of the customer's integration moved to `status`."""
    key = f"{customer_id}|{integration_type}|{integration_context}|{transition_count}|{status}"
    return WebhookEvent(
        id="evt_" + hashlib.sha256(key.encode()).hexdigest()[:32],
        type=WebhookEventType.INTEGRATION_CHANGED,
        customer_id=customer_id,
        created_at=at,
        data={
            "integrationType": integration_type,
            "integrationContext": integration_context,
            "status": status,
            "reason": reason,
        },
    )


def outcomes(state: JobState) -> dict[str, tuple[OperationOutcome, int]]:
    """What `job_events` compares against."""
    return {op.id: (op.outcome, op.attempts) for op in state.operations}


def _event_type(op: Operation) -> WebhookEventType | None:
    match op.outcome:
        case OperationOutcome.SUCCEEDED:
            return _SUCCEEDED[op.kind]
        case OperationOutcome.FAILED:
            return WebhookEventType.JOB_OPERATION_FAILED
        case OperationOutcome.NEEDS_ATTENTION:
            return WebhookEventType.JOB_NEEDS_ATTENTION
        case OperationOutcome.CANCELLED:
            return WebhookEventType.JOB_OPERATION_CANCELLED
        case _:
            return None


def _job_event(
    kind: WebhookEventType, state: JobState, at: datetime, op: Operation | None
) -> WebhookEvent:
    key = "|".join(
        [
            state.customer_id,
            state.external_job_posting_id,
            str(kind),
            op.id if op else str(state.expire_at),
            str(op.attempts) if op else "",
        ]
    )
    data: dict[str, Any] = {
        "externalJobPostingId": state.external_job_posting_id,
        "status": str(state.status),
        "jobId": state.job_id,
        "jobPostingUrl": state.job_posting_url,
        "listingType": str(state.listing_type) if state.listing_type else None,
        "expireAt": state.expire_at.isoformat() if state.expire_at else None,
    }
    if op is not None:
        data["operation"] = {
            "id": op.id,
            "kind": str(op.kind),
            "outcome": str(op.outcome),
            "error": op.error,
            "note": op.note,
        }
    if kind == WebhookEventType.JOB_DOWNGRADED and state.replaced_listings:
        replaced = state.replaced_listings[-1]
        data["replaced"] = {"jobId": replaced.job_id, "jobPostingUrl": replaced.job_posting_url}
    return WebhookEvent(
        id="evt_" + hashlib.sha256(key.encode()).hexdigest()[:32],
        type=kind,
        customer_id=state.customer_id,
        created_at=at,
        data=data,
    )
