"""Apply Connect end to end, through our HTTP API on a dev server with the sandbox as LinkedIn:
a job with questions posts with our intake URL, a candidate applies, the application is
durable before the 200 (a redelivery a no-op), its documents land encrypted in the store,
the ATS hears `application.received` with its own question ids, reads and downloads, sends
lifecycle actions (one LinkedIn call per occurrence, 5xx retried) and erases it."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from temporalio.testing import WorkflowEnvironment

from cli.up import free_port
from cli.webhooks import receiver
from domain.applications import (
    APPLICATION_WORKFLOW_TYPE,
    ERASE,
    ApplicationView,
    application_workflow_id,
)
from domain.linkedin_events import SignatureForm, challenge_response, sign
from settings import Settings
from tests.cli_support import run_cli
from tests.sandbox_control import SandboxControl, ServerThread
from tests.temporal_support import (
    CONVERTER,
    TEST_KEYS_TEXT,
    eventually,
    intake_settled,
    record_history,
)
from tests.test_api import enabled_customer, job_body
from tests.test_apply_connect_sandbox import apply_body
from tests.test_apply_questions import full_configuration
from tests.test_job_status_checks import cli_env
from tests.test_linkedin_inbound import PARTNER_SECRET, app_of
from tests.test_webhooks import Inbox
from workers.replay import replay

pytestmark = pytest.mark.usefixtures("worker")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The test's settings with the API's public URL known before it starts (the job's
    jobApplicationWebhookUrl) and payload keys for the document store."""
    port = free_port()
    return settings.model_copy(
        update={
            "public_url": f"http://127.0.0.1:{port}",
            "api_port": port,
            "payload_keys": SecretStr(TEST_KEYS_TEXT),
        }
    )


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, str]]:
    received = Inbox()
    server = ServerThread(receiver(lambda: received.secret, received), health="/healthz").start()
    yield received, server.url + "/"
    server.stop()


def apply_job(**more: Any) -> dict[str, Any]:
    return job_body(onsiteApplyConfiguration=full_configuration(), **more)


async def applications_started(temporal_env: WorkflowEnvironment, cid: str) -> int:
    query = f'WorkflowType = "{APPLICATION_WORKFLOW_TYPE}" AND CustomerId = "{cid}"'
    return (await temporal_env.client.count_workflows(query)).count


async def test_a_job_with_questions_posts_with_our_intake_url_and_refuses_what_linkedin_would(
    api: httpx.AsyncClient, api_url: str, sandbox: SandboxControl, cid: str
) -> None:
    await enabled_customer(api, api_url, sandbox, cid)
    path = f"/v1/customers/{cid}/jobs/req-1"
    theirs = apply_job()
    theirs["onsiteApplyConfiguration"]["jobApplicationWebhookUrl"] = "https://elsewhere.example"
    refused = await api.put(path, json=theirs)
    assert refused.status_code == 422 and "jobApplicationWebhookUrl" in refused.text
    duplicated = apply_job()
    questions = duplicated["onsiteApplyConfiguration"]["questions"]
    questions["additionalQuestions"]["customQuestionSets"][0]["questions"][1][
        "partnerQuestionIdentifier"
    ] = "pronouns"
    twice = await api.put(path, json=duplicated)
    assert twice.status_code == 422
    assert "partnerQuestionIdentifier" in twice.text and "off-site" in twice.text

    done = await api.put(path, params={"wait": "true"}, json=apply_job())
    assert done.status_code == 200, done.text
    state = (await sandbox.http.get("/sandbox/state")).json()
    kept = next(j for j in state["jobs"] if j["external_id"] == "req-1")
    assert kept["onsiteApplyConfiguration"]["jobApplicationWebhookUrl"] == (
        f"{api_url}/linkedin/customers/{cid}/applications"
    )
    assert (await api.get(path)).json()["status"] == "LISTED"


