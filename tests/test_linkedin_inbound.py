"""LinkedIn talks back, through our HTTP API on a dev server: the webhook challenge, signed
events only, durable before the 200, a redelivery a no-op, and what each event does."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from client.linkedin_events import LinkedInEventsClient
from domain.linkedin_events import (
    ASKED_AGAIN,
    LINKEDIN_EVENT_WORKFLOW_TYPE,
    MAX_EVENT_BYTES,
    AskedAgain,
    SignatureForm,
    challenge_response,
    sign,
)
from settings import Settings
from tests.cli_support import run_cli
from tests.sandbox_control import SandboxControl
from tests.temporal_support import eventually, intake_settled, record_history
from tests.test_api import CONTRACT, enabled_customer, job_body
from tests.test_job_status_checks import cli_env
from workers.worker import credential_store

pytestmark = pytest.mark.usefixtures("worker")

PARTNER_SECRET = "sandbox-partner-secret"


async def post_event(
    api_url: str,
    body: dict[str, Any],
    secret: str = PARTNER_SECRET,
    path: str = "/linkedin/webhook",
    form: SignatureForm = SignatureForm.HMAC_OF_PREFIXED_BODY,
) -> httpx.Response:
    raw = json.dumps(body).encode()
    async with httpx.AsyncClient(base_url=api_url) as linkedin:  # LinkedIn has no token of ours
        return await linkedin.post(
            path, content=raw, headers={"X-LI-Signature": sign(raw, secret, form)}
        )


async def app_of(settings: Settings, cid: str) -> tuple[str, str]:
    stored = await credential_store(settings).get(cid)
    assert stored is not None
    return stored.application_key, stored.credentials.client_secret.get_secret_value()


async def event_count(temporal_env: WorkflowEnvironment) -> int:
    query = f'WorkflowType = "{LINKEDIN_EVENT_WORKFLOW_TYPE}"'
    return (await temporal_env.client.count_workflows(query)).count


async def test_the_challenge_is_answered_with_the_parent_or_the_named_apps_secret(
    api: httpx.AsyncClient, api_url: str, sandbox: SandboxControl, settings: Settings, cid: str
) -> None:
    async with httpx.AsyncClient(base_url=api_url) as linkedin:
        answer = await linkedin.get("/linkedin/webhook", params={"challengeCode": "c-1"})
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "application/json"
        assert answer.json() == {
            "challengeCode": "c-1",
            "challengeResponse": challenge_response("c-1", PARTNER_SECRET),
        }
        await enabled_customer(api, api_url, sandbox, cid)
        urn, secret = await app_of(settings, cid)
        for application in (urn, urn.rsplit(":", 1)[-1]):
            child = await linkedin.get(
                f"/linkedin/customers/{cid}/events",
                params={"challengeCode": "c-2", "applicationId": application},
            )
            assert child.json()["challengeResponse"] == challenge_response("c-2", secret)
        unknown = await linkedin.get(
            "/linkedin/webhook", params={"challengeCode": "c", "applicationId": "999999"}
        )
        assert unknown.status_code == 404 and "applicationId" in unknown.json()["detail"]


async def test_unsigned_forged_and_oversized_posts_are_refused_and_start_nothing(
    api_url: str, temporal_env: WorkflowEnvironment
) -> None:
    before = await event_count(temporal_env)
    body = {"type": "RESYNC_JOBS", "developerApplicationUrn": "urn:li:developerApplication:1"}
    async with httpx.AsyncClient(base_url=api_url) as anyone:
        unsigned = await anyone.post("/linkedin/webhook", json=body)
        assert unsigned.status_code == 401 and "X-LI-Signature" in unsigned.json()["detail"]
    forged = await post_event(api_url, body, secret="not-linkedins")
    assert forged.status_code == 401
    big = {"type": "RESYNC_JOBS", "padding": "x" * MAX_EVENT_BYTES}
    oversized = await post_event(api_url, big)
    assert oversized.status_code == 413
    assert await event_count(temporal_env) == before


async def test_linkedin_taking_a_job_down_reaches_the_job_and_a_redelivery_is_a_no_op(
    api: httpx.AsyncClient,
    api_url: str,
    sandbox: SandboxControl,
    settings: Settings,
    cid: str,
    temporal_env: WorkflowEnvironment,
) -> None:
    await enabled_customer(api, api_url, sandbox, cid)
    path = f"/v1/customers/{cid}/jobs/req-7"
    await api.put(path, params={"wait": "true"}, json=job_body())
    assert (await api.get(path)).json()["status"] == "LISTED"
    urn, child_secret = await app_of(settings, cid)

    # LinkedIn closes the job on its side (members reported it) and tells us.
    await sandbox.change_at_linkedin(
        cid, "req-7", listingStatus="NOT_LISTED", reason="Closed after member reports"
    )
    event = {
        "type": "JOB_POSTING_STATUS",
        "externalJobPostingId": "req-7",
        "developerApplicationUrn": urn,
        "listingStatus": "NOT_LISTED",
    }
    first = await post_event(api_url, event)
    assert first.status_code == 200
    again = await post_event(api_url, event)
    assert again.status_code == 200 and again.json() == first.json()
    # the child app's signature, in LinkedIn's other reading, is accepted as well
    other = await post_event(
        api_url, {**event, "n": 1}, secret=child_secret, form=SignatureForm.PREFIXED_HMAC_OF_BODY
    )
    assert other.status_code == 200

    job = await eventually(
        lambda: api.get(path), lambda r: r.json()["status"] == "UNLISTED_BY_LINKEDIN"
    )
    assert job.json()["listingStatus"] == "NOT_LISTED" and job.json()["statusReadAt"]
    routed = await eventually(
        lambda: api.get("/v1/linkedin-events", params={"outcome": "ROUTED"}),
        lambda r: first.json()["eventId"] in {e["eventId"] for e in r.json()},
    )
    assert {e["customerId"] for e in routed.json()} >= {cid}


async def test_events_for_jobs_and_apps_we_do_not_hold_are_kept_and_listed(
    api: httpx.AsyncClient,
    api_url: str,
    sandbox: SandboxControl,
    settings: Settings,
    cid: str,
    temporal_env: WorkflowEnvironment,
) -> None:
    await enabled_customer(api, api_url, sandbox, cid)
    urn, _ = await app_of(settings, cid)
    unknown_job = await post_event(
        api_url,
        {
            "type": "JOB_POSTING_STATUS",
            "externalJobPostingId": "nope",
            "developerApplicationUrn": urn,
        },
    )
    unknown_app = await post_event(
        api_url,
        {
            "type": "JOB_POSTING_STATUS",
            "externalJobPostingId": "x",
            "developerApplicationUrn": "urn:li:developerApplication:424242",
        },
    )
    ids = {unknown_job.json()["eventId"], unknown_app.json()["eventId"]}
    await eventually(
        lambda: api.get("/v1/linkedin-events", params={"outcome": "UNMATCHED"}),
        lambda r: ids <= {e["eventId"] for e in r.json()},
    )
    listed = await asyncio.to_thread(
        run_cli, "linkedin-events", "--outcome", "UNMATCHED", env=cli_env(temporal_env)
    )
    assert listed.returncode == 0, listed.stderr
    assert all(event_id[:20] in listed.stdout for event_id in ids)


async def test_an_integration_status_push_makes_the_customers_integration_verify_at_once(
    api: httpx.AsyncClient,
    api_url: str,
    sandbox: SandboxControl,
    settings: Settings,
    cid: str,
    temporal_env: WorkflowEnvironment,
) -> None:
    """The customer re-saves the widget with another poster and no callback reaches us:
    LinkedIn's push, not the verify a day later, brings the drift to light."""
    await enabled_customer(api, api_url, sandbox, cid)
    await sandbox.widget_save(
        customerId=cid, integrationContext=CONTRACT, jobPosterEmail="other@globex.com"
    )
    _, child_secret = await app_of(settings, cid)
    pushed = await post_event(
        api_url,
        {"type": "INTEGRATION_STATUS_CHANGE", "requestId": "r-1"},
        secret=child_secret,
        path=f"/linkedin/customers/{cid}/events",
    )
    assert pushed.status_code == 200, pushed.text

    def drifted_and_enabled_again(r: httpx.Response) -> bool:
        context = r.json()[0]["contexts"][CONTRACT]
        reasons = [t["reason"] for t in context["transitions"]]
        return context["status"] == "ENABLED" and any(x.startswith("drift") for x in reasons)

    await eventually(
        lambda: api.get(f"/v1/customers/{cid}/integrations"), drifted_and_enabled_again
    )
    routed = await eventually(
        lambda: api.get("/v1/linkedin-events", params={"outcome": "ROUTED"}),
        lambda r: pushed.json()["eventId"] in {e["eventId"] for e in r.json()},
    )
    assert {e["customerId"] for e in routed.json()} >= {cid}

    # followed up (§5: atsIntegrations?q=request): r-1 is no request LinkedIn knows
    answers = await eventually(lambda: follow_ups(temporal_env, cid), lambda found: bool(found))
    assert answers[pushed.json()["eventId"]].startswith("not read: "), answers

    shared = await post_event(api_url, {"type": "INTEGRATION_STATUS_CHANGE", "requestId": "r-2"})
    await eventually(
        lambda: api.get("/v1/linkedin-events", params={"outcome": "KEPT"}),
        lambda r: shared.json()["eventId"] in {e["eventId"] for e in r.json()},
    )


