"""What LinkedIn sends us: the webhook challenge, signed events, and how each is routed.

LinkedIn validates a webhook URL with `GET ?challengeCode=` and signs every POST with
`X-LI-Signature` (../shared/linkedin-inbound.md §1-2). Its docs read two ways for the
signature, so both are accepted: (a) hex HMAC-SHA256 of `"hmacsha256=" + body`, (b)
`"hmacsha256="` + hex HMAC-SHA256 of the body. Always over the raw bytes as received:
LinkedIn signs "the escaped Unicode version", which no re-serialisation reproduces.

Events carry no id of their own (the job-status and resync schemas show none), so an
event is known by the digest of its bytes, for a while: the same bytes within the dedupe
window are a redelivery; after it, a new event that happens to read the same (LinkedIn
asking for every open job again, a job taken down a second time). A resync is the one
exception: the same bytes after its routing is done are LinkedIn asking again (nothing
tells the two apart), and it is routed again (ASKED_AGAIN), since a job sent twice costs
one UPDATE and a job not sent breaks LinkedIn's 30 minutes.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from domain.job_postings import JobPostingStatus

LINKEDIN_EVENT_WORKFLOW_TYPE = "LinkedInEventWorkflow"
ROUTE_LINKEDIN_EVENT = "route_linkedin_event"
ASKED_AGAIN = "asked_again"
"""The signal a resync's bytes send the open LinkedInEventWorkflow they match."""
ASKED_AGAIN_BY_ITS_TIME = "asked-again-by-its-time"
"""The patch from which a resync asked again is judged by when LinkedIn sent it, not by
when the signal came: the intake workflow tells the event workflow after its own start."""
MAX_ASKED_AGAIN = 20
"""Resync re-routings one event workflow makes at most: later ones are absorbed."""

SIGNATURE_HEADER = "X-LI-Signature"
SIGNED_PREFIX = b"hmacsha256="
MAX_EVENT_BYTES = 256 * 1024
"""LinkedIn's events are a few hundred bytes; anything near this is not LinkedIn."""
MAX_LISTED_JOBS = 10_000
"""Job ids one resync request may name; more is refused as not LinkedIn's."""


class SignatureForm(StrEnum):
    """Which reading of LinkedIn's docs a signature matched (§2): logged, never guessed."""

    HMAC_OF_PREFIXED_BODY = "hex(hmac(secret, 'hmacsha256=' + body))"
    PREFIXED_HMAC_OF_BODY = "'hmacsha256=' + hex(hmac(secret, body))"


def challenge_response(challenge_code: str, client_secret: str) -> str:
    """`challengeResponse`: lowercase hex HMAC-SHA256 of the code, keyed by the secret."""
    return hmac.new(client_secret.encode(), challenge_code.encode(), hashlib.sha256).hexdigest()


def signature_form(header: str | None, body: bytes, secrets: list[str]) -> SignatureForm | None:
    """The form in which `header` signs `body` under one of `secrets`; None when forged.

    Every secret and form is compared in constant time, so timing tells nothing."""
    if not header:
        return None
    given = header.strip().encode()
    matched: SignatureForm | None = None
    for secret in secrets:
        key = secret.encode()
        of_prefixed = hmac.new(key, SIGNED_PREFIX + body, hashlib.sha256).hexdigest().encode()
        prefixed = SIGNED_PREFIX + hmac.new(key, body, hashlib.sha256).hexdigest().encode()
        if hmac.compare_digest(given.lower(), of_prefixed):
            matched = matched or SignatureForm.HMAC_OF_PREFIXED_BODY
        if hmac.compare_digest(given, prefixed):
            matched = matched or SignatureForm.PREFIXED_HMAC_OF_BODY
    return matched


def sign(body: bytes, client_secret: str, form: SignatureForm) -> str:
    """The header LinkedIn would send, in either form (tests and the CLI use it)."""
    key = client_secret.encode()
    if form == SignatureForm.HMAC_OF_PREFIXED_BODY:
        return hmac.new(key, SIGNED_PREFIX + body, hashlib.sha256).hexdigest()
    return (SIGNED_PREFIX + hmac.new(key, body, hashlib.sha256).hexdigest().encode()).decode()


def event_digest(body: bytes) -> str:
    """The event's identity: a redelivery of the same bytes is the same event."""
    return hashlib.sha256(body).hexdigest()[:40]


def linkedin_event_workflow_id(digest: str) -> str:
    return f"linkedin-event/{digest}"


class EventType(StrEnum):
    JOB_POSTING_STATUS = "JOB_POSTING_STATUS"
    RESYNC_JOBS = "RESYNC_JOBS"
    INTEGRATION_STATUS_CHANGE = "INTEGRATION_STATUS_CHANGE"


class EventOutcome(StrEnum):
    """What became of an event, as `LinkedInEventOutcome` lists it."""

    RECEIVED = "RECEIVED"
    """Durable, not routed yet."""
    ROUTED = "ROUTED"
    """Handed to every workflow it names."""
    UNMATCHED = "UNMATCHED"
    """It names a customer or job we do not know (or a job no longer open): kept, listed."""
    UNREADABLE = "UNREADABLE"
    """Signed by LinkedIn, but not an event we can read: kept with the reason."""
    KEPT = "KEPT"
    """Read and kept; nothing acts on it (an integration status push at the shared path)."""


class _Camel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class JobStatusChanged(_Camel):
    """§3: LinkedIn changed a job on its side. Its content is not trusted as current: there
    is no timestamp and no order, so the job re-reads jobPostingStatus."""

    type: EventType = EventType.JOB_POSTING_STATUS
    external_job_posting_id: str = Field(min_length=1, max_length=200)
    developer_application_urn: str = Field(min_length=1, max_length=200)
    status: JobPostingStatus | None = None
    """The §9 fields when the event carries them (inferred, not confirmed)."""