async def test_an_application_is_durable_before_the_200_and_a_retry_is_a_no_op(
    api: httpx.AsyncClient,
    api_url: str,
    sandbox: SandboxControl,
    settings: Settings,
    temporal_env: WorkflowEnvironment,
    cid: str,
) -> None:
    await enabled_customer(api, api_url, sandbox, cid)
    urn, child = await app_of(settings, cid)
    door = f"/linkedin/customers/{cid}/applications"
    async with httpx.AsyncClient(base_url=api_url) as linkedin:
        answer = await linkedin.get(
            door, params={"challengeCode": "c-9", "applicationId": urn.rsplit(":", 1)[-1]}
        )
        assert answer.json()["challengeResponse"] == challenge_response("c-9", child)
        body = json.dumps({"jobApplicationId": "urn:li:jobApplication:42"}).encode()
        unsigned = await linkedin.post(door, content=body)
        assert unsigned.status_code == 401
        forged = await linkedin.post(
            door,
            content=body,
            headers=signed(body, "nope", SignatureForm.HMAC_OF_PREFIXED_BODY),
        )
        assert forged.status_code == 401
        assert await applications_started(temporal_env, cid) == 0

        first = await linkedin.post(
            door,
            content=body,
            headers=signed(body, child, SignatureForm.HMAC_OF_PREFIXED_BODY),
        )
        assert first.status_code == 200
        assert first.json() == {
            "jobApplicationId": "urn:li:jobApplication:42",
            "applicationId": "42",
        }
        again = await linkedin.post(
            door,
            content=body,
            headers=signed(body, child, SignatureForm.PREFIXED_HMAC_OF_BODY),
        )
        assert again.status_code == 200 and again.json() == first.json()
        # the parent's signature is taken as well (§2 leaves it open)
        other = json.dumps({"jobApplicationId": "urn:li:jobApplication:43"}).encode()
        parent = await linkedin.post(
            door,
            content=other,
            headers={
                "X-LI-Signature": sign(other, PARTNER_SECRET, SignatureForm.HMAC_OF_PREFIXED_BODY)
            },
        )
        assert parent.status_code == 200
    await intake_settled(temporal_env.client)
    assert await applications_started(temporal_env, cid) == 2  # the redelivery started none


def signed(body: bytes, secret: str, form: SignatureForm) -> dict[str, str]:
    return {"X-LI-Signature": sign(body, secret, form)}


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


async def test_a_candidate_applies_the_ats_hears_reads_downloads_acts_and_erases(
    api: httpx.AsyncClient,
    api_url: str,
    sandbox: SandboxControl,
    settings: Settings,
    inbox: tuple[Inbox, str],
    temporal_env: WorkflowEnvironment,
    cid: str,
) -> None:
    received, url = inbox
    endpoint = await api.post("/v1/webhooks", json={"url": url, "customerId": cid})
    received.secret = endpoint.json()["secret"]
    await enabled_customer(api, api_url, sandbox, cid)
    path = f"/v1/customers/{cid}/jobs/req-2"
    assert (await api.put(path, params={"wait": "true"}, json=apply_job())).status_code == 200

    applied = await sandbox.http.post(
        "/sandbox/jobs/req-2/apply",
        json=apply_body(
            customerId=cid,
            coverLetter=base64.b64encode(b"Dear hiring team").decode(),
        ),
    )
    assert applied.status_code == 202, applied.text
    key = applied.json()["jobApplicationId"].rsplit(":", 1)[-1]

    def heard(kind: str) -> list[dict[str, Any]]:
        return [e for e, valid in received.events if valid and e["type"] == kind]

    await eventually(lambda: _noop(), lambda _: bool(heard("application.received")), within=30)
    event = heard("application.received")[0]["data"]
    assert event["externalJobPostingId"] == "req-2"
    assert event["contact"]["email"] == "grace@example.com"
    assert event["answers"]["authorized"] == ["YES"]
    assert event["answers"]["team-size"] == 12 and event["answers"]["pronouns"] == "she/her"
    assert len(event["skills"]) == 3
    documents = {d["kind"]: d for d in event["documents"]}
    assert set(documents) == {"resume", "coverLetter"}

    resume = await api.get(documents["resume"]["url"])
    assert resume.status_code == 200 and resume.content == b"%PDF-1.7 resume"
    # at rest, every file is sealed: no document's bytes are readable there
    files = stored_files(settings.documents_path)
    assert len(files) == 2
    assert all(b"PDF-1.7" not in f.read_bytes() and b"Dear" not in f.read_bytes() for f in files)

    listed = await api.get(f"/v1/customers/{cid}/applications", params={"pageSize": 10})
    assert [a["applicationId"] for a in listed.json()["items"]] == [key]
    one = (await api.get(f"/v1/customers/{cid}/applications/{key}")).json()
    assert one["status"] == "READY" and one["application"]["contact"]["lastName"] == "Hopper"

    # lifecycle actions: one LinkedIn call per occurrence, a repeated key is the same one
    actions = f"/v1/customers/{cid}/applications/{key}/actions"
    await sandbox.http.put(
        "/sandbox/faults/jobApplicationLifecycleActions", json={"failNext": 2, "status": 503}
    )
    viewed = {"action": "APPLICATION_VIEWED", "performedAt": "2026-12-02T10:00:00Z"}
    first = await api.post(actions, json=viewed, headers={"Idempotency-Key": "view-1"})
    assert first.status_code == 202 and first.json()["status"] == "PENDING"
    again = await api.post(actions, json=viewed, headers={"Idempotency-Key": "view-1"})
    assert again.json()["id"] == first.json()["id"] == "view-1"
    rejected = {"action": "APPLICATION_REJECTED", "performedAt": "2026-12-02T11:00:00Z"}
    assert (await api.post(actions, json=rejected)).status_code == 202
    unknown = await api.post(actions, json={**viewed, "action": "APPLICATION_HIRED"})
    assert unknown.status_code == 422
    never = await api.post(f"/v1/customers/{cid}/applications/999/actions", json=viewed)
    assert never.status_code == 404

    journal = await eventually(
        lambda: sandbox.http.get("/sandbox/lifecycle-actions"),
        lambda r: len([a for a in r.json() if a["jobApplicationId"].endswith(f":{key}")]) == 2,
        within=30,
    )
    mine = [a for a in journal.json() if a["jobApplicationId"].endswith(f":{key}")]
    assert [a["action"] for a in mine] == ["APPLICATION_VIEWED", "APPLICATION_REJECTED"]
    assert mine[0]["performedAt"] == 1_796_205_600_000
    await eventually(
        lambda: _noop(), lambda _: len(heard("application.action_sent")) == 2, within=30
    )
    await sandbox.http.delete("/sandbox/faults")

    # the run so far replays with today's code, and is kept for later code to replay
    await replays(temporal_env, cid, key, "application_documents_and_two_actions")

    # erasure: documents and personal data gone, the application no longer known
    erased = await api.delete(f"/v1/customers/{cid}/applications/{key}")
    assert erased.status_code == 204
    assert stored_files(settings.documents_path) == []
    assert (await api.get(documents["resume"]["url"])).status_code == 404
    one = (await api.get(f"/v1/customers/{cid}/applications/{key}")).json()
    assert one["status"] == "ERASED" and one["application"] is None and one["documents"] == []
    assert "grace" not in json.dumps(one).lower()  # its history's deletion is asked for too
    # and the intake that carried the body to it (its input held the application too)
    intakes = f'WorkflowType = "LinkedInIntakeWorkflow" AND CustomerId = "{cid}"'
    await eventually(
        lambda: temporal_env.client.count_workflows(intakes), lambda c: c.count == 0, within=90
    )