async def test_a_resync_resends_each_named_open_job_once_and_reports_the_rest(
    api: httpx.AsyncClient,
    api_url: str,
    sandbox: SandboxControl,
    settings: Settings,
    cid: str,
    temporal_env: WorkflowEnvironment,
) -> None:
    await enabled_customer(api, api_url, sandbox, cid)
    for job in ("open-1", "open-2", "gone"):
        await api.put(f"/v1/customers/{cid}/jobs/{job}", params={"wait": "true"}, json=job_body())
    await api.post(f"/v1/customers/{cid}/jobs/gone/close", params={"wait": "true"})
    urn, _ = await app_of(settings, cid)
    await sandbox.clear_requests()
    resync = {
        "type": "RESYNC_JOBS",
        "developerApplicationUrn": urn,
        "syncAllOpenJobs": False,
        "externalJobPostingIds": ["open-1", "gone", "never-heard-of"],
    }
    accepted = await post_event(api_url, resync)
    await post_event(api_url, resync)  # LinkedIn sends it again
    result = await routed(temporal_env, accepted)
    reasons = {job["external_job_posting_id"]: job.get("reason") for job in result["jobs"]}
    assert reasons == {
        "open-1": None,
        "gone": "the job is closed here",
        "never-heard-of": "no such job here",
    }
    job = await eventually(
        lambda: api.get(f"/v1/customers/{cid}/jobs/open-1"),
        lambda r: any(
            op["id"].startswith("resync-") and op["outcome"] == "SUCCEEDED"
            for op in r.json()["operations"]
        ),
    )
    resent = [op for op in job.json()["operations"] if op["id"].startswith("resync-")]
    assert len(resent) == 1 and resent[0]["kind"] == "UPDATE"
    elements = await sandbox.job_submissions()
    assert [e["externalJobPostingId"] for e in elements] == ["open-1"]
    assert elements[0]["jobPostingOperationType"] == "UPDATE"

    everything = {**resync, "syncAllOpenJobs": True, "externalJobPostingIds": []}
    every = await post_event(api_url, everything)
    result = await routed(temporal_env, every)
    assert sorted(job["external_job_posting_id"] for job in result["jobs"]) == ["open-1", "open-2"]

    # The same bytes after the dedupe window are LinkedIn asking again, not a redelivery.
    event_id = accepted.json()["eventId"]
    await temporal_env.client.get_workflow_handle(f"linkedin-event/{event_id}").result()
    again = await post_event(api_url, resync)
    assert again.json() == {"eventId": event_id}
    await routed(temporal_env, again)
    await eventually(
        lambda: api.get(f"/v1/customers/{cid}/jobs/open-1"),
        lambda r: sum(op["id"].startswith("resync-") for op in r.json()["operations"]) == 3,
    )


