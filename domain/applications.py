"""Apply Connect applications: what LinkedIn delivers, read tolerantly, and what becomes of
them here (../shared/linkedin-inbound.md §6-7).

LinkedIn's application schema is known only from a secondary source, so the body is read
without trusting its shape: the contact, resume and cover letter where that source puts
them, and every answer found anywhere under `questionResponses` (any object with a
`questionIdentifier` or `partnerQuestionIdentifier` and an `answer`). Its
`questionIdentifier` is the job's `partnerQuestionIdentifier` (a `urn:li:…:<id>` form is
read as its last part). What we cannot read is kept raw, never dropped.

One ApplicationWorkflow per `jobApplicationId` (its id derived from it), so LinkedIn's
retries are no-ops. Personal data lives in that workflow (payloads encrypted by the codec)
and the documents in the document store (encrypted with the same keys), until erased on
request or after the retention period.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol

from pydantic import BaseModel, Field, field_validator

from domain.documents import Document
from domain.webhooks import WebhookEvent, WebhookEventType

APPLICATION_WORKFLOW_TYPE = "ApplicationWorkflow"
FETCH_DOCUMENTS = "fetch_application_documents"
ERASE_DOCUMENTS = "erase_application_documents"
SEND_LIFECYCLE_ACTION = "send_lifecycle_action"
APPLICATION_QUERY = "application"
RECORD_ACTION = "record_action"
ERASE = "erase"

APPLICATION_URN = "urn:li:jobApplication:"
MAX_APPLICATION_BYTES = 1024 * 1024
"""An application is answers and links (documents come separately): far below this."""
MAX_ACTIONS = 200
"""Lifecycle actions one application takes: each emails the candidate, so a real one has
a handful; the bound keeps the workflow's history small."""
MAX_ANSWERS = 1000
DOCUMENT_LIMITS = {"resume": 2 * 1024 * 1024, "coverLetter": 512 * 1024}
"""LinkedIn's own limits on what a candidate uploads (onsite-apply-config-schema)."""

_KEY = re.compile(r"^[A-Za-z0-9._-]{1,100}$")


class UnreadableApplication(ValueError):
    """A signed body we cannot take as an application, with why."""


def application_key(job_application_id: object) -> str:
    """The application's id without its URN prefix: `urn:li:jobApplication:7` → `7`."""
    text = str(job_application_id or "")
    key = text.removeprefix(APPLICATION_URN)
    if not _KEY.match(key):
        raise UnreadableApplication(
            "jobApplicationId: required, urn:li:jobApplication:<id> with a short plain id"
        )
    return key


def application_workflow_id(customer_id: str, key: str) -> str:
    return f"application/{customer_id}/{key}"


class DocumentKind(StrEnum):
    RESUME = "resume"
    COVER_LETTER = "coverLetter"


class LifecycleAction(StrEnum):
    """jobApplicationLifecycleActions' actions (LinkedIn's SDK and docs; no others are
    documented with their enum strings)."""

    APPLICATION_VIEWED = "APPLICATION_VIEWED"
    RESUME_DOWNLOADED = "RESUME_DOWNLOADED"
    APPLICATION_REJECTED = "APPLICATION_REJECTED"


class DocumentRef(Document):
    kind: DocumentKind
    url: str = Field(max_length=4000)
    media_urn: str | None = None


class Answer(Document):
    partner_question_identifier: str
    answer: Any
    """The answer as LinkedIn wrote it (textAnswerValue, multipleChoiceAnswerValue, …)."""
    value: Any = None
    """The answer's plain value: the text, the symbolic names, the number."""


class Contact(Document):
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: dict[str, Any] | None = None
    location: Any = None


class Skill(Document):
    name: str | None = None
    urn: str | None = None
    job_matched: bool | None = None
    assessment_verified: bool | None = None


class ParsedApplication(Document):
    job_application_id: str
    key: str
    applicant: str | None = None
    applied_at: int | None = None
    external_job_posting_id: str | None = None
    contact: Contact
    answers: list[Answer] = Field(default_factory=list)
    skills: list[Skill] = Field(default_factory=list)
    documents: list[DocumentRef] = Field(default_factory=list)
    other_responses: dict[str, Any] = Field(default_factory=dict)
    """Work, education, self-identification and whatever else came, as LinkedIn sent it."""


def _value(node: Any) -> Any:
    """`{"value": x}` → x; anything else as it is."""
    return node.get("value") if isinstance(node, dict) and "value" in node else node


