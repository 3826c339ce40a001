"""The sandbox plays LinkedIn's Apply Connect: it takes and keeps a job's questions, posts a
job with a duplicate question id as off-site apply, and (with no server of ours) a
candidate applying is validated, delivered signed with the child secret and retried, a job
whose first application cannot be delivered goes off-site, documents download with the
child token only until they expire, and lifecycle actions are validated and journaled."""

from __future__ import annotations

import asyncio
import base64
import copy
import hashlib
import hmac
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from linkedin import LinkedInClient
from linkedin_sandbox import SandboxSettings
from tests.conftest import PARTNER, Customer, provision
from tests.jobs_support import valid_job
from tests.sandbox_control import SandboxControl, SandboxServer, ServerThread
from tests.test_apply_questions import full_configuration
from tests.test_sandbox import enable, run

SANDBOX_DEFAULTS = {"mediaTtlSeconds": 30 * 24 * 3600, "webhookRetrySeconds": 1.0}
"""What these tests change of the session's sandbox settings, put back after each."""


def configured(url: str = "https://ats.example.com/linkedin/customers/cust-1/applications") -> Any:
    return {**full_configuration(), "jobApplicationWebhookUrl": url}


async def token(linkedin: LinkedInClient, customer: Customer) -> dict[str, str]:
    value = await linkedin.access_token(customer.creds)
    return {"Authorization": f"Bearer {value.get_secret_value()}"}


async def test_the_questions_are_kept_and_apply_is_enabled_unless_an_id_repeats(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer
) -> None:
    await enable(linkedin, sandbox, customer)
    status = await run(linkedin, customer, valid_job("on", onsite_apply_configuration=configured()))
    assert status.linked_in_apply_status == "ENABLED"
    state = (await sandbox.http.get("/sandbox/state")).json()
    kept = next(j for j in state["jobs"] if j["external_id"] == "on")
    assert kept["onsiteApplyConfiguration"] == configured()

    # a duplicate id slips past no rule of LinkedIn's submission: the job is posted off-site
    duplicated = configured()
    sets = duplicated["questions"]["additionalQuestions"]["customQuestionSets"]
    sets[0]["questions"][2]["partnerQuestionIdentifier"] = "pronouns"
    headers = {**(await token(linkedin, customer)), "x-restli-method": "batch_create"}
    job = valid_job("dup").to_wire() | {"onsiteApplyConfiguration": duplicated}
    answer = await sandbox.http.post(
        "/v2/simpleJobPostings", json={"elements": [job]}, headers=headers
    )
    assert answer.json()["elements"][0]["status"] == 202
    statuses = await linkedin.get_job_statuses(customer.creds, ["dup"])
    off = statuses.results["dup"]
    assert off.linked_in_apply_status == "NOT_ENABLED"
    assert off.linked_in_apply_status_detail is not None
    assert "Duplicate partnerQuestionIdentifier" in str(
        off.linked_in_apply_status_detail.status_message
    )

    # the webhook URL is LinkedIn's one required field of the configuration
    missing = valid_job("nourl").to_wire() | {"onsiteApplyConfiguration": full_configuration()}
    refused = await sandbox.http.post(
        "/v2/simpleJobPostings", json={"elements": [missing]}, headers=headers
    )
    assert refused.json()["elements"][0]["status"] == 422
    assert "jobApplicationWebhookUrl" in refused.json()["elements"][0]["error"]["message"]


class Receiver:
    """A partner's intake: answers the child challenge, records signed POSTs, or fails."""

    def __init__(self, secret: str, failing: bool = False) -> None:
        self.secret = secret
        self.failing = failing
        self.received: list[tuple[bytes, str]] = []
        self.app = FastAPI()

        @self.app.get("/intake")
        async def challenge(challengeCode: str, applicationId: str | None = None) -> JSONResponse:
            mac = hmac.new(self.secret.encode(), challengeCode.encode(), hashlib.sha256)
            return JSONResponse(
                {"challengeCode": challengeCode, "challengeResponse": mac.hexdigest()}
            )

        @self.app.post("/intake")
        async def intake(request: Request) -> JSONResponse:
            self.received.append((await request.body(), request.headers["x-li-signature"]))
            return JSONResponse({}, status_code=500 if self.failing else 200)

        @self.app.get("/docs-health")
        async def health() -> dict[str, str]:
            return {"ok": "yes"}


