"""Apply Connect as LinkedIn plays it (linkedin-inbound.md §6-7): a job's on-site questions,
a candidate applying, the application delivered to the job's `jobApplicationWebhookUrl`
(validated by challenge, signed with the customer's child secret, six retries), the
switch to off-site apply when a job's first application cannot be delivered, resume and
cover letter downloads (ambry) that check the child token and expire, and
`jobApplicationLifecycleActions`, validated and journaled.

LinkedIn has no API for a candidate applying; the sandbox serves it as
POST /sandbox/jobs/{externalJobPostingId}/apply.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import json
import secrets
import uuid
from collections import deque
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from linkedin_sandbox import jobs
from linkedin_sandbox.errors import LinkedInRefusal, forbidden, json_body
from linkedin_sandbox.outbox import Outbox, challenge_response, signature
from linkedin_sandbox.questions import apply_status, custom_questions
from linkedin_sandbox.sandbox import Sandbox
from linkedin_sandbox.state import App, Job, JobApplication, Media, World

RESUME_MAX_BYTES = 2 * 1024 * 1024
COVER_LETTER_MAX_BYTES = 512 * 1024
ACTIONS = ("APPLICATION_VIEWED", "RESUME_DOWNLOADED", "APPLICATION_REJECTED")
APPLICATION_URN = "urn:li:jobApplication:"
OFFSITE_MESSAGE = (
    "The first application to this job could not be delivered to its "
    "jobApplicationWebhookUrl: the job is now off-site apply (companyApplyUrl)."
)


class Candidate(BaseModel):
    first_name: str = Field(alias="firstName", min_length=1, max_length=100)
    last_name: str = Field(alias="lastName", min_length=1, max_length=100)
    email: str = Field(min_length=3, max_length=200)
    phone: str | None = Field(default=None, max_length=40)


class Apply(BaseModel):
    customer_id: str = Field(alias="customerId")
    candidate: Candidate
    answers: dict[str, Any] = Field(default_factory=dict, max_length=500)
    resume: str | None = None
    cover_letter: str | None = Field(default=None, alias="coverLetter")
    skills: list[str] = Field(default_factory=lambda: ["Python", "Temporal", "SQL"], max_length=3)


def _decoded(value: str | None, what: str, limit: int) -> bytes | None:
    if value is None:
        return None
    try:
        content = base64.b64decode(value, validate=True)
    except binascii.Error:
        raise LinkedInRefusal(422, f"{what}: not base64") from None
    if len(content) > limit:
        raise LinkedInRefusal(422, f"{what}: {len(content)} bytes, over LinkedIn's {limit}")
    return content


def _answer(question: dict[str, Any], value: Any) -> dict[str, Any]:
    """The candidate's answer as LinkedIn's payload writes it, checked against the question."""
    identifier = question["partnerQuestionIdentifier"]
    details = question.get("questionDetails") or {}
    if "multipleChoiceQuestionDetails" in details:
        choice = details["multipleChoiceQuestionDetails"]
        names = value if isinstance(value, list) else [value]
        allowed = {c.get("symbolicName") for c in choice.get("choices") or []}
        if not names or any(n not in allowed for n in names):
            raise LinkedInRefusal(422, f"answers.{identifier}: must be among {sorted(allowed)}")
        if len(names) > 1 and not choice.get("selectMultiple"):
            raise LinkedInRefusal(422, f"answers.{identifier}: one choice only")
        return {"multipleChoiceAnswerValue": {"symbolicNames": names}}
    if "numericQuestionDetails" in details:
        numeric = details["numericQuestionDetails"]
        integer = numeric.get("integerQuestionDetails")
        bounds = integer if integer is not None else numeric.get("decimalQuestionDetails") or {}
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise LinkedInRefusal(422, f"answers.{identifier}: must be a number")
        if integer is not None and not isinstance(value, int):
            raise LinkedInRefusal(422, f"answers.{identifier}: must be an integer")
        low, high = bounds.get("minValue", 0), bounds.get("maxValue")
        if value < low or (high is not None and value > high):
            raise LinkedInRefusal(422, f"answers.{identifier}: out of range")
        key = "integerValue" if integer is not None else "decimalValue"
        return {"numericAnswerValue": {key: value}}
    if "dateRangeQuestionDetails" in details:
        if not isinstance(value, dict) or "start" not in value:
            raise LinkedInRefusal(422, f"answers.{identifier}: must be {{start, end?}}")
        return {"dateRangeAnswerValue": value}
    if "documentQuestionDetails" in details:
        if not isinstance(value, str):
            raise LinkedInRefusal(422, f"answers.{identifier}: must be a base64 document")
        limit = details["documentQuestionDetails"].get("maximumSize") or 100 * 1024 * 1024
        _decoded(value, f"answers.{identifier}", limit)
        return {"documentAnswerValue": {"size": len(value)}}
    text = details.get("textQuestionDetails") or {}
    if not isinstance(value, str):
        raise LinkedInRefusal(422, f"answers.{identifier}: must be text")
    if len(value) < text.get("minLength", 0) or len(value) > text.get("maxLength", 10_000):
        raise LinkedInRefusal(422, f"answers.{identifier}: length out of range")
    return {"textAnswerValue": {"value": value}}


def _requirement(config: dict[str, Any], section: str, field: str) -> str:
    return str(((config.get("questions") or {}).get(section) or {}).get(field) or "OPTIONAL")


class Applications:
    """Deliveries of applications: one task each, outside the world's lock."""

    def __init__(self, sandbox: Sandbox, outbox: Outbox) -> None:
        self.sandbox = sandbox
        self.outbox = outbox
        self.deliveries: deque[dict[str, Any]] = deque(maxlen=10_000)
        self._tasks: set[asyncio.Task[None]] = set()
        self._generation = 0
        self.wrong_secret_next = 0
        """The next N delivery attempts are signed with a wrong secret: the partner must
        refuse them, and LinkedIn counts each as a failed delivery."""

    def reset(self) -> None:
        self._generation += 1
        self.deliveries.clear()
        self.wrong_secret_next = 0

    def resume(self) -> int:
        """Deliveries a restart interrupted start again (LinkedIn keeps what it accepted and
        retries it); how many."""
        world = self.sandbox.world
        resumed = 0
        for application in world.applications.values():
            if application.delivery != "QUEUED":
                continue
            app = next(
                (a for a in world.apps.values() if a.client_id == application.client_id), None
            )
            job = world.job(application.client_id, application.external_id)
            config = (job.payload.get("onsiteApplyConfiguration") if job else None) or {}
            url = config.get("jobApplicationWebhookUrl") if isinstance(config, dict) else None
            if app is not None and url:
                self.deliver(application, str(url), app)
                resumed += 1
        return resumed

    def deliver(self, application: JobApplication, url: str, app: App) -> None:
        task = asyncio.create_task(self._deliver(application, url, app, self._generation))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(
        self, application: JobApplication, url: str, app: App, generation: int
    ) -> None:
        settings = self.sandbox.settings
        raw = json.dumps(application.payload, separators=(",", ":"), ensure_ascii=True).encode()
        attempt = 0
        delivered = False
        while generation == self._generation and not delivered:
            attempt += 1
            reason = await self._challenge(url, app)
            status: int | None = None
            if reason is None:
                form = settings.webhook_signature_form
                secret = app.client_secret
                if self.wrong_secret_next > 0:
                    self.wrong_secret_next -= 1
                    secret = secrets.token_urlsafe(12)
                try:
                    async with asyncio.timeout(settings.webhook_timeout_seconds):
                        answer = await self.outbox.http.post(
                            url,
                            content=raw,
                            headers={
                                "content-type": "application/json",
                                "x-li-signature": signature(secret, raw, form),
                            },
                        )
                    status = answer.status_code
                    delivered = status == 200
                    reason = None if delivered else f"answered HTTP {status}, not 200"
                except Exception as exc:  # whatever failed, the delivery failed: retried
                    reason = f"{type(exc).__name__}: {exc}"
            self.deliveries.append(
                {
                    "jobApplicationId": application.id,
                    "url": url,
                    "attempt": attempt,
                    "status": status,
                    "error": reason,
                    "atMs": self.sandbox.world.now_ms(),
                }
            )
            if delivered or attempt > settings.webhook_retries:
                break
            await asyncio.sleep(settings.webhook_retry_seconds * 2 ** (attempt - 1))
        if generation != self._generation:
            return
        async with self.sandbox.lock:
            world = self.sandbox.world
            stored = world.applications.get(application.id)
            if stored is None:
                return
            stored.attempts = attempt
            stored.delivery = "DELIVERED" if delivered else "FAILED"
            job = world.job(stored.client_id, stored.external_id)
            switched = not delivered and stored.first_of_job and job is not None
            if switched and job is not None:
                job.linkedin_changes["linkedInApplyStatus"] = "NOT_ENABLED"
                job.linkedin_changes["linkedInApplyStatusDetail"] = {
                    "errorCode": None,
                    "errorType": "PARTNER_ERROR",
                    "statusMessage": OFFSITE_MESSAGE,
                }
            world.changed()
            self.sandbox.save()
            if switched and job is not None:  # LinkedIn tells the parent's webhook (§3)
                view = jobs.status_view(self.sandbox, app, job.external_id) or {}
                self.outbox.send(
                    "JOB_POSTING_STATUS",
                    {
                        "type": "JOB_POSTING_STATUS",
                        "externalJobPostingId": job.external_id,
                        "developerApplicationUrn": app.key,
                        **{k: v for k, v in view.items() if k != "externalJobPostingId"},
                    },
                )

    async def _challenge(self, url: str, app: App) -> str | None:
        """§1 for a child app's URL: ?challengeCode=&applicationId=, the child's secret."""
        code = str(uuid.uuid4())
        app_id = app.key.rsplit(":", 1)[-1]
        try:
            async with asyncio.timeout(self.sandbox.settings.webhook_challenge_timeout_seconds):
                answer = await self.outbox.http.get(
                    url, params={"challengeCode": code, "applicationId": app_id}
                )
            body = answer.json()
        except Exception as exc:  # a failed check, whatever failed
            return f"challenge: {type(exc).__name__}"
        if answer.status_code != 200 or not isinstance(body, dict):
            return f"challenge: HTTP {answer.status_code}"
        if body.get("challengeResponse") != challenge_response(app.client_secret, code):
            return "challenge: challengeResponse is not signed with the child app's secret"
        return None