def _plain(answer: Any) -> Any:
    if not isinstance(answer, dict):
        return answer
    if "textAnswerValue" in answer:
        return _value(answer["textAnswerValue"])
    if "multipleChoiceAnswerValue" in answer:
        return (answer["multipleChoiceAnswerValue"] or {}).get("symbolicNames")
    if "numericAnswerValue" in answer:
        numeric = answer["numericAnswerValue"] or {}
        return numeric.get("integerValue", numeric.get("decimalValue"))
    return answer


def partner_identifier(identifier: str) -> str:
    """LinkedIn's questionIdentifier as the ATS's partnerQuestionIdentifier."""
    if identifier.startswith("urn:li:"):
        return identifier.rsplit(":", 1)[-1]
    return identifier


def _answers(node: Any, found: list[Answer]) -> None:
    if len(found) >= MAX_ANSWERS:
        return
    if isinstance(node, list):
        for item in node:
            _answers(item, found)
        return
    if not isinstance(node, dict):
        return
    identifier = node.get("partnerQuestionIdentifier") or node.get("questionIdentifier")
    if isinstance(identifier, str) and "answer" in node:
        found.append(
            Answer(
                partner_question_identifier=partner_identifier(identifier),
                answer=node["answer"],
                value=_plain(node["answer"]),
            )
        )
        return
    for child in node.values():
        _answers(child, found)


def _document(responses: dict[str, Any], section: str, field: str, kind: DocumentKind) -> Any:
    answer = (responses.get(section) or {}).get(field)
    if not isinstance(answer, dict):
        return None
    url = answer.get("mediaUrl") or answer.get("downloadUrl")
    if not isinstance(url, str) or not url:
        return None
    return DocumentRef(kind=kind, url=url, media_urn=answer.get("mediaUrn"))


CONTACT = "contactInformationQuestionResponses"
RESUME = "resumeQuestionResponses"
COVER_LETTER = "coverLetterQuestionResponses"