async def eventually(check: Any, seconds: float = 10) -> Any:
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        value = await check()
        if value:
            return value
        assert asyncio.get_running_loop().time() < deadline, "not in time"
        await asyncio.sleep(0.05)


def apply_body(**more: Any) -> dict[str, Any]:
    return {
        "customerId": "cust-1",
        "candidate": {"firstName": "Grace", "lastName": "Hopper", "email": "grace@example.com"},
        "answers": {
            "pronouns": "she/her",
            "team-size": 12,
            "authorized": "YES",
            "years": 7.5,
            "when": {"start": "2020-01"},
            "portfolio": base64.b64encode(b"%PDF portfolio").decode(),
            "languages": ["EN", "FR"],
        },
        "resume": base64.b64encode(b"%PDF-1.7 resume").decode(),
        **more,
    }


async def test_a_candidate_applies_and_linkedin_delivers_signed_with_the_child_secret(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer
) -> None:
    secret = customer.creds.client_secret.get_secret_value()
    receiver = Receiver(secret)
    server = ServerThread(receiver.app, health="/docs-health").start()
    try:
        await sandbox.settings(mediaTtlSeconds=1.5)
        await enable(linkedin, sandbox, customer)
        await run(
            linkedin,
            customer,
            valid_job("j1", onsite_apply_configuration=configured(f"{server.url}/intake")),
        )
        bad = apply_body()
        bad["answers"] = {**bad["answers"], "authorized": "PERHAPS"}
        refused = await sandbox.http.post("/sandbox/jobs/j1/apply", json=bad)
        assert refused.status_code == 422 and "authorized" in refused.text
        missing = copy.deepcopy(apply_body())
        del missing["resume"]
        assert (await sandbox.http.post("/sandbox/jobs/j1/apply", json=missing)).status_code == 422

        applied = await sandbox.http.post("/sandbox/jobs/j1/apply", json=apply_body())
        assert applied.status_code == 202
        application_id = applied.json()["jobApplicationId"]
        assert application_id.startswith("urn:li:jobApplication:")
        await eventually(lambda: asyncio.sleep(0, bool(receiver.received)))
        raw, signed = receiver.received[0]
        assert signed == hmac.new(secret.encode(), b"hmacsha256=" + raw, hashlib.sha256).hexdigest()
        payload = applied.json()["payload"]
        url = payload["questionResponses"]["resumeQuestionResponses"]["resumeQuestionAnswer"][
            "mediaUrl"
        ]

        # the resume downloads with the child token, not the partner's, until it expires
        assert (await sandbox.http.get(url, headers=await token(linkedin, customer))).content == (
            b"%PDF-1.7 resume"
        )
        partner = await linkedin.access_token(linkedin._partner)
        denied = await sandbox.http.get(
            url, headers={"Authorization": f"Bearer {partner.get_secret_value()}"}
        )
        assert denied.status_code == 403
        await asyncio.sleep(1.6)  # the media lives mediaTtlSeconds (LinkedIn: 30 days)
        expired = await sandbox.http.get(url, headers=await token(linkedin, customer))
        assert expired.status_code == 404
    finally:
        server.stop()
        await sandbox.settings(**SANDBOX_DEFAULTS)


