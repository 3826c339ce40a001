"""The sandbox plays LinkedIn's side of webhooks (linkedin-inbound.md §1-4, §8).

The sandbox runs in-process and reaches a tiny receiver through an injected transport: the
receiver answers the challenge and checks `X-LI-Signature` (both forms of §2), as the
partner must. One test runs both on real loopback servers.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from linkedin_sandbox import SandboxSettings, create_app
from tests.jobs_support import valid_job
from tests.sandbox_control import SandboxServer, ServerThread
from tests.temporal_support import eventually

SECRET = "sandbox-partner-secret"
HOOK = "http://receiver.test/linkedin/webhook"
CHALLENGE_REFUSED = "This URL did not pass the security challenge check"
TWO_HOURS = 2 * 3600


def sign(secret: str, body: bytes, form: str) -> str:
    if form == "a":
        return hmac.new(secret.encode(), b"hmacsha256=" + body, hashlib.sha256).hexdigest()
    return "hmacsha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class Post:
    body: bytes
    signature: str | None
    form: str | None
    """Which reading of §2 the signature matched; None when it matched neither."""
    status: int

    @property
    def event(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """The partner's webhook, as small as the tests need."""

    secret: str = SECRET
    challenge: str = "ok"
    """ok | wrong | error | slow | text | echo-other: how the next challenges are answered."""
    fail_next: int = 0
    """Answer the next N genuine POSTs 500."""
    down: bool = False
    """Refuse connections altogether."""
    challenges: list[dict[str, str]] = field(default_factory=list)
    posts: list[Post] = field(default_factory=list)

    @property
    def accepted(self) -> list[Post]:
        return [p for p in self.posts if p.status == 200]

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/linkedin/webhook")
        @app.get("/other/webhook")
        async def challenge(request: Request) -> Response:
            self.challenges.append(dict(request.query_params))
            code = request.query_params["challengeCode"]
            answer = hmac.new(self.secret.encode(), code.encode(), hashlib.sha256).hexdigest()
            if self.challenge == "slow":
                await asyncio.sleep(2)
            if self.challenge == "error":
                return JSONResponse({"challengeCode": code, "challengeResponse": answer}, 500)
            if self.challenge == "wrong":
                answer = hmac.new(b"another secret", code.encode(), hashlib.sha256).hexdigest()
            if self.challenge == "echo-other":
                code = str(uuid.uuid4())
            if self.challenge == "text":
                return Response(answer, media_type="text/plain")
            return JSONResponse({"challengeCode": code, "challengeResponse": answer})

        @app.post("/linkedin/webhook")
        @app.post("/other/webhook")
        async def event(request: Request) -> Response:
            body = await request.body()
            signature = request.headers.get("x-li-signature")
            form = next(
                (
                    f
                    for f in ("a", "b")
                    if signature and hmac.compare_digest(signature, sign(self.secret, body, f))
                ),
                None,
            )
            status = 401 if form is None else 200
            if form is not None and self.fail_next > 0:
                self.fail_next -= 1
                status = 500
            self.posts.append(Post(body, signature, form, status))
            return Response(status_code=status)

        return app


class Wire(httpx.AsyncBaseTransport):
    """The network between the sandbox and the receiver: down when the receiver is."""

    def __init__(self, receiver: Receiver) -> None:
        self.receiver = receiver
        self.inner = httpx.ASGITransport(receiver.app())

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.receiver.down:
            raise httpx.ConnectError("connection refused", request=request)
        return await self.inner.handle_async_request(request)


@dataclass
class Customer:
    client_id: str
    client_secret: str
    urn: str