class ResyncRequested(_Camel):
    """§4: resend these open jobs (or all of them) as UPDATE within 30 minutes."""

    type: EventType = EventType.RESYNC_JOBS
    developer_application_urn: str = Field(min_length=1, max_length=200)
    sync_all_open_jobs: bool = False
    external_job_posting_ids: list[str] = Field(default_factory=list, max_length=MAX_LISTED_JOBS)


class IntegrationStatusChanged(_Camel):
    """§5: pushed to a customer's callback URL; its field names are not documented."""

    type: EventType = EventType.INTEGRATION_STATUS_CHANGE
    request_id: str | None = None


LinkedInEvent = JobStatusChanged | ResyncRequested | IntegrationStatusChanged


class UnreadableEvent(ValueError):
    """A signed body that is not an event we know, with why."""


def parse_event(body: Any, customer_id: str | None = None) -> LinkedInEvent:
    """The typed event; UnreadableEvent names the field and the rule it broke."""
    if not isinstance(body, dict):
        raise UnreadableEvent("the body must be a JSON object")
    kind = body.get("type")
    try:
        match kind:
            case EventType.JOB_POSTING_STATUS:
                event = JobStatusChanged.model_validate(body)
                if any(key in body for key in ("listingStatus", "jobPostingUrl")):
                    event.status = JobPostingStatus.model_validate(body)
                return event
            case EventType.RESYNC_JOBS:
                ids = body.get("externalJobPostingIds")
                if isinstance(ids, str):  # the doc's type column says "String"
                    body = {**body, "externalJobPostingIds": [ids]}
                return ResyncRequested.model_validate(body)
            case EventType.INTEGRATION_STATUS_CHANGE:
                request_id = body.get("requestId") or body.get("id") or body.get("eventId")
                return IntegrationStatusChanged(request_id=str(request_id) if request_id else None)
    except ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(str(part) for part in problem["loc"])
        raise UnreadableEvent(f"{where}: {problem['msg']}") from None
    raise UnreadableEvent(f"type: {kind!r} is not an event type we know")


DEFAULT_DEDUPE_SECONDS = 600
"""How long the same bytes count as a redelivery (LinkedIn's retries are undocumented)."""


class ReceivedEvent(BaseModel):
    """The LinkedInEventWorkflow's input: the body as LinkedIn sent it, and where."""

    digest: str
    dedupe_seconds: int = DEFAULT_DEDUPE_SECONDS
    """The workflow stays open this long after routing: its id refuses the same bytes."""
    received_at: datetime
    body: dict[str, Any]
    customer_id: str | None = None
    """Set when it came to a customer's own path (push events)."""
    signature_form: SignatureForm


class AskedAgain(BaseModel):
    """The ASKED_AGAIN signal: the same resync came again at `at`."""

    at: datetime


def resync_request_id(received: ReceivedEvent) -> str:
    """Which request a job's resend answers: the bytes and when they came, so LinkedIn
    asking again is a new request, and a retried routing the same one."""
    return f"{received.digest}@{received.received_at.isoformat()}"


class JobRouting(BaseModel):
    external_job_posting_id: str
    delivered: bool
    reason: str | None = None
    """Why not: no such job, or it is closed."""


class RoutedEvent(BaseModel):
    """What routing did: the LinkedInEventWorkflow's result."""

    outcome: EventOutcome
    type: str | None = None
    customer_id: str | None = None
    reason: str | None = None
    jobs: list[JobRouting] = Field(default_factory=list)
    """Per job named (resync: the first MAX_REPORTED only), delivered or why not."""
    delivered: int = 0
    undelivered: int = 0
    follow_up: str | None = None
    """An integration push's follow-up (`atsIntegrations?q=request`), as read, or why not."""


MAX_FOLLOW_UP_CHARS = 500


def integration_request_read(answer: Any) -> str:
    """What `atsIntegrations?q=request&requestId=` answered, in a line. §5 does not
    document its shape, so each reading is taken: a Rest.li finder's `elements`, a batch
    get's `results` by key, or one entity; anything else is said to be of another shape."""
    if not isinstance(answer, dict):
        return (
            "an answer of another shape (a list)"
            if isinstance(answer, list)
            else ("an answer of another shape")
        )
    if isinstance(answer.get("elements"), list):
        entities = [e for e in answer["elements"] if isinstance(e, dict)]
    elif isinstance(answer.get("results"), dict):
        entities = [
            {"integrationType": _type_in_key(str(key)), **value}
            for key, value in answer["results"].items()
            if isinstance(value, dict)
        ]
    elif "onboardingStatus" in answer:
        entities = [answer]
    else:
        return f"an answer of another shape (keys: {', '.join(sorted(map(str, answer)))})"[
            :MAX_FOLLOW_UP_CHARS
        ]
    read = "; ".join(
        f"{e.get('integrationType') or '?'}: {e.get('onboardingStatus') or '?'}" for e in entities
    )
    return (read or "no integration named")[:MAX_FOLLOW_UP_CHARS]


def _type_in_key(key: str) -> str | None:
    """`integrationType` out of a rendered atsIntegrations key, if it is there."""
    for part in key.replace("(", "&").replace(")", "&").replace(",", "&").split("&"):
        name, _, value = part.partition("=" if "=" in part else ":")  # Rest.li 1 or 2
        if name.strip() == "integrationType":
            return value
    return None


MAX_REPORTED = 200
"""Jobs listed one by one in a RoutedEvent; beyond, only counted (bounded results)."""