class ApplicationFault(BaseModel):
    wrong_secret_next: int = Field(default=0, ge=0, le=1000, alias="wrongSecretNext")


def _digests(world: World, application: JobApplication) -> dict[str, str | None]:
    """The sha256 of each document the candidate sent, as LinkedIn holds it (None once gone)."""
    responses = application.payload.get("questionResponses") or {}
    found: dict[str, str | None] = {}
    for kind, section, answer in (
        ("resume", "resumeQuestionResponses", "resumeQuestionAnswer"),
        ("coverLetter", "coverLetterQuestionResponses", "coverLetterQuestionAnswer"),
    ):
        url = ((responses.get(section) or {}).get(answer) or {}).get("mediaUrl")
        if not url:
            continue
        media = world.media.get(str(url).rsplit("x-li-ambry-ep=", 1)[-1])
        content = base64.b64decode(media.content_b64) if media else None
        found[kind] = hashlib.sha256(content).hexdigest() if content is not None else None
    return found


def _job_of(world: World, customer_id: str, external_id: str) -> tuple[App, Job]:
    app = world.app_by_foreign_id(customer_id)
    if app is None:
        raise LinkedInRefusal(404, "No customer application for that customerId")
    job = world.job(app.client_id, external_id)
    if job is None or job.closed or job.expire_at <= world.now_ms():
        raise LinkedInRefusal(404, f"No open job posting {external_id}")
    return app, job