@dataclass
class Harness:
    app: FastAPI
    http: httpx.AsyncClient
    receiver: Receiver

    async def ok(self, response: httpx.Response) -> Any:
        assert response.is_success, (response.status_code, response.text)
        return response.json() if response.content else None

    async def register(self, url: str = HOOK) -> httpx.Response:
        return await self.http.post("/sandbox/webhooks", json={"url": url})

    async def webhooks(self) -> list[dict[str, Any]]:
        return list(await self.ok(await self.http.get("/sandbox/webhooks")))

    async def webhook(self) -> dict[str, Any]:
        (hook,) = await self.webhooks()
        return hook

    async def deliveries(self) -> list[dict[str, Any]]:
        return list(await self.ok(await self.http.get("/sandbox/deliveries")))

    async def advance(self, seconds: float) -> None:
        await self.ok(await self.http.post("/sandbox/clock/advance", params={"seconds": seconds}))

    async def settings(self, **patch: Any) -> None:
        await self.ok(await self.http.patch("/sandbox/settings", json=patch))

    async def fault(self, **fault: Any) -> None:
        await self.ok(await self.http.put("/sandbox/faults/webhooks", json=fault))

    async def token(self, client_id: str, secret: str) -> str:
        answer = await self.ok(
            await self.http.post(
                "/oauth/v2/accessToken",
                data={
                    "grant_type": "client_credentials",
                    "client_id": client_id,
                    "client_secret": secret,
                },
            )
        )
        return str(answer["access_token"])

    async def customer(self, customer_id: str = "cust-1") -> Customer:
        token = await self.token("sandbox-partner", SECRET)
        created = await self.ok(
            await self.http.post(
                "/v2/provisionedApplications",
                headers={"Authorization": f"Bearer {token}"},
                json={"uniqueForeignId": customer_id, "name": f"Acme ATS - {customer_id}"},
            )
        )
        creds = created["credentials"]
        return Customer(creds["client_id"], creds["client_secret"], created["key"])

    async def submit(self, customer: Customer, *elements: dict[str, Any]) -> list[Any]:
        token = await self.token(customer.client_id, customer.client_secret)
        answer = await self.ok(
            await self.http.post(
                "/v2/simpleJobPostings",
                json={"elements": list(elements)},
                headers={"Authorization": f"Bearer {token}", "x-restli-method": "batch_create"},
            )
        )
        return list(answer["elements"])

    async def create(self, customer: Customer, *ids: str) -> None:
        await self.submit(customer, *(valid_job(i).to_wire() for i in ids))
        await self.status(customer, ids[0])  # any API call runs the due tasks

    async def update(self, customer: Customer, *ids: str) -> None:
        elements = [valid_job(i, job_posting_operation_type="UPDATE").to_wire() for i in ids]
        answers = await self.submit(customer, *elements)
        assert all(a["status"] == 202 for a in answers), answers

    async def status(self, customer: Customer, external_id: str) -> dict[str, Any]:
        token = await self.token(customer.client_id, customer.client_secret)
        answer = await self.ok(
            await self.http.get(
                "/v2/jobPostingStatus",
                params={"ids": external_id},
                headers={"Authorization": f"Bearer {token}"},
            )
        )
        return dict(answer["results"].get(external_id) or {})

    async def change(self, external_id: str, **body: Any) -> httpx.Response:
        return await self.http.post(
            f"/sandbox/jobs/{external_id}/change", json={"customerId": "cust-1", **body}
        )

    async def resync(self, **body: Any) -> httpx.Response:
        return await self.http.post("/sandbox/resync", json={"customerId": "cust-1", **body})

    async def accepted(self, count: int) -> list[Post]:
        """Wait for `count` genuine posts the receiver accepted, and the sandbox journaled.

        The receiver sees a post before the sandbox has its answer, hence the journal."""
        await eventually(self.deliveries, lambda d: sum(e["status"] == 200 for e in d) >= count, 5)
        return self.receiver.accepted

    async def validations(self, count: int) -> dict[str, Any]:
        return await eventually(self.webhook, lambda h: h["validations"] >= count, 5)


def settings(**overrides: Any) -> SandboxSettings:
    return SandboxSettings(
        task_delay_seconds=0,
        webhook_retry_seconds=0.01,
        webhook_challenge_timeout_seconds=0.5,
        **overrides,
    )