async def test_a_resync_asked_again_once_routed_is_sent_again_a_redelivery_meanwhile_not(
    api: httpx.AsyncClient,
    api_url: str,
    sandbox: SandboxControl,
    settings: Settings,
    cid: str,
    temporal_env: WorkflowEnvironment,
) -> None:
    """A resync has no id: the same bytes while it is routed are absorbed (the resends
    follow them), and once it is routed they are LinkedIn asking again (the chaos run's
    sandbox asked for every open job three times in a minute and waited for each)."""
    await enabled_customer(api, api_url, sandbox, cid)
    job = f"/v1/customers/{cid}/jobs/r-1"
    await api.put(job, params={"wait": "true"}, json=job_body())
    urn, _ = await app_of(settings, cid)
    began = datetime.now(UTC)
    events = LinkedInEventsClient(temporal_env.client, settings.task_queue, dedupe_seconds=600)
    raw = json.dumps(
        {
            "type": "RESYNC_JOBS",
            "developerApplicationUrn": urn,
            "syncAllOpenJobs": False,
            "externalJobPostingIds": ["r-1"],
        }
    ).encode()
    form = SignatureForm.HMAC_OF_PREFIXED_BODY
    first = await events.accept(raw, form)
    await events.accept(raw, form)  # a redelivery while it is routed

    def resent(r: httpx.Response) -> list[str]:
        ops = r.json()["operations"]
        return [op["outcome"] for op in ops if op["id"].startswith("resync-")]

    await eventually(lambda: api.get(job), lambda r: resent(r) == ["SUCCEEDED"])
    again = await events.accept(raw, form)  # routed, the window still open: asked again
    assert again.event_id == first.event_id
    await eventually(lambda: api.get(job), lambda r: resent(r) == ["SUCCEEDED", "SUCCEEDED"])
    updates = [e for e in await sandbox.job_submissions() if e["externalJobPostingId"] == "r-1"]
    assert [e["jobPostingOperationType"] for e in updates] == ["CREATE", "UPDATE", "UPDATE"]
    handle = temporal_env.client.get_workflow_handle(f"linkedin-event/{first.event_id}")
    await record_history(handle, "linkedin_event_resync_asked_again")
    await intake_settled(temporal_env.client)
    # the intakes of this test: one started the event, the next two told it they came again
    query = f'WorkflowType = "LinkedInIntakeWorkflow" AND StartTime >= "{began.isoformat()}"'
    intakes = [e async for e in temporal_env.client.list_workflows(query)]
    intakes.sort(key=lambda e: e.start_time)
    outcomes = [await temporal_env.client.get_workflow_handle(e.id).result() for e in intakes]
    assert [(o["started"], o["already_there"]) for o in outcomes] == [(1, 0), (0, 1), (0, 1)]
    for intake, name in zip(intakes, ["started_an_event", "told_an_open_event"], strict=False):
        await record_history(
            temporal_env.client.get_workflow_handle(intake.id), f"linkedin_intake_{name}"
        )