async def _noop() -> None:
    return None


async def test_the_cli_lists_shows_and_sends_an_action(
    api: httpx.AsyncClient,
    api_url: str,
    sandbox: SandboxControl,
    settings: Settings,
    temporal_env: WorkflowEnvironment,
    cid: str,
) -> None:
    await enabled_customer(api, api_url, sandbox, cid)
    path = f"/v1/customers/{cid}/jobs/req-3"
    assert (await api.put(path, params={"wait": "true"}, json=apply_job())).status_code == 200
    # LinkedIn's media store fails twice: the download is retried, the resume arrives
    await sandbox.http.put("/sandbox/faults/ambry", json={"failNext": 2, "status": 503})
    applied = await sandbox.http.post("/sandbox/jobs/req-3/apply", json=apply_body(customerId=cid))
    key = applied.json()["jobApplicationId"].rsplit(":", 1)[-1]
    one = f"/v1/customers/{cid}/applications/{key}"
    ready = await eventually(
        lambda: api.get(one), lambda r: r.status_code == 200 and r.json()["status"] == "READY"
    )
    assert [d["kind"] for d in ready.json()["documents"]] == ["resume"]
    assert ready.json()["documentErrors"] == []
    downloads = (await sandbox.http.get("/sandbox/requests", params={"path": "/ambry"})).json()
    assert [d["status"] for d in downloads][-3:] == [503, 503, 200]
    await sandbox.http.delete("/sandbox/faults")
    env = {**cli_env(temporal_env), "LINKEDIN_ATS_TASK_QUEUE": settings.task_queue}

    listed = await asyncio.to_thread(run_cli, "applications", "list", cid, env=env)
    assert listed.returncode == 0, listed.stderr
    assert key in listed.stdout and "req-3" in listed.stdout and "grace" not in listed.stdout
    shown = await asyncio.to_thread(run_cli, "applications", "show", cid, key, env=env)
    assert shown.returncode == 0 and "grace@example.com" in shown.stdout
    for _ in range(2):  # the same key twice: one LinkedIn call
        sent = await asyncio.to_thread(
            run_cli,
            "applications",
            "action",
            cid,
            key,
            "RESUME_DOWNLOADED",
            "--key",
            "dl-1",
            env=env,
        )
        assert sent.returncode == 0 and "RESUME_DOWNLOADED" in sent.stdout, sent.stderr
    journal = await eventually(
        lambda: sandbox.http.get("/sandbox/lifecycle-actions"),
        lambda r: any(a["jobApplicationId"].endswith(f":{key}") for a in r.json()),
    )
    assert [a["action"] for a in journal.json() if a["jobApplicationId"].endswith(f":{key}")] == [
        "RESUME_DOWNLOADED"
    ]
    assert len((await api.get(one)).json()["actions"]) == 1

    # the whole life, to erasure, replays with today's code
    handle = temporal_env.client.get_workflow_handle(application_workflow_id(cid, key))
    await handle.execute_update(ERASE, result_type=ApplicationView)
    await handle.result()
    await replays(temporal_env, cid, key, "application_erased")