def parse_application(body: Any) -> ParsedApplication:
    """The application in a body LinkedIn signed; UnreadableApplication says why not."""
    if not isinstance(body, dict):
        raise UnreadableApplication("the body must be a JSON object")
    key = application_key(body.get("jobApplicationId"))
    responses = body.get("questionResponses") or {}
    if not isinstance(responses, dict):
        raise UnreadableApplication("questionResponses: must be an object")
    contact = responses.get(CONTACT) or {}
    contact = contact if isinstance(contact, dict) else {}
    phone = contact.get("cellphoneNumberQuestionAnswer") or contact.get("phoneNumberAnswer")
    answers: list[Answer] = []
    _answers({k: v for k, v in responses.items() if k not in (RESUME, COVER_LETTER)}, answers)
    documents = [
        d
        for d in (
            _document(responses, RESUME, "resumeQuestionAnswer", DocumentKind.RESUME),
            _document(
                responses, COVER_LETTER, "coverLetterQuestionAnswer", DocumentKind.COVER_LETTER
            ),
        )
        if d is not None
    ]
    skills = [
        Skill(
            name=s.get("skillName"),
            urn=s.get("skillUrn"),
            job_matched=s.get("jobMatched"),
            assessment_verified=s.get("assessmentVerified"),
        )
        for s in (body.get("applicantSkills") or [])[:100]
        if isinstance(s, dict)
    ]
    external = body.get("externalJobPostingId")
    applied_at = body.get("appliedAt")
    return ParsedApplication(
        job_application_id=f"{APPLICATION_URN}{key}",
        key=key,
        applicant=str(body["jobApplicant"]) if body.get("jobApplicant") else None,
        applied_at=applied_at if isinstance(applied_at, int) else None,
        external_job_posting_id=str(external) if external not in (None, "") else None,
        contact=Contact(
            first_name=_text(_value(contact.get("firstNameAnswer"))),
            last_name=_text(_value(contact.get("lastNameAnswer"))),
            email=_text(_value(contact.get("emailAnswer"))),
            phone=phone if isinstance(phone, dict) else None,
            location=contact.get("locationAnswer"),
        ),
        answers=answers,
        skills=skills,
        documents=documents,
        other_responses={
            k: v for k, v in responses.items() if k not in (CONTACT, RESUME, COVER_LETTER)
        },
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


class ReceivedApplication(BaseModel):
    """The ApplicationWorkflow's input: the body as LinkedIn sent it, and where."""

    customer_id: str
    key: str
    received_at: datetime
    body: dict[str, Any]
    signature_form: str
    webhooks: bool = True
    retention_days: int = 30


class StoredDocument(Document):
    kind: DocumentKind
    size: int
    sha256: str
    content_type: str


class FetchDocuments(BaseModel):
    customer_id: str
    key: str
    documents: list[DocumentRef]


class EraseDocuments(BaseModel):
    customer_id: str
    key: str


EARLIEST_ACTION = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_ACTION = datetime(2100, 1, 1, tzinfo=UTC)


class ActionRequest(Document):
    """An ATS's signal: one occurrence of an action, when it happened."""

    action: LifecycleAction
    performed_at: datetime

    @field_validator("performed_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        """A time without a zone is UTC (never the worker's local zone); years 2000-2099."""
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        if not EARLIEST_ACTION <= value < LATEST_ACTION:
            raise ValueError("must lie between 2000 and 2099")
        return value


class ActionStatus(StrEnum):
    PENDING = "PENDING"
    SENT = "SENT"
    FAILED = "FAILED"


class ActionRecord(Document):
    id: str
    """The request's Idempotency-Key (or a new id): the same key again is this record."""
    action: LifecycleAction
    performed_at: datetime
    status: ActionStatus = ActionStatus.PENDING
    error: str | None = None


class SendAction(BaseModel):
    customer_id: str
    job_application_id: str
    action: LifecycleAction
    performed_at_ms: int


class ApplicationStatus(StrEnum):
    RECEIVED = "RECEIVED"
    """Durable; its documents not fetched yet."""
    READY = "READY"
    """Documents stored (or reported missing) and the ATS told."""
    UNREADABLE = "UNREADABLE"
    ERASED = "ERASED"


class ApplicationView(Document):
    """What the ATS reads of one application."""

    customer_id: str
    key: str
    job_application_id: str
    status: ApplicationStatus
    received_at: datetime
    erase_at: datetime
    application: ParsedApplication | None = None
    documents: list[StoredDocument] = Field(default_factory=list)
    document_errors: list[str] = Field(default_factory=list)
    actions: list[ActionRecord] = Field(default_factory=list)
    problem: str | None = None


def document_path(customer_id: str, key: str, kind: DocumentKind) -> str:
    """Where the ATS downloads a document through our API."""
    from urllib.parse import quote

    return f"/v1/customers/{quote(customer_id, safe='')}/applications/{key}/documents/{kind}"


def _event_id(*parts: str) -> str:
    return "evt_" + hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def received_event(view: ApplicationView, at: datetime) -> WebhookEvent:
    """`application.received`: the answers by partnerQuestionIdentifier, the contact,
    skills and where to download each document."""
    application = view.application
    data: dict[str, Any] = {
        "jobApplicationId": view.job_application_id,
        "applicationId": view.key,
        "source": "LinkedIn apply",
    }
    if application is not None:
        data |= {
            "externalJobPostingId": application.external_job_posting_id,
            "appliedAt": application.applied_at,
            "contact": application.contact.model_dump(mode="json", by_alias=True),
            "answers": {
                a.partner_question_identifier: a.value if a.value is not None else a.answer
                for a in application.answers
            },
            "skills": [s.model_dump(mode="json", by_alias=True) for s in application.skills],
        }
    data["documents"] = [
        {
            "kind": str(d.kind),
            "size": d.size,
            "sha256": d.sha256,
            "contentType": d.content_type,
            "url": document_path(view.customer_id, view.key, d.kind),
        }
        for d in view.documents
    ]
    data["documentErrors"] = view.document_errors
    return WebhookEvent(
        id=_event_id(view.customer_id, view.key, "received"),
        type=WebhookEventType.APPLICATION_RECEIVED,
        customer_id=view.customer_id,
        created_at=at,
        data=data,
    )


def action_event(view: ApplicationView, record: ActionRecord, at: datetime) -> WebhookEvent:
    """The outcome of one lifecycle action at LinkedIn."""
    sent = record.status == ActionStatus.SENT
    return WebhookEvent(
        id=_event_id(view.customer_id, view.key, "action", record.id, str(record.status)),
        type=WebhookEventType.APPLICATION_ACTION_SENT
        if sent
        else WebhookEventType.APPLICATION_ACTION_FAILED,
        customer_id=view.customer_id,
        created_at=at,
        data={
            "applicationId": view.key,
            "jobApplicationId": view.job_application_id,
            "actionId": record.id,
            "action": str(record.action),
            "performedAt": record.performed_at.isoformat(),
            "status": str(record.status),
            "error": record.error,
        },
    )


class DocumentStore(Protocol):
    """Documents at rest, encrypted; never in Temporal payloads."""

    async def put(
        self, customer_id: str, key: str, kind: DocumentKind, content: bytes, content_type: str
    ) -> StoredDocument: ...

    async def get(
        self, customer_id: str, key: str, kind: DocumentKind
    ) -> tuple[bytes, StoredDocument] | None: ...

    async def erase(self, customer_id: str, key: str) -> int: ...