def routes(api: FastAPI, sandbox: Sandbox, outbox: Outbox) -> Applications:
    applications = Applications(sandbox, outbox)

    @api.post("/sandbox/jobs/{external_id}/apply", status_code=202)
    async def apply(external_id: str, request: Request, body: Apply) -> JSONResponse:
        world = sandbox.world
        jobs.process_due(world, sandbox.settings)
        app, job = _job_of(world, body.customer_id, external_id)
        config = job.payload.get("onsiteApplyConfiguration")
        status, _ = apply_status(job)
        status = job.linkedin_changes.get("linkedInApplyStatus", status)
        if not isinstance(config, dict) or status != "ENABLED":
            raise LinkedInRefusal(409, "This job is off-site apply: apply at its companyApplyUrl")
        responses = _responses(config, body)
        now = world.now_ms()
        base = str(request.base_url).rstrip("/")
        documents: dict[str, Any] = {}
        for kind, value, limit, section in (
            ("resume", body.resume, RESUME_MAX_BYTES, "resumeQuestions"),
            ("coverLetter", body.cover_letter, COVER_LETTER_MAX_BYTES, "coverLetterQuestions"),
        ):
            content = _decoded(value, kind, limit)
            field = f"{kind}QuestionRequirement"
            if content is None and _requirement(config, section, field) == "REQUIRED":
                raise LinkedInRefusal(422, f"{kind}: required by the job's questions")
            if content is not None:
                key = secrets.token_urlsafe(24)
                world.media[key] = Media(
                    key=key,
                    client_id=app.client_id,
                    content_b64=base64.b64encode(content).decode(),
                    expires_at_ms=now + int(sandbox.settings.media_ttl_seconds * 1000),
                )
                documents[kind] = {
                    "mediaUrn": f"urn:li:media:{key[:12]}",
                    "mediaUrl": f"{base}/ambry/?x-li-ambry-ep={key}",
                }
        world.next_application += 1
        urn = f"{APPLICATION_URN}{world.next_application}"
        contact: dict[str, Any] = {
            "firstNameAnswer": {"value": body.candidate.first_name},
            "lastNameAnswer": {"value": body.candidate.last_name},
            "emailAnswer": {"value": body.candidate.email},
        }
        if body.candidate.phone:
            contact["cellphoneNumberQuestionAnswer"] = {"nationalNumber": body.candidate.phone}
        payload: dict[str, Any] = {
            "type": "EXPORT_JOB_APPLICATION",
            "jobApplicationId": urn,
            "jobApplicant": f"urn:li:person:{secrets.token_hex(5)}",
            "appliedAt": now,
            "questionResponses": {
                "contactInformationQuestionResponses": contact,
                "additionalQuestionResponses": {
                    "customQuestionSetResponses": [{"customQuestionResponses": responses}]
                },
            },
            "applicantSkills": [
                {
                    "skillUrn": f"urn:li:skill:{1000 + i}",
                    "skillName": skill,
                    "jobMatched": True,
                    "assessmentVerified": False,
                }
                for i, skill in enumerate(body.skills)
            ],
        }
        if "resume" in documents:
            payload["questionResponses"]["resumeQuestionResponses"] = {
                "resumeQuestionAnswer": documents["resume"]
            }
        if "coverLetter" in documents:
            payload["questionResponses"]["coverLetterQuestionResponses"] = {
                "coverLetterQuestionAnswer": documents["coverLetter"]
            }
        if sandbox.settings.application_names_job:
            payload["externalJobPostingId"] = external_id
        first = not any(
            a.client_id == app.client_id and a.external_id == external_id
            for a in world.applications.values()
        )
        record = JobApplication(
            id=urn,
            client_id=app.client_id,
            customer_id=body.customer_id,
            external_id=external_id,
            applied_at_ms=now,
            payload=payload,
            first_of_job=first,
        )
        world.applications[urn] = record
        world.changed()
        applications.deliver(record, str(config["jobApplicationWebhookUrl"]), app)
        return JSONResponse(
            {"jobApplicationId": urn, "delivery": "QUEUED", "payload": payload}, status_code=202
        )

    @api.get("/sandbox/applications")
    async def listed(customer_id: str | None = None) -> list[dict[str, Any]]:
        found = [
            {
                "jobApplicationId": a.id,
                "customerId": a.customer_id,
                "externalJobPostingId": a.external_id,
                "delivery": a.delivery,
                "attempts": a.attempts,
                "firstOfJob": a.first_of_job,
                "documents": _digests(sandbox.world, a),
            }
            for a in sandbox.world.applications.values()
            if customer_id in (None, a.customer_id)
        ]
        return found

    @api.put("/sandbox/applications/faults")
    async def application_faults(fault: ApplicationFault) -> dict[str, int]:
        applications.wrong_secret_next = fault.wrong_secret_next
        return {"wrongSecretNext": applications.wrong_secret_next}

    @api.get("/sandbox/applications/deliveries")
    async def deliveries() -> list[dict[str, Any]]:
        return list(applications.deliveries)

    @api.get("/sandbox/lifecycle-actions")
    async def lifecycle_actions() -> list[dict[str, Any]]:
        return sandbox.world.lifecycle_actions

    @api.get("/ambry")
    async def ambry(request: Request) -> Response:
        app = sandbox.customer(request, "GET /ambry")
        key = request.query_params.get("x-li-ambry-ep", "")
        media = sandbox.world.media.get(key)
        if media is None or media.client_id != app.client_id:
            raise LinkedInRefusal(404, "Media not found")
        if media.expires_at_ms <= sandbox.world.now_ms():
            raise LinkedInRefusal(404, "Media has expired")
        return Response(base64.b64decode(media.content_b64), media_type=media.content_type)

    @api.post("/v2/jobApplicationLifecycleActions", status_code=201)
    async def lifecycle_action(request: Request) -> Response:
        app = sandbox.customer(request, "POST /jobApplicationLifecycleActions")
        if request.headers.get("x-restli-method", "").lower() != "create":
            raise forbidden("POST /jobApplicationLifecycleActions")
        body = await json_body(request)
        application_id = str(body.get("jobApplicationId") or "")
        if not application_id:
            raise LinkedInRefusal(
                422,
                "ERROR :: /jobApplicationId :: field is required but not found and has no "
                "default value\n",
            )
        urn = (
            application_id
            if application_id.startswith(APPLICATION_URN)
            else (f"{APPLICATION_URN}{application_id}")
        )
        known = sandbox.world.applications.get(urn)
        if known is None or known.client_id != app.client_id:
            raise LinkedInRefusal(404, f"Job application {application_id} not found")
        action = body.get("action")
        if action not in ACTIONS:
            raise LinkedInRefusal(422, f'ERROR :: /action :: "{action}" is not an enum symbol\n')
        performed_at = body.get("performedAt")
        if not isinstance(performed_at, int) or isinstance(performed_at, bool):
            raise LinkedInRefusal(422, "ERROR :: /performedAt :: expected a long\n")
        sandbox.world.lifecycle_actions.append(
            {
                "jobApplicationId": urn,
                "action": action,
                "performedAt": performed_at,
                "integrationContext": body.get("integrationContext"),
                "clientId": app.client_id,
                "atMs": sandbox.world.now_ms(),
            }
        )
        sandbox.world.changed()
        return Response(status_code=201)

    return applications


def _responses(config: dict[str, Any], body: Apply) -> list[dict[str, Any]]:
    questions = {str(q.get("partnerQuestionIdentifier")): q for q in custom_questions(config)}
    unknown = sorted(set(body.answers) - set(questions))
    if unknown:
        raise LinkedInRefusal(422, f"answers: no question {unknown[0]} in this job")
    responses = []
    for identifier, question in questions.items():
        if identifier not in body.answers:
            if question.get("required") and question.get("prerequisiteQuestionResponse") is None:
                raise LinkedInRefusal(422, f"answers.{identifier}: required")
            continue
        responses.append(
            {
                "questionIdentifier": identifier,
                "answer": _answer(question, body.answers[identifier]),
            }
        )
    return responses