async def test_a_resync_sent_again_while_it_was_routed_is_absorbed_though_told_later(
    api: httpx.AsyncClient,
    api_url: str,
    sandbox: SandboxControl,
    settings: Settings,
    cid: str,
    temporal_env: WorkflowEnvironment,
) -> None:
    """The intake tells the event workflow only after its own start: LinkedIn's second
    send, made while the first was routed, may be told once routing is done. Its time,
    not the signal's, says whether the resends already answer it."""
    await enabled_customer(api, api_url, sandbox, cid)
    job = f"/v1/customers/{cid}/jobs/t-1"
    await api.put(job, params={"wait": "true"}, json=job_body())
    urn, _ = await app_of(settings, cid)
    resync = {
        "type": "RESYNC_JOBS",
        "developerApplicationUrn": urn,
        "syncAllOpenJobs": False,
        "externalJobPostingIds": ["t-1"],
    }
    accepted = await post_event(api_url, resync)
    await routed(temporal_env, accepted)
    handle = temporal_env.client.get_workflow_handle(f"linkedin-event/{accepted.json()['eventId']}")
    sent = (await handle.describe()).start_time
    assert sent is not None

    def resent(r: httpx.Response) -> list[str]:
        return [op["outcome"] for op in r.json()["operations"] if op["id"].startswith("resync-")]

    await eventually(lambda: api.get(job), lambda r: resent(r) == ["SUCCEEDED"])
    await handle.signal(ASKED_AGAIN, AskedAgain(at=sent))  # sent while routed, told now
    await asyncio.sleep(1.5)  # a re-routing would have resent by now (it takes 0.1 s)
    assert resent(await api.get(job)) == ["SUCCEEDED"]
    await handle.signal(ASKED_AGAIN, AskedAgain(at=datetime.now(UTC)))  # asked again
    await eventually(lambda: api.get(job), lambda r: resent(r) == ["SUCCEEDED", "SUCCEEDED"])
    await record_history(handle, "linkedin_event_resync_sent_while_routed_told_later")