async def test_lifecycle_actions_are_validated_and_journaled(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer
) -> None:
    receiver = Receiver(customer.creds.client_secret.get_secret_value())
    server = ServerThread(receiver.app, health="/docs-health").start()
    try:
        await enable(linkedin, sandbox, customer)
        await run(
            linkedin,
            customer,
            valid_job("j2", onsite_apply_configuration=configured(f"{server.url}/intake")),
        )
        applied = await sandbox.http.post("/sandbox/jobs/j2/apply", json=apply_body())
        application_id = applied.json()["jobApplicationId"]
        headers = {**(await token(linkedin, customer)), "x-restli-method": "create"}
        path = "/v2/jobApplicationLifecycleActions"
        body = {
            "jobApplicationId": application_id,
            "action": "APPLICATION_VIEWED",
            "performedAt": 1,
        }
        assert (await sandbox.http.post(path, json=body, headers=headers)).status_code == 201
        unknown = await sandbox.http.post(path, json={**body, "action": "HIRED"}, headers=headers)
        assert unknown.status_code == 422
        never = await sandbox.http.post(
            path, json={**body, "jobApplicationId": "urn:li:jobApplication:1"}, headers=headers
        )
        assert never.status_code == 404
        journal = (await sandbox.http.get("/sandbox/lifecycle-actions")).json()
        assert [(a["jobApplicationId"], a["action"]) for a in journal] == [
            (application_id, "APPLICATION_VIEWED")
        ]
    finally:
        server.stop()
        await sandbox.settings(**SANDBOX_DEFAULTS)


async def test_a_job_whose_first_application_cannot_be_delivered_turns_off_site(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer
) -> None:
    receiver = Receiver(customer.creds.client_secret.get_secret_value(), failing=True)
    server = ServerThread(receiver.app, health="/docs-health").start()
    try:
        await sandbox.settings(webhookRetrySeconds=0.01)
        await enable(linkedin, sandbox, customer)
        await run(
            linkedin,
            customer,
            valid_job("j3", onsite_apply_configuration=configured(f"{server.url}/intake")),
        )
        applied = await sandbox.http.post("/sandbox/jobs/j3/apply", json=apply_body())
        assert applied.status_code == 202

        async def failed() -> bool:
            listed = (await sandbox.http.get("/sandbox/applications")).json()
            return bool(listed) and listed[0]["delivery"] == "FAILED"

        await eventually(failed)
        assert len(receiver.received) == 7  # the first POST and six retries
        status = (await linkedin.get_job_statuses(customer.creds, ["j3"])).results["j3"]
        assert status.linked_in_apply_status == "NOT_ENABLED"
        again = await sandbox.http.post("/sandbox/jobs/j3/apply", json=apply_body())
        assert again.status_code == 409
    finally:
        server.stop()
        await sandbox.settings(**SANDBOX_DEFAULTS)


async def test_a_delivery_a_restart_interrupted_is_resumed_and_documents_list_their_digest(
    tmp_path: Path,
) -> None:
    """LinkedIn keeps an application it accepted: a delivery cut short by a restart (a
    SIGKILL in `make chaos`) starts again when the sandbox is back."""
    settings = SandboxSettings(
        task_delay_seconds=0,
        state_path=str(tmp_path / "state.sqlite"),
        webhook_retry_seconds=3600,  # the next attempt would come only after the restart
    )
    server = SandboxServer(settings).start()
    async with LinkedInClient(api_url=server.url, oauth_url=server.url, partner=PARTNER) as c:
        customer = await provision(c, "cust-1")
        receiver = Receiver(customer.creds.client_secret.get_secret_value(), failing=True)
        intake = ServerThread(receiver.app, health="/docs-health").start()
        try:
            job = valid_job("j9", onsite_apply_configuration=configured(f"{intake.url}/intake"))
            (submission,) = await c.submit_jobs(customer.creds, [job])
            assert submission.error is None
            async with httpx.AsyncClient(base_url=server.url) as http:
                applied = await http.post("/sandbox/jobs/j9/apply", json=apply_body())
            assert applied.status_code == 202
            await eventually(lambda: asyncio.sleep(0, bool(receiver.received)))
            server.stop()
            receiver.failing = False
            again = SandboxServer(settings, port=server.port).start()
            try:
                await eventually(lambda: asyncio.sleep(0, len(receiver.received) == 2))
                async with httpx.AsyncClient(base_url=again.url) as http:
                    listed = (await http.get("/sandbox/applications")).json()
            finally:
                again.stop()
        finally:
            intake.stop()
    assert [a["delivery"] for a in listed] == ["DELIVERED"]
    assert listed[0]["documents"] == {"resume": hashlib.sha256(b"%PDF-1.7 resume").hexdigest()}