@pytest.fixture
async def h() -> AsyncIterator[Harness]:
    receiver = Receiver()
    app = create_app(settings(), webhook_transport=Wire(receiver))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app), base_url="http://sandbox.test", timeout=10
        ) as http,
    ):
        yield Harness(app, http, receiver)


# -- §1 registration and the challenge -------------------------------------------------------


async def test_registration_answers_the_webhook_once_its_challenge_is_signed(h: Harness) -> None:
    answer = await h.register()
    assert answer.status_code == 201, answer.text
    hook = answer.json()
    assert hook["url"] == HOOK and hook["status"] == "ACTIVE" and hook["misses"] == 0
    assert hook["lastValidation"]["ok"] is True
    assert hook["lastValidation"]["kind"] == "REGISTRATION"
    assert hook["nextValidationMs"] == hook["lastValidation"]["atMs"] + TWO_HOURS * 1000
    (asked,) = h.receiver.challenges
    assert set(asked) == {"challengeCode"}  # the parent's own webhook: no applicationId
    assert uuid.UUID(asked["challengeCode"]).version == 4
    assert await h.webhooks() == [hook]


@pytest.mark.parametrize("answer", ["wrong", "error", "slow", "text", "echo-other"])
async def test_registration_is_refused_when_the_challenge_is_not_met(
    h: Harness, answer: str
) -> None:
    h.receiver.challenge = answer
    refused = await h.register()
    assert refused.status_code == 400
    assert refused.json()["message"] == CHALLENGE_REFUSED
    assert refused.json()["status"] == 400
    assert await h.webhooks() == []


async def test_registration_is_refused_when_the_url_cannot_be_reached(h: Harness) -> None:
    h.receiver.down = True
    refused = await h.register()
    assert refused.status_code == 400 and refused.json()["message"] == CHALLENGE_REFUSED


async def test_registering_again_replaces_the_webhook_and_a_refused_url_changes_nothing(
    h: Harness,
) -> None:
    await h.ok(await h.register())
    await h.ok(await h.register("http://receiver.test/other/webhook"))
    assert [w["url"] for w in await h.webhooks()] == ["http://receiver.test/other/webhook"]
    h.receiver.challenge = "wrong"
    assert (await h.register()).status_code == 400
    assert [w["url"] for w in await h.webhooks()] == ["http://receiver.test/other/webhook"]
    assert (await h.http.delete("/sandbox/webhooks")).status_code == 204
    assert await h.webhooks() == []


async def test_the_webhook_is_validated_again_every_two_hours_of_sandbox_time(
    h: Harness,
) -> None:
    await h.ok(await h.register())
    await h.advance(TWO_HOURS - 60)
    await asyncio.sleep(0.3)
    assert (await h.webhook())["validations"] == 1
    await h.advance(60)
    hook = await h.validations(2)
    assert hook["lastValidation"]["kind"] == "REVALIDATION" and hook["lastValidation"]["ok"]
    assert hook["status"] == "ACTIVE" and len(h.receiver.challenges) == 2


async def test_three_failed_validations_in_a_row_block_the_webhook(h: Harness) -> None:
    await h.ok(await h.register())
    customer = await h.customer()
    await h.create(customer, "job-1")
    h.receiver.challenge = "error"
    for misses in (1, 2):
        await h.advance(TWO_HOURS)
        hook = await h.validations(1 + misses)
        assert (hook["status"], hook["misses"]) == ("ACTIVE", misses)
        assert hook["lastValidation"]["ok"] is False and hook["lastValidation"]["reason"]
    h.receiver.challenge = "ok"  # one success: the misses start again from zero
    await h.advance(TWO_HOURS)
    assert (await h.validations(4))["misses"] == 0
    h.receiver.down = True
    for _ in range(3):
        await h.advance(TWO_HOURS)
    hook = await h.validations(7)
    assert (hook["status"], hook["misses"]) == ("BLOCKED", 3)
    await h.advance(TWO_HOURS)  # a blocked webhook is no longer checked
    await asyncio.sleep(0.3)
    assert (await h.webhook())["validations"] == 7

    h.receiver.down = False
    changed = await h.ok(await h.change("job-1", listingStatus="NOT_LISTED"))
    assert changed["delivery"] == "BLOCKED"
    await asyncio.sleep(0.3)
    assert h.receiver.posts == []
    assert [(d["kind"], d["status"]) for d in await h.deliveries()] == [("SKIPPED", None)]

    # Registering again is LinkedIn's manual re-validation: the webhook is active again.
    assert (await h.ok(await h.register()))["status"] == "ACTIVE"
    await h.ok(await h.change("job-1", listingStatus="LISTED"))
    assert (await h.accepted(1))[0].event["listingStatus"] == "LISTED"


