"""The ATS and its customers, over HTTP, as a real one behaves under faults.

Customers onboard through our API and save LinkedIn's widget in the sandbox (its callback
reaches our API). Jobs go through PUT, update, upgrade, renew, downgrade and close, one
operation at a time, each with an Idempotency-Key that is kept across retries of the same
request (timeouts, 5xx) and changed only for a new request. What the ATS was told is kept
in the ledger the audit checks.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import structlog

from domain.job_workflow import OperationKind

log = structlog.get_logger("chaos")

TASK_FAILURE = "chaos: LinkedIn failed this task on purpose"
"""The errorMessage of tasks the sandbox is told to fail: the ATS sends the operation again."""

PARKED_PATIENCE = 15.0
"""Seconds an operation may stay parked before the ATS's operator asks for a retry."""

DESCRIPTION = (
    "Chaos Inc. is hiring an engineer who keeps systems correct while processes die, "
    "answers get lost and LinkedIn has a bad day. Revision {revision}."
)


@dataclass
class Patience:
    """An operator's: something parked for PARKED_PATIENCE seconds on end gets a retry."""

    parked_since: float | None = None

    def runs_out(self, parked: bool) -> bool:
        """Whether to retry now; each retry starts the count again."""
        if not parked:
            self.parked_since = None
            return False
        now = time.monotonic()
        self.parked_since = self.parked_since or now
        if now - self.parked_since <= PARKED_PATIENCE:
            return False
        self.parked_since = None
        return True


@dataclass
class Requested:
    """One operation the API acknowledged, and how it ended as the ATS last saw it."""

    customer: str
    job: str
    kind: OperationKind
    key: str
    operation_id: str
    outcome: str = "QUEUED"
    error: str | None = None


@dataclass
class Customer:
    id: str
    contract: str
    poster: str
    onboarded: bool = False
    """Our API accepted its onboarding."""
    saved: bool = False
    """The widget save's callback reached our API and was accepted."""
    enabled: bool = False


APPLY_QUESTIONS: dict[str, Any] = {
    "questions": {
        "resumeQuestions": {"resumeQuestionRequirement": "REQUIRED"},
        "coverLetterQuestions": {"coverLetterQuestionRequirement": "OPTIONAL"},
        "additionalQuestions": {
            "customQuestionSets": [
                {
                    "questions": [
                        {
                            "partnerQuestionIdentifier": "years",
                            "questionText": "Years of experience?",
                            "required": True,
                            "questionDetails": {
                                "numericQuestionDetails": {
                                    "integerQuestionDetails": {"minValue": 0, "maxValue": 60}
                                }
                            },
                        }
                    ]
                }
            ]
        },
    }
}
"""The on-site apply questions of the jobs candidates apply to (Apply Connect)."""


@dataclass
class Ledger:
    requested: list[Requested] = field(default_factory=list)
    jobs: dict[str, str] = field(default_factory=dict)
    """external job id → customer id, for every job the ATS sent."""
    customers: dict[str, Customer] = field(default_factory=dict)
    http_retries: int = 0
    """Requests sent again with the same key after a timeout, a dropped connection or 5xx."""
    operator_retries: int = 0
    resends: int = 0
    """Operations LinkedIn failed (on purpose) that the ATS sent again as new requests."""
    refused: Counter[str] = field(default_factory=Counter)
    """Operations LinkedIn or our API refused for another reason: a driver or product bug."""
    apply_jobs: dict[str, str] = field(default_factory=dict)
    """external job id → customer id, for the jobs posted with on-site apply questions."""
    applied: dict[str, dict[str, str]] = field(default_factory=dict)
    """jobApplicationId LinkedIn answered 202 → document kind → sha256 the candidate sent."""
    apply_refused: Counter[str] = field(default_factory=Counter)
    """Candidates LinkedIn turned away (the job off-site or closed, the sandbox down)."""
    heard: dict[str, list[str]] = field(default_factory=dict)
    """jobApplicationId → the event id of each valid `application.received` the ATS got."""
    bad_signatures: int = 0