async def follow_ups(temporal_env: WorkflowEnvironment, cid: str) -> dict[str, str]:
    """What each of the customer's integration pushes read in its follow-up, by event."""
    query = (
        f'WorkflowType = "{LINKEDIN_EVENT_WORKFLOW_TYPE}" AND CustomerId = "{cid}" '
        'AND LinkedInEventType = "INTEGRATION_STATUS_CHANGE"'
    )
    found = {}
    async for execution in temporal_env.client.list_workflows(query):
        handle = temporal_env.client.get_workflow_handle(execution.id)
        routed = await handle.query("routed")
        if routed and routed.get("follow_up"):
            found[execution.id.rsplit("/", 1)[-1]] = routed["follow_up"]
    return found


async def routed(temporal_env: WorkflowEnvironment, accepted: httpx.Response) -> Any:
    """What routing did with the event (its workflow stays open for the dedupe window)."""
    handle = temporal_env.client.get_workflow_handle(f"linkedin-event/{accepted.json()['eventId']}")

    async def read() -> Any:
        try:
            return await handle.query("routed")
        except RPCError as error:  # the intake workflow has not started it yet
            if error.status != RPCStatusCode.NOT_FOUND:
                raise
            return None

    return await eventually(read, lambda r: r is not None, within=60)


async def test_the_sandbox_as_linkedin_validates_our_door_and_its_events_reach_the_jobs(
    api: httpx.AsyncClient,
    api_url: str,
    sandbox: SandboxControl,
    cid: str,
) -> None:
    """LinkedIn's side played by the sandbox: registration by challenge, a signed change
    (with a forged post and a duplicate around it), and a resync it times."""
    registered = await sandbox.register_webhook(f"{api_url}/linkedin/webhook")
    assert registered.status_code == 201, registered.text
    await enabled_customer(api, api_url, sandbox, cid)
    for job in ("j-1", "j-2"):
        await api.put(f"/v1/customers/{cid}/jobs/{job}", params={"wait": "true"}, json=job_body())
    await sandbox.http.put("/sandbox/faults/webhooks", json={"forgeNext": 1, "duplicateNext": 1})

    await sandbox.change_at_linkedin(cid, "j-1", listingStatus="NOT_LISTED", reason="Reported")
    await eventually(
        lambda: api.get(f"/v1/customers/{cid}/jobs/j-1"),
        lambda r: r.json()["status"] == "UNLISTED_BY_LINKEDIN",
    )
    deliveries = await eventually(
        lambda: sandbox.http.get("/sandbox/deliveries"),
        lambda r: {d["kind"] for d in r.json()} >= {"DELIVERY", "FORGED", "DUPLICATE"},
    )
    statuses = {d["kind"]: d["status"] for d in deliveries.json()}
    assert statuses == {"FORGED": 401, "DELIVERY": 200, "DUPLICATE": 200}

    resync = (
        await sandbox.http.post(
            "/sandbox/resync", json={"customerId": cid, "syncAllOpenJobs": True}
        )
    ).json()
    report = await eventually(
        lambda: sandbox.http.get(f"/sandbox/resync/{resync['resync']['id']}"),
        lambda r: not r.json()["pending"],
    )
    assert sorted(report.json()["inTime"]) == ["j-1", "j-2"]
    assert report.json()["never"] == [] and report.json()["late"] == []