async def test_six_hours_down_in_one_jump_are_three_missed_validations(h: Harness) -> None:
    await h.ok(await h.register())
    h.receiver.down = True
    await h.advance(3 * TWO_HOURS)
    hook = await h.validations(4)
    assert (hook["status"], hook["misses"]) == ("BLOCKED", 3)


# -- §3 job status changes, signed per §2 -----------------------------------------------------


@pytest.mark.parametrize("form", ["a", "b"])
async def test_a_change_notifies_a_job_posting_status_event_signed_in_either_form(
    h: Harness, form: str
) -> None:
    await h.settings(webhookSignatureForm=form)
    await h.ok(await h.register())
    customer = await h.customer()
    await h.create(customer, "job-1")
    answer = await h.change("job-1", listingStatus="NOT_LISTED", reason="Gelöscht: reported")
    assert answer.status_code == 202, answer.text
    assert answer.json()["delivery"] == "QUEUED"

    (post,) = await h.accepted(1)
    assert post.form == form and post.signature == sign(SECRET, post.body, form)
    assert b"\\u00f6" in post.body  # the escaped Unicode form [RA] signs
    event = post.event
    assert event["type"] == "JOB_POSTING_STATUS"
    assert event["externalJobPostingId"] == "job-1"
    assert event["developerApplicationUrn"] == customer.urn
    assert event["listingStatus"] == "NOT_LISTED"
    assert event["listingStatusDetail"]["statusMessage"] == "Gelöscht: reported"
    assert event["jobPostingUrl"].startswith("https://www.linkedin.com/jobs/view/")
    assert event["jobPostingInfo"]["listedAt"] > 0
    assert answer.json()["event"] == event

    # The event carries the status fields as jobPostingStatus then answers them.
    status = await h.status(customer, "job-1")
    assert {k: v for k, v in status.items() if k != "externalJobPostingId"} == {
        k: v
        for k, v in event.items()
        if k not in {"type", "externalJobPostingId", "developerApplicationUrn"}
    }
    (journaled,) = await h.deliveries()
    assert journaled["kind"] == "DELIVERY" and journaled["attempt"] == 1
    assert journaled["status"] == 200 and journaled["signatureForm"] == form
    assert journaled["url"] == HOOK and journaled["type"] == "JOB_POSTING_STATUS"
    assert journaled["event"] == event


async def test_apply_and_promotion_changes_are_what_job_posting_status_answers(
    h: Harness,
) -> None:
    await h.ok(await h.register())
    customer = await h.customer()
    await h.create(customer, "job-1")
    await h.ok(await h.change("job-1", linkedInApplyStatus="ENABLED"))
    assert (await h.status(customer, "job-1"))["linkedInApplyStatus"] == "ENABLED"
    await h.ok(
        await h.change(
            "job-1",
            linkedInApplyStatus="NOT_ENABLED",
            promotionStatus="PROMOTED",
            reason="Apply moved to the company site",
        )
    )
    status = await h.status(customer, "job-1")
    assert status["linkedInApplyStatus"] == "NOT_ENABLED"
    assert status["linkedInApplyStatusDetail"]["statusMessage"] == "Apply moved to the company site"
    assert status["promotionStatus"] == "PROMOTED"
    assert status["listingStatus"] == "LISTED"
    events = [p.event for p in await h.accepted(2)]
    assert [e["linkedInApplyStatus"] for e in events] == ["ENABLED", "NOT_ENABLED"]