class Api:
    """Our HTTP API with the retries a real ATS does: same key, backoff, bounded."""

    def __init__(self, url: str, token: str, ledger: Ledger) -> None:
        self.http = httpx.AsyncClient(
            base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        self.ledger = ledger

    async def call(
        self, method: str, path: str, until: float, *, key: str | None = None, **kw: Any
    ) -> httpx.Response | None:
        """The first answer below 500, or None when `until` passed first."""
        headers = {"Idempotency-Key": key} if key else {}
        pause = 0.5
        while time.monotonic() < until:
            try:
                answer = await self.http.request(method, path, headers=headers, **kw)
            except httpx.HTTPError:
                answer = None
            if answer is not None and answer.status_code < 500:
                return answer
            self.ledger.http_retries += 1
            await asyncio.sleep(pause)
            pause = min(pause * 2, 5.0)
        return None


class Ats:
    """Plays the ATS's back end, its operators and its customers."""

    def __init__(
        self, api: Api, sandbox_url: str, api_url: str, token: str, rng: random.Random
    ) -> None:
        self.api = api
        self.ledger = api.ledger
        self.sandbox = httpx.AsyncClient(base_url=sandbox_url, timeout=30)
        self.api_url = api_url
        self.token = token
        self.rng = rng
        self.chaos_until = 0.0
        """No new operation starts after this; running ones finish."""
        self.settle_until = 0.0
        """Nothing is sent after this."""

    # -- customers --------------------------------------------------------------------------

    async def onboard(self, customer: Customer) -> None:
        """Onboard, save the widget until its callback got through, wait for ENABLED."""
        self.ledger.customers[customer.id] = customer
        path = f"/v1/customers/{customer.id}"
        body = {"customer_name": f"Chaos {customer.id}"}
        answer = await self.api.call("POST", f"{path}/onboarding", self.settle_until, json=body)
        if answer is None or answer.status_code != 202:
            log.error("chaos.onboarding_refused", customer=customer.id, answer=_text(answer))
            return
        customer.onboarded = True
        patience = Patience()
        while time.monotonic() < self.settle_until and not customer.enabled:
            if not customer.saved:
                customer.saved = await self._save_widget(customer)
            await asyncio.sleep(1)
            answer = await self.api.call("GET", f"{path}/integrations", self.settle_until)
            status = _integration_status(answer, customer.contract)
            customer.enabled = status == "ENABLED"
            if patience.runs_out(status == "NEEDS_ATTENTION"):
                self.ledger.operator_retries += 1
                await self.api.call(
                    "POST", f"{path}/integrations/PREMIUM_JOB_POSTING/retry", self.settle_until
                )
        log.info("chaos.customer", customer=customer.id, enabled=customer.enabled)

    async def _save_widget(self, customer: Customer) -> bool:
        """The customer saves the widget; True once its callback reached our API."""
        body = {
            "customerId": customer.id,
            "integrationContext": customer.contract,
            "jobPosterEmail": customer.poster,
            "callbackUrl": f"{self.api_url}/v1/customers/{customer.id}/widget-callback",
            "callbackHeaders": {"Authorization": f"Bearer {self.token}"},
        }
        try:
            answer = await self.sandbox.post("/sandbox/widget/save", json=body)
        except httpx.HTTPError:
            return False
        return answer.status_code == 200 and answer.headers.get("x-sandbox-callback-status") in (
            "200",
            "202",
        )

    # -- jobs -------------------------------------------------------------------------------

    def script(self) -> list[OperationKind]:
        """A job's life: created, maybe updated, upgraded, renewed, downgraded, closed."""
        steps = [OperationKind.CREATE]
        if self.rng.random() < 0.4:
            steps.append(OperationKind.UPDATE)
        if self.rng.random() < 0.7:
            steps.append(OperationKind.UPGRADE)
            if self.rng.random() < 0.5:
                steps.append(OperationKind.RENEW)
            if self.rng.random() < 0.5:
                steps.append(OperationKind.DOWNGRADE)
        if self.rng.random() < 0.8:
            steps.append(OperationKind.CLOSE)
        return steps

    async def run_job(self, customer: Customer, job: str, apply: bool = False) -> None:
        """A job's life (`script`); a job with on-site apply questions is created and kept
        open for candidates."""
        self.ledger.jobs[job] = customer.id
        if apply:
            self.ledger.apply_jobs[job] = customer.id
        revision = 0
        for kind in [OperationKind.CREATE] if apply else self.script():
            if time.monotonic() >= self.chaos_until:
                return
            for attempt in range(3):
                revision += kind in (OperationKind.CREATE, OperationKind.UPDATE)
                requested = await self.request(customer, job, kind, revision, attempt, apply)
                if requested is None:
                    return
                await self.follow(requested)
                if requested.outcome == "SUCCEEDED":
                    break
                if requested.outcome != "FAILED" or TASK_FAILURE not in (requested.error or ""):
                    if requested.outcome == "FAILED":
                        self.ledger.refused[f"{kind} FAILED"] += 1
                    log.warning(
                        "chaos.job_stopped",
                        job=job,
                        kind=str(kind),
                        outcome=requested.outcome,
                        error=requested.error,
                    )
                    return
                self.ledger.resends += 1
            else:
                return

    async def request(
        self,
        customer: Customer,
        job: str,
        kind: OperationKind,
        revision: int = 0,
        attempt: int = 0,
        apply: bool = False,
    ) -> Requested | None:
        """Send one operation until the API answers it; None when it refused it."""
        path = f"/v1/customers/{customer.id}/jobs/{job}"
        key = f"{job}-{kind.lower()}-{attempt}"
        if kind in (OperationKind.CREATE, OperationKind.UPDATE):
            answer = await self.api.call(
                "PUT", path, self.settle_until, key=key, json=_job(job, revision, apply)
            )
        else:
            body = {"contract": customer.contract} if kind == OperationKind.UPGRADE else None
            answer = await self.api.call(
                "POST", f"{path}/{kind.lower()}", self.settle_until, key=key, json=body
            )
        if answer is None or answer.status_code != 202:
            self.ledger.refused[f"{kind} HTTP {answer.status_code if answer else 'no answer'}"] += 1
            log.error("chaos.request_refused", job=job, kind=str(kind), answer=_text(answer))
            return None
        operation = answer.json()
        requested = Requested(customer.id, job, kind, key, operation["id"], operation["outcome"])
        self.ledger.requested.append(requested)
        return requested

    async def follow(self, requested: Requested) -> None:
        """Wait for the operation to finish, asking for a retry when it stays parked."""
        path = f"/v1/customers/{requested.customer}/jobs/{requested.job}"
        patience = Patience()
        while time.monotonic() < self.settle_until:
            answer = await self.api.call(
                "GET",
                f"{path}/operations/{requested.operation_id}",
                self.settle_until,
                params={"waitSeconds": 10},
            )
            if answer is None or answer.status_code != 200:
                await asyncio.sleep(1)
                continue
            operation = answer.json()
            requested.outcome, requested.error = operation["outcome"], operation.get("error")
            if requested.outcome in ("SUCCEEDED", "FAILED", "CANCELLED"):
                return
            parked = requested.outcome == "NEEDS_ATTENTION"
            if patience.runs_out(parked):
                self.ledger.operator_retries += 1
                await self.api.call(
                    "POST",
                    f"{path}/retry",
                    self.settle_until,
                    params={"operationId": requested.operation_id},
                )
            if parked:
                await asyncio.sleep(2)


class Candidates:
    """People applying on LinkedIn (the sandbox) to the jobs with on-site apply questions,
    each with a resume and, often, a cover letter."""

    def __init__(self, ats: Ats, count: int, in_flight: int = 8) -> None:
        self.ats = ats
        self.ledger = ats.ledger
        self.count = count
        self.gate = asyncio.Semaphore(in_flight)

    def live_jobs(self) -> list[tuple[str, str]]:
        """Apply jobs the ATS saw created."""
        created = {
            r.job
            for r in self.ledger.requested
            if r.kind == OperationKind.CREATE and r.outcome == "SUCCEEDED"
        }
        return sorted((j, c) for j, c in self.ledger.apply_jobs.items() if j in created)

    async def apply_until(self, until: float) -> None:
        """`count` applications spread over the time until `until`, as the jobs go live."""
        started = time.monotonic()
        pause = max(until - started, 1.0) / max(self.count, 1)
        running: set[asyncio.Task[None]] = set()
        sent = 0
        while sent < self.count and time.monotonic() < until:
            jobs = self.live_jobs()
            if not jobs:
                await asyncio.sleep(0.5)
                continue
            job, customer = self.ats.rng.choice(jobs)
            sent += 1
            task = asyncio.create_task(self.apply(customer, job, sent))
            running.add(task)
            task.add_done_callback(running.discard)
            await asyncio.sleep(pause)
        if running:
            await asyncio.wait(running)

    async def apply(self, customer: str, job: str, n: int) -> None:
        rng = self.ats.rng
        documents = {"resume": rng.randbytes(rng.randint(1_000, 20_000))}
        if rng.random() < 0.6:
            documents["coverLetter"] = rng.randbytes(rng.randint(200, 4_000))
        body = {
            "customerId": customer,
            "candidate": {"firstName": "Candidate", "lastName": f"N{n}", "email": f"{n}@c.example"},
            "answers": {"years": rng.randint(0, 60)},
            **{kind: base64.b64encode(content).decode() for kind, content in documents.items()},
        }
        async with self.gate:
            try:
                answer = await self.ats.sandbox.post(f"/sandbox/jobs/{job}/apply", json=body)
            except httpx.HTTPError:
                self.ledger.apply_refused["no answer"] += 1
                return
        if answer.status_code != 202:
            self.ledger.apply_refused[f"HTTP {answer.status_code}"] += 1
            return
        self.ledger.applied[str(answer.json()["jobApplicationId"])] = {
            kind: hashlib.sha256(content).hexdigest() for kind, content in documents.items()
        }

    def heard(self, event: dict[str, Any], valid: bool) -> None:
        """The ATS's webhook endpoint: each `application.received`, signature checked."""
        if not valid:
            self.ledger.bad_signatures += 1
        elif event.get("type") == "application.received":
            urn = str(event["data"]["jobApplicationId"])
            self.ledger.heard.setdefault(urn, []).append(str(event["id"]))


def _job(external_id: str, revision: int, apply: bool = False) -> dict[str, Any]:
    questions = {"onsiteApplyConfiguration": APPLY_QUESTIONS} if apply else {}
    return questions | {
        "externalJobPostingId": external_id,
        "title": "Chaos Engineer",
        "description": DESCRIPTION.format(revision=revision),
        "companyApplyUrl": f"https://careers.chaos.example.com/{external_id}",
        "listedAt": int(time.time() * 1000) - 60_000,
        "location": "Springfield",
        "companyName": "Chaos Inc.",
        "employmentStatus": "FULL_TIME",
    }


def _integration_status(answer: httpx.Response | None, contract: str) -> str | None:
    if answer is None or answer.status_code != 200:
        return None
    for integration in answer.json():
        context = integration.get("contexts", {}).get(contract)
        return str((context or integration).get("status"))
    return None


def _text(answer: httpx.Response | None) -> str:
    return "no answer" if answer is None else f"{answer.status_code} {answer.text[:300]}"