async def replays(temporal_env: WorkflowEnvironment, cid: str, key: str, name: str) -> None:
    handle = temporal_env.client.get_workflow_handle(application_workflow_id(cid, key))
    history = await handle.fetch_history()
    tally = await replay([history], CONVERTER)
    assert tally.failed == {} and tally.total == 1
    await record_history(handle, name)


async def test_linkedin_turning_a_job_off_site_raises_needs_attention(
    api: httpx.AsyncClient,
    api_url: str,
    sandbox: SandboxControl,
    inbox: tuple[Inbox, str],
    temporal_env: WorkflowEnvironment,
    cid: str,
) -> None:
    received, url = inbox
    endpoint = await api.post("/v1/webhooks", json={"url": url, "customerId": cid})
    received.secret = endpoint.json()["secret"]
    await enabled_customer(api, api_url, sandbox, cid)
    assert (await sandbox.register_webhook(f"{api_url}/linkedin/webhook")).status_code < 300
    path = f"/v1/customers/{cid}/jobs/req-4"
    assert (await api.put(path, params={"wait": "true"}, json=apply_job())).status_code == 200
    await sandbox.settings(webhookRetrySeconds=0.01)
    try:
        # every delivery of the job's first application fails (our door refuses a bad signature)
        await sandbox.http.put("/sandbox/applications/faults", json={"wrongSecretNext": 7})
        applied = await sandbox.http.post(
            "/sandbox/jobs/req-4/apply", json=apply_body(customerId=cid)
        )
        assert applied.status_code == 202
        await eventually(
            lambda: sandbox.http.get("/sandbox/applications", params={"customer_id": cid}),
            lambda r: r.json()[0]["delivery"] == "FAILED",
        )
    finally:
        await sandbox.settings(webhookRetrySeconds=1.0)
        await sandbox.http.put("/sandbox/applications/faults", json={"wrongSecretNext": 0})

    def attention() -> list[dict[str, Any]]:
        return [e for e, ok in received.events if ok and e["type"] == "job.needs_attention"]

    await eventually(lambda: _noop(), lambda _: bool(attention()), within=30)
    data = attention()[0]["data"]
    assert data["externalJobPostingId"] == "req-4" and "off-site apply" in data["reason"]
    assert "first application" in data["statusMessage"]
    assert (await api.get(path)).json()["linkedInApplyStatus"] == "NOT_ENABLED"
    assert await applications_started(temporal_env, cid) == 0
    refused = await sandbox.http.post("/sandbox/jobs/req-4/apply", json=apply_body(customerId=cid))
    assert refused.status_code == 409


async def test_a_burst_of_applications_is_taken_at_once_and_each_redelivery_is_a_no_op(
    api: httpx.AsyncClient,
    api_url: str,
    sandbox: SandboxControl,
    settings: Settings,
    temporal_env: WorkflowEnvironment,
    cid: str,
) -> None:
    """100 applications at once (LinkedIn's burst after a job goes live), then all of them
    again (its retries): every one durable once (its latency: `make bench`)."""
    await enabled_customer(api, api_url, sandbox, cid)
    _, child = await app_of(settings, cid)
    door = f"/linkedin/customers/{cid}/applications"
    bodies = [
        json.dumps({"jobApplicationId": f"urn:li:jobApplication:{9000 + n}"}).encode()
        for n in range(100)
    ]
    limits = httpx.Limits(max_connections=100)
    async with httpx.AsyncClient(base_url=api_url, limits=limits, timeout=30) as linkedin:

        async def post(body: bytes) -> httpx.Response:
            headers = signed(body, child, SignatureForm.HMAC_OF_PREFIXED_BODY)
            for attempt in range(3):  # LinkedIn resends what got no answer
                try:
                    answer = await linkedin.post(door, content=body, headers=headers)
                    break
                except httpx.TransportError:
                    if attempt == 2:
                        raise
            return answer

        first = await asyncio.gather(*(post(b) for b in bodies))
        again = await asyncio.gather(*(post(b) for b in bodies))
    assert all(a.status_code == 200 for a in first + again)
    await intake_settled(temporal_env.client)
    assert await applications_started(temporal_env, cid) == 100