async def test_a_change_of_a_job_linkedin_does_not_have_is_refused(h: Harness) -> None:
    await h.customer()
    assert (await h.change("nope", listingStatus="NOT_LISTED")).status_code == 404
    assert (await h.http.post("/sandbox/jobs/x/change", json={"customerId": "x"})).status_code == (
        404
    )
    assert (await h.change("nope", listingStatus="GONE")).status_code == 422


async def test_a_change_without_a_webhook_changes_the_world_and_says_so(h: Harness) -> None:
    customer = await h.customer()
    await h.create(customer, "job-1")
    answer = await h.ok(await h.change("job-1", listingStatus="NOT_LISTED"))
    assert answer["delivery"] == "NO_WEBHOOK"
    assert (await h.status(customer, "job-1"))["listingStatus"] == "NOT_LISTED"


# -- §4 resync ---------------------------------------------------------------------------------


async def test_a_resync_reports_jobs_back_in_time_late_and_never(h: Harness) -> None:
    await h.ok(await h.register())
    customer = await h.customer()
    await h.create(customer, "job-1", "job-2", "job-3")
    await h.update(customer, "job-1")  # before the request: does not count
    answer = await h.resync(externalJobPostingIds=["job-1", "job-2", "job-3"])
    assert answer.status_code == 202, answer.text
    resync = answer.json()["resync"]
    (post,) = await h.accepted(1)
    assert post.event == {
        "type": "RESYNC_JOBS",
        "developerApplicationUrn": customer.urn,
        "syncAllOpenJobs": False,
        "externalJobPostingIds": ["job-1", "job-2", "job-3"],
    }
    assert post.form == "a"
    report = await h.ok(await h.http.get(f"/sandbox/resync/{resync['id']}"))
    assert report["pending"] == ["job-1", "job-2", "job-3"] and report["never"] == []

    await h.advance(29 * 60)
    await h.update(customer, "job-1")
    await h.advance(2 * 60)
    await h.update(customer, "job-2")
    other = await h.customer("cust-2")
    await h.create(other, "job-3")
    await h.update(other, "job-3")  # another customer's job-3 is not this one

    report = await h.ok(await h.http.get(f"/sandbox/resync/{resync['id']}"))
    assert report["requested"] == ["job-1", "job-2", "job-3"]
    assert report["inTime"] == ["job-1"]
    assert report["late"] == ["job-2"]
    assert report["never"] == ["job-3"]
    assert report["pending"] == []
    assert report["deadlineMs"] == report["requestedAtMs"] + 30 * 60 * 1000
    assert report["developerApplicationUrn"] == customer.urn
    assert [r["id"] for r in await h.ok(await h.http.get("/sandbox/resync"))] == [resync["id"]]
    resyncs = await h.ok(await h.http.get("/sandbox/deliveries", params={"type": "RESYNC_JOBS"}))
    assert [d["event"]["type"] for d in resyncs] == ["RESYNC_JOBS"]


async def test_a_resync_of_all_open_jobs_names_the_open_ones(h: Harness) -> None:
    await h.ok(await h.register())
    customer = await h.customer()
    await h.create(customer, "job-1", "job-2", "job-3")
    close = valid_job("job-3", job_posting_operation_type="CLOSE").to_wire()
    await h.submit(customer, close)
    await h.status(customer, "job-3")
    answer = await h.ok(await h.resync(syncAllOpenJobs=True))
    (post,) = await h.accepted(1)
    assert post.event == {
        "type": "RESYNC_JOBS",
        "developerApplicationUrn": customer.urn,
        "syncAllOpenJobs": True,
    }
    assert answer["resync"]["requested"] == ["job-1", "job-2"]
    assert answer["resync"]["syncAllOpenJobs"] is True


async def test_a_resync_needs_ids_or_all_open_jobs(h: Harness) -> None:
    await h.customer()
    assert (await h.resync()).status_code == 422
    assert (await h.resync(externalJobPostingIds=[])).status_code == 422
    assert (await h.resync(externalJobPostingIds=["a"], syncAllOpenJobs=True)).status_code == 422
    assert (
        await h.http.post("/sandbox/resync", json={"customerId": "x", "syncAllOpenJobs": True})
    ).status_code == 404
    assert (await h.http.get("/sandbox/resync/nope")).status_code == 404


# -- §2 deliveries: retries and faults ---------------------------------------------------------


async def test_non_2xx_answers_and_connection_errors_are_retried(h: Harness) -> None:
    await h.ok(await h.register())
    customer = await h.customer()
    await h.create(customer, "job-1")
    h.receiver.fail_next = 2
    await h.ok(await h.change("job-1", listingStatus="NOT_LISTED"))
    await h.accepted(1)
    journal = await h.deliveries()
    assert [(d["attempt"], d["status"]) for d in journal] == [(1, 500), (2, 500), (3, 200)]
    assert len({d["eventId"] for d in journal}) == 1

    h.receiver.down = True
    await h.ok(await h.change("job-1", listingStatus="LISTED"))
    await asyncio.sleep(0.2)
    h.receiver.down = False
    await h.accepted(2)
    retried = [d for d in await h.deliveries() if d["eventId"] != journal[0]["eventId"]]
    assert retried[0]["status"] is None and "ConnectError" in retried[0]["error"]
    assert retried[-1]["status"] == 200


async def test_retries_stop_after_the_setting(h: Harness) -> None:
    await h.settings(webhookRetries=2)
    await h.ok(await h.register())
    customer = await h.customer()
    await h.create(customer, "job-1")
    h.receiver.fail_next = 100
    await h.ok(await h.change("job-1", listingStatus="NOT_LISTED"))
    await eventually(h.deliveries, lambda d: len(d) >= 3, 5)
    await asyncio.sleep(0.3)
    assert [(d["attempt"], d["status"]) for d in await h.deliveries()] == [
        (1, 500),
        (2, 500),
        (3, 500),
    ]


async def test_a_duplicate_delivery_repeats_the_same_signed_bytes(h: Harness) -> None:
    await h.ok(await h.register())
    customer = await h.customer()
    await h.create(customer, "job-1")
    await h.fault(duplicateNext=1)
    await h.ok(await h.change("job-1", listingStatus="NOT_LISTED"))
    await h.ok(await h.change("job-1", listingStatus="LISTED"))
    first, again, second = await h.accepted(3)
    assert (first.body, first.signature) == (again.body, again.signature)
    assert second.event["listingStatus"] == "LISTED"
    assert [d["kind"] for d in await h.deliveries()] == ["DELIVERY", "DUPLICATE", "DELIVERY"]


async def test_reordering_sends_the_held_events_newest_first(h: Harness) -> None:
    await h.ok(await h.register())
    customer = await h.customer()
    await h.create(customer, "job-1")
    await h.fault(reorderNext=2)
    await h.ok(await h.change("job-1", listingStatus="NOT_LISTED"))
    await asyncio.sleep(0.2)
    assert h.receiver.posts == []  # held until the second one is queued
    await h.ok(await h.change("job-1", listingStatus="LISTED"))
    await h.ok(await h.change("job-1", promotionStatus="PROMOTED"))
    events = [p.event for p in await h.accepted(3)]
    assert [(e["listingStatus"], e["promotionStatus"]) for e in events] == [
        ("LISTED", "NOT_PROMOTED"),
        ("NOT_LISTED", "NOT_PROMOTED"),
        ("LISTED", "PROMOTED"),
    ]


async def test_clearing_faults_releases_held_events(h: Harness) -> None:
    await h.ok(await h.register())
    customer = await h.customer()
    await h.create(customer, "job-1")
    await h.fault(reorderNext=3)
    await h.ok(await h.change("job-1", listingStatus="NOT_LISTED"))
    await h.ok(await h.http.delete("/sandbox/faults"))
    assert (await h.accepted(1))[0].event["listingStatus"] == "NOT_LISTED"


async def test_a_forged_post_signed_with_another_secret_is_refused_by_the_receiver(
    h: Harness,
) -> None:
    await h.ok(await h.register())
    customer = await h.customer()
    await h.create(customer, "job-1")
    await h.fault(forgeNext=1)
    await h.ok(await h.change("job-1", listingStatus="NOT_LISTED"))
    (genuine,) = await h.accepted(1)
    forged, real = h.receiver.posts
    assert forged.status == 401 and forged.form is None and forged.signature
    assert forged.body == genuine.body and real is genuine
    journal = await h.deliveries()
    assert [(d["kind"], d["status"]) for d in journal] == [("FORGED", 401), ("DELIVERY", 200)]


async def test_reset_forgets_the_webhook_resyncs_deliveries_and_delivery_faults(
    h: Harness,
) -> None:
    await h.ok(await h.register())
    customer = await h.customer()
    await h.create(customer, "job-1")
    await h.ok(await h.change("job-1", listingStatus="NOT_LISTED"))
    await h.ok(await h.resync(externalJobPostingIds=["job-1"]))
    await h.accepted(2)
    await h.fault(forgeNext=5)
    await h.ok(await h.http.post("/sandbox/reset"))
    assert await h.webhooks() == []
    assert await h.deliveries() == []
    assert await h.ok(await h.http.get("/sandbox/resync")) == []
    h.receiver.posts.clear()
    await h.ok(await h.register())
    customer = await h.customer()
    await h.create(customer, "job-1")
    await h.ok(await h.change("job-1", listingStatus="NOT_LISTED"))
    await h.accepted(1)
    assert [p.status for p in h.receiver.posts] == [200]


# -- §8 PROCESSED tasks ------------------------------------------------------------------------


async def test_the_next_tasks_can_end_processed(h: Harness) -> None:
    customer = await h.customer()
    await h.ok(await h.http.post("/sandbox/tasks/fail-next", json={"status": "PROCESSED"}))
    (first,) = await h.submit(customer, valid_job("job-1").to_wire())
    (second,) = await h.submit(customer, valid_job("job-2").to_wire())
    token = await h.token(customer.client_id, customer.client_secret)
    tasks = await h.ok(
        await h.http.get(
            "/v2/simpleJobPostingTasks",
            params=[("ids", first["id"]), ("ids", second["id"])],
            headers={"Authorization": f"Bearer {token}"},
        )
    )
    done = tasks["results"]
    assert done[first["id"]]["status"] == "PROCESSED" and "jobPosting" not in done[first["id"]]
    assert done[second["id"]]["status"] == "SUCCEEDED"
    assert await h.status(customer, "job-1") == {}  # fed by XML: the API post made no job

    assert (
        await h.http.post("/sandbox/tasks/fail-next", json={"status": "FAILED"})
    ).status_code == 422  # a FAILED task needs LinkedIn's errorMessage
    await h.ok(
        await h.http.post(
            "/sandbox/tasks/fail-next",
            json={"status": "PROCESSED", "errorMessage": "Job is sourced from XML feed"},
        )
    )
    (third,) = await h.submit(customer, valid_job("job-3").to_wire())
    tasks = await h.ok(
        await h.http.get(
            "/v2/simpleJobPostingTasks",
            params={"ids": third["id"]},
            headers={"Authorization": f"Bearer {token}"},
        )
    )
    assert tasks["results"][third["id"]]["errorMessage"] == "Job is sourced from XML feed"


# -- over real loopback ------------------------------------------------------------------------


async def test_over_loopback_a_registered_receiver_gets_a_signed_event() -> None:
    receiver = Receiver()
    listener = ServerThread(receiver.app()).start()
    server = SandboxServer(settings()).start()
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
            h = Harness(FastAPI(), http, receiver)
            await h.ok(await h.register(f"{listener.url}/linkedin/webhook"))
            customer = await h.customer()
            await h.create(customer, "job-1")
            await h.ok(await h.change("job-1", promotionStatus="PROMOTED"))
            (post,) = await h.accepted(1)
            assert post.form == "a" and post.event["promotionStatus"] == "PROMOTED"
    finally:
        server.stop()
        listener.stop()
