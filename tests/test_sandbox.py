"""The sandbox behaves like LinkedIn: answer shapes, the widget's states, jobs over time."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request

from domain.integrations import IntegrationKey, IntegrationType
from linkedin import LinkedInClient, LinkedInError
from linkedin_sandbox import SandboxSettings
from tests.conftest import PARTNER, Customer, provision
from tests.jobs_support import valid_job
from tests.sandbox_control import SandboxControl, SandboxServer, ServerThread

FIXTURES = Path(__file__).parent / "fixtures" / "linkedin-sdk"
"""Answers from LinkedIn's Java SDK tests (BSD-2-Clause, LICENCE beside them)."""
CONTRACT = "urn:li:contract:555"
PJP_KEY = IntegrationKey.for_type(CONTRACT, IntegrationType.PREMIUM_JOB_POSTING)
DAY_MS = 24 * 3600 * 1000


def shape(value: Any) -> Any:
    """A JSON value's structure: keys and value types, with maps of ids reduced to one entry."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return "null" if value is None else "string"


def one_entry(body: dict[str, Any], section: str = "results") -> dict[str, Any]:
    """Compare batch answers by their first entry: ids differ, structure must not."""
    first = next(iter(body[section].values()))
    return {**body, section: {"ID": first}}


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


async def raw_get(linkedin: LinkedInClient, customer: Customer, path: str, ids: list[str]) -> Any:
    token = (await linkedin.access_token(customer.creds)).get_secret_value()
    async with httpx.AsyncClient(base_url=linkedin._api_url) as http:
        response = await http.get(
            path, params=[("ids", i) for i in ids], headers={"Authorization": f"Bearer {token}"}
        )
    return response.json()


async def enable(
    linkedin: LinkedInClient,
    sandbox: SandboxControl,
    customer: Customer,
    poster: str = "boss@globex.com",
) -> None:
    (
        await sandbox.widget_save(
            customerId="cust-1", integrationContext=CONTRACT, jobPosterEmail=poster
        )
    ).raise_for_status()
    await linkedin.enable_integration(customer.creds, PJP_KEY, "Acme ATS - Globex PJP")


# -- shapes ---------------------------------------------------------------------------------


async def test_token_and_provisioning_answers_match_the_fixtures(
    linkedin: LinkedInClient, sandbox: SandboxControl
) -> None:
    async with httpx.AsyncClient(base_url=sandbox.url) as http:
        token = (
            await http.post(
                "/oauth/v2/accessToken",
                data={
                    "grant_type": "client_credentials",
                    "client_id": PARTNER.client_id,
                    "client_secret": PARTNER.client_secret.get_secret_value(),
                },
            )
        ).json()
        assert shape(token) == shape(fixture("TokenSuccessResponse.json"))
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        created = (
            await http.post(
                "/v2/provisionedApplications",
                headers=headers,
                json={
                    "uniqueForeignId": "Unique Foreign ID",
                    "name": "Test Application",
                    "description": "This is my test application",
                    "validJsSdkDomains": ["http://example.com"],
                    "oauth2AuthorizedCallbackUrls": ["https://example.com/oauth2/callback"],
                },
            )
        ).json()
        assert shape(created) == shape(fixture("CreateApplicationSuccessResponse.json"))
        found = (
            await http.get(
                "/v2/provisionedApplications",
                headers=headers,
                params={
                    "q": "credentialsByUniqueForeignId",
                    "uniqueForeignId": "Unique Foreign ID",
                },
            )
        ).json()
        assert shape(found) == shape(fixture("GetApplicationSuccessResponse.json"))


async def test_job_answers_match_the_fixtures(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer
) -> None:
    token = (await linkedin.access_token(customer.creds)).get_secret_value()
    async with httpx.AsyncClient(base_url=sandbox.url) as http:
        posted = (
            await http.post(
                "/v2/simpleJobPostings",
                json={"elements": [valid_job("112233445566").to_wire()]},
                headers={"Authorization": f"Bearer {token}", "x-restli-method": "batch_create"},
            )
        ).json()
    assert shape(posted) == shape(fixture("JobPostingSuccessResponse.json"))
    task_id = posted["elements"][0]["id"]
    tasks = await raw_get(linkedin, customer, "/v2/simpleJobPostingTasks", [task_id])
    assert shape(one_entry(tasks)) == shape(one_entry(fixture("TaskStatusSuccessResponse.json")))
    status = await raw_get(linkedin, customer, "/v2/jobPostingStatus", ["112233445566"])
    expected = one_entry(fixture("JobPostingStatusSuccessResponse.json"))
    assert shape(one_entry(status)) == shape(expected)


async def test_hiring_contract_answer_matches_the_fixture(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer
) -> None:
    contract = await linkedin.setup_hiring_contract(customer.creds, 67890)
    assert contract.contract == "urn:li:contract:67890"
    assert contract.application == customer.app.key
    last = (await sandbox.requests("/rest/provisionedHiringContracts"))[-1]
    assert last["query"] == "action=setup" and last["body"] == {"partnerContractId": 67890}


def test_fixtures_parse_with_the_client_models() -> None:
    from domain.job_postings import JobPostingStatus, TaskStatus

    for name in ("TaskStatusSuccessResponse.json", "MultipleTaskStatusSuccessResponse.json"):
        for item in fixture(name)["results"].values():
            assert TaskStatus.model_validate(item).job_id
    for name in (
        "JobPostingStatusSuccessResponse.json",
        "MultipleJobPostingStatusSuccessResponse.json",
    ):
        for item in fixture(name)["results"].values():
            status = JobPostingStatus.model_validate(item)
            assert status.external_job_posting_id.isdigit() and status.job_id


# -- the two API roots ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "root, headers", [("/v2", {}), ("/rest", {"LinkedIn-Version": "202504"})], ids=["v2", "rest"]
)
async def test_jobs_and_tasks_are_served_on_both_roots(
    linkedin: LinkedInClient, customer: Customer, root: str, headers: dict[str, str]
) -> None:
    """LinkedIn's seeds post jobs on /v2/, its SDK on /rest/ with LinkedIn-Version."""
    token = (await linkedin.access_token(customer.creds)).get_secret_value()
    auth = {"Authorization": f"Bearer {token}", **headers}
    async with httpx.AsyncClient(base_url=linkedin._api_url, headers=auth) as http:
        posted = await http.post(
            f"{root}/simpleJobPostings",
            json={"elements": [valid_job("both").to_wire()]},
            headers={"x-restli-method": "batch_create"},
        )
        assert posted.status_code == 200
        (element,) = posted.json()["elements"]
        assert element["status"] == 202
        tasks = await http.get(f"{root}/simpleJobPostingTasks", params={"ids": element["id"]})
    assert tasks.status_code == 200
    assert tasks.json()["results"][element["id"]]["status"] == "SUCCEEDED"


@pytest.mark.parametrize("path", ["/rest/simpleJobPostings", "/rest/simpleJobPostingTasks"])
@pytest.mark.parametrize("version", [None, "", "2025-04", "202513", "202500", "2025041"])
async def test_versioned_job_paths_need_linkedin_version_as_yyyymm(
    linkedin: LinkedInClient, customer: Customer, path: str, version: str | None
) -> None:
    token = (await linkedin.access_token(customer.creds)).get_secret_value()
    headers = {"Authorization": f"Bearer {token}", "x-restli-method": "batch_create"}
    if version is not None:
        headers["LinkedIn-Version"] = version
    async with httpx.AsyncClient(base_url=linkedin._api_url) as http:
        response = await http.request(
            "POST" if path.endswith("Postings") else "GET",
            path,
            headers=headers,
            json={"elements": [valid_job("v").to_wire()]} if path.endswith("Postings") else None,
        )
    assert response.status_code == 400
    assert response.json()["status"] == 400 and "LinkedIn-Version" in response.json()["message"]


async def test_job_statuses_are_read_on_v2_only(
    linkedin: LinkedInClient, customer: Customer
) -> None:
    """LinkedIn's SDK reads jobPostingStatus on /v2/ (LinkedInApiConstants.JOB_STATUS_BASE_URL)
    and no source of ours shows it under /rest/."""
    await linkedin.submit_jobs(customer.creds, [valid_job("s")])
    token = (await linkedin.access_token(customer.creds)).get_secret_value()
    auth = {"Authorization": f"Bearer {token}", "LinkedIn-Version": "202504"}
    async with httpx.AsyncClient(base_url=linkedin._api_url, headers=auth) as http:
        unversioned = await http.get("/v2/jobPostingStatus", params={"ids": "s"})
        versioned = await http.get("/rest/jobPostingStatus", params={"ids": "s"})
    assert unversioned.status_code == 200 and "s" in unversioned.json()["results"]
    assert versioned.status_code == 404
    assert versioned.json()["message"] == "Resource jobPostingStatus does not exist"


# -- provisioning -------------------------------------------------------------------------


async def test_provisioning_is_keyed_by_foreign_id(
    linkedin: LinkedInClient, sandbox: SandboxControl
) -> None:
    customer = await provision(linkedin, "cust-7")
    found = await linkedin.find_application("cust-7")
    assert found is not None and found.client_id == customer.creds.client_id
    assert await linkedin.find_application("cust-8") is None
    from linkedin import LinkedInConflictError

    with pytest.raises(LinkedInConflictError, match="already exists"):
        await provision(linkedin, "cust-7")
    await linkedin.update_application(customer.app.key, {"description": "renamed"})
    apps = (await sandbox.state())["apps"]
    assert apps[0]["description"] == "renamed"


# -- the widget's states (seed 000) --------------------------------------------------------


async def status_of(linkedin: LinkedInClient, customer: Customer) -> str | None:
    answer = await linkedin.verify_integrations(customer.creds, [PJP_KEY])
    return answer[PJP_KEY].onboarding_status if PJP_KEY in answer else None


async def test_widget_states(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer
) -> None:
    assert await status_of(linkedin, customer) is None  # Not Connected
    await enable(linkedin, sandbox, customer)
    assert await status_of(linkedin, customer) == "ENABLED"
    same = await sandbox.widget_save(
        customerId="cust-1", integrationContext=CONTRACT, jobPosterEmail="boss@globex.com"
    )
    assert same.status_code == 200 and await status_of(linkedin, customer) == "ENABLED"
    await sandbox.widget_save(
        customerId="cust-1", integrationContext=CONTRACT, jobPosterEmail="new.boss@globex.com"
    )
    assert await status_of(linkedin, customer) == "REQUESTED"
    await linkedin.enable_integration(customer.creds, PJP_KEY, "again")
    await sandbox.widget_save(customerId="cust-1", integrationContext=CONTRACT, jobPosterEmail="")
    assert await status_of(linkedin, customer) == "REQUESTED"  # poster removed


async def test_a_callback_url_follows_linkedins_rules(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer
) -> None:
    """§5: set on a ONE_CLICK_EXPORT record the customer saved; one URL a customer, never
    another customer's."""
    org = "urn:li:organization:77"
    export = IntegrationKey.for_type(org, IntegrationType.ONE_CLICK_EXPORT)
    url = "https://ats.example.com/linkedin/customers/cust-1/events"
    with pytest.raises(LinkedInError, match="No record found"):
        await linkedin.register_callback_url(customer.creds, export, url)
    rsc = {"integrationType": "RECRUITER_SYSTEM_CONNECT_COMPANY", "integrationContext": org}
    (await sandbox.widget_save(customerId="cust-1", **rsc)).raise_for_status()
    await linkedin.register_callback_url(customer.creds, export, url)
    await linkedin.register_callback_url(customer.creds, export, url)  # a PUT: again is harmless
    plugin = IntegrationKey.for_type(org, IntegrationType.PROFILE_PLUGIN)
    with pytest.raises(LinkedInError, match="No CALLBACK_URL configuration for PROFILE_PLUGIN"):
        await linkedin.register_callback_url(customer.creds, plugin, url)
    other = await provision(linkedin, "cust-2")
    (await sandbox.widget_save(customerId="cust-2", **rsc)).raise_for_status()
    with pytest.raises(LinkedInError, match="registered for another customer"):
        await linkedin.register_callback_url(other.creds, export, url)
    records = [i for i in (await sandbox.state())["integrations"] if i["callback_url"]]
    assert [(r["client_id"], r["callback_url"]) for r in records] == [(customer.app.client_id, url)]


async def test_widget_callback_is_posted_to_the_ats(
    sandbox: SandboxControl, customer: Customer
) -> None:
    received: list[Any] = []
    ats = FastAPI()

    @ats.post("/callback")
    async def callback(request: Request) -> dict[str, str]:
        received.append((request.headers.get("authorization"), await request.json()))
        return {"ok": "yes"}

    server = ServerThread(ats).start()
    try:
        response = await sandbox.widget_save(
            customerId="cust-1",
            integrationContext=CONTRACT,
            jobPosterEmail="a@b.co",
            callbackUrl=f"{server.url}/callback",
            callbackHeaders={"Authorization": "Bearer ats"},
        )
    finally:
        server.stop()
    values = [
        {
            "tenantType": "JOBS",
            "onboardingStatus": "REQUESTED",
            "integrationType": "PREMIUM_JOB_POSTING",
            "integrationContext": CONTRACT,
        }
    ]
    assert response.json() == values
    assert response.headers["x-sandbox-callback-status"] == "200"
    assert received == [("Bearer ats", values)]


# -- jobs over time (seeds 002 and 003) ----------------------------------------------------


async def run(linkedin: LinkedInClient, customer: Customer, job: Any) -> Any:
    (submission,) = await linkedin.submit_jobs(customer.creds, [job])
    assert submission.error is None, submission.error
    task = (await linkedin.get_tasks(customer.creds, [submission.task_id])).results[
        submission.task_id
    ]
    assert task.status == "SUCCEEDED", task.error_message
    external_id = job.external_job_posting_id
    return (await linkedin.get_job_statuses(customer.creds, [external_id])).results[external_id]


async def test_upgrade_keeps_the_job_and_downgrade_makes_a_new_one(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer
) -> None:
    await enable(linkedin, sandbox, customer)
    basic = await run(linkedin, customer, valid_job("j"))
    assert (basic.listing_status, basic.promotion_status) == ("LISTED", "NOT_PROMOTED")
    upgraded = await run(
        linkedin,
        customer,
        valid_job(
            "j", job_posting_operation_type="UPDATE", listing_type="PREMIUM", contract=CONTRACT
        ),
    )
    assert upgraded.job_posting_url == basic.job_posting_url
    assert upgraded.promotion_status == "PROMOTED"
    info = upgraded.job_posting_info
    assert info.expire_at - info.listed_at == 30 * DAY_MS
    downgraded = await run(
        linkedin,
        customer,
        valid_job(
            "j", job_posting_operation_type="UPDATE", listing_type="BASIC", contract=CONTRACT
        ),
    )
    assert downgraded.job_posting_url != upgraded.job_posting_url
    assert downgraded.job_id != upgraded.job_id
    state = await sandbox.state()
    assert state["jobs"][0]["previous_job_ids"] == [int(upgraded.job_id)]


async def test_upgrade_honours_expire_at_up_to_90_days(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer
) -> None:
    await enable(linkedin, sandbox, customer)
    await run(linkedin, customer, valid_job("j"))
    far = (await sandbox.state())["nowMs"] + 200 * DAY_MS
    upgraded = await run(
        linkedin,
        customer,
        valid_job(
            "j",
            job_posting_operation_type="UPDATE",
            listing_type="PREMIUM",
            contract=CONTRACT,
            expire_at=far,
        ),
    )
    info = upgraded.job_posting_info
    assert info.expire_at - info.listed_at == 90 * DAY_MS


P4P = {"payForPerformanceTotalBudget": {"currencyCode": "USD", "amount": "275.00"}}


async def test_p4p_renew_resets_30_days_and_downgrade_keeps_dates(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer
) -> None:
    contract = (await linkedin.setup_hiring_contract(customer.creds, 67890)).contract
    job = await run(
        linkedin, customer, valid_job("p", listing_type="PREMIUM", contract=contract, budget=P4P)
    )
    first_expiry = job.job_posting_info.expire_at
    assert first_expiry - job.job_posting_info.listed_at == 30 * DAY_MS
    await sandbox.advance(10 * 24 * 3600)
    renewed = await run(
        linkedin,
        customer,
        valid_job(
            "p",
            job_posting_operation_type="RENEW",
            listing_type="PREMIUM",
            contract=contract,
            budget={"payForPerformanceTotalBudget": {"currencyCode": "USD", "amount": "300.00"}},
        ),
    )
    now = (await sandbox.state())["nowMs"]
    assert renewed.job_posting_info.expire_at > first_expiry
    assert renewed.job_posting_info.expire_at - now == pytest.approx(30 * DAY_MS, abs=5000)
    downgraded = await run(
        linkedin,
        customer,
        valid_job(
            "p", job_posting_operation_type="UPDATE", listing_type="BASIC", contract=contract
        ),
    )
    assert downgraded.job_posting_info.expire_at == renewed.job_posting_info.expire_at
    assert downgraded.job_id != renewed.job_id


async def test_jobs_expire_and_close(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer
) -> None:
    listed = await run(linkedin, customer, valid_job("e"))
    assert listed.job_posting_info.expire_at - listed.job_posting_info.listed_at == 180 * DAY_MS
    await sandbox.advance(181 * 24 * 3600)
    expired = (await linkedin.get_job_statuses(customer.creds, ["e"])).results["e"]
    assert expired.listing_status == "NOT_LISTED"
    assert expired.job_posting_url == listed.job_posting_url  # kept, as LinkedIn's fixture shows
    opened = await run(linkedin, customer, valid_job("c"))
    closed = await run(linkedin, customer, valid_job("c", job_posting_operation_type="CLOSE"))
    assert closed.listing_status == "NOT_LISTED"
    assert closed.job_posting_url == opened.job_posting_url is not None


async def test_tasks_stay_in_progress_for_the_delay_and_then_expire(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer
) -> None:
    await sandbox.settings(taskDelaySeconds=60)
    (submission,) = await linkedin.submit_jobs(customer.creds, [valid_job("slow")])
    tasks = await linkedin.get_tasks(customer.creds, [submission.task_id])
    assert tasks.results[submission.task_id].status == "IN_PROGRESS"
    pending = (await linkedin.get_job_statuses(customer.creds, ["slow"])).results["slow"]
    assert pending.listing_status == "IN_PROGRESS"
    await sandbox.advance(61)
    tasks = await linkedin.get_tasks(customer.creds, [submission.task_id])
    assert tasks.results[submission.task_id].status == "SUCCEEDED"
    await sandbox.advance(25 * 3600)
    tasks = await linkedin.get_tasks(customer.creds, [submission.task_id])
    assert submission.task_id in tasks.errors and tasks.errors[submission.task_id].status == 404


async def test_other_customers_cannot_see_a_job(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer
) -> None:
    other = await provision(linkedin, "cust-2")
    await run(linkedin, customer, valid_job("mine"))
    answer = await linkedin.get_job_statuses(other.creds, ["mine"])
    assert "mine" in answer.errors and not answer.results


# -- state, journal -----------------------------------------------------------------------


async def test_state_survives_a_restart(tmp_path: Path) -> None:
    settings = SandboxSettings(task_delay_seconds=0, state_path=str(tmp_path / "state.sqlite"))
    server = SandboxServer(settings).start()
    async with LinkedInClient(api_url=server.url, oauth_url=server.url, partner=PARTNER) as c:
        customer = await provision(c, "durable")
        await c.submit_jobs(customer.creds, [valid_job("kept")])
    server.stop()
    again = SandboxServer(
        SandboxSettings(task_delay_seconds=0, state_path=settings.state_path), port=server.port
    ).start()
    try:
        async with LinkedInClient(api_url=again.url, oauth_url=again.url, partner=PARTNER) as c:
            assert (await c.find_application("durable")) is not None
            statuses = await c.get_job_statuses(customer.creds, ["kept"])
            assert statuses.results["kept"].listing_status == "LISTED"
    finally:
        again.stop()


async def test_journal_records_requests_without_secrets(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer
) -> None:
    await linkedin.submit_jobs(customer.creds, [valid_job("j")])
    journal = await sandbox.requests()
    assert [(e["method"], e["path"], e["status"]) for e in journal] == [
        ("POST", "/oauth/v2/accessToken", 200),
        ("POST", "/v2/provisionedApplications", 201),
        ("POST", "/oauth/v2/accessToken", 200),
        ("POST", "/rest/simpleJobPostings", 200),
    ]
    text = json.dumps(journal)
    assert customer.creds.client_secret.get_secret_value() not in text
    assert all(e["headers"].get("authorization", "Bearer ***") == "Bearer ***" for e in journal)
    assert journal[-1]["headers"]["x-restli-method"] == "batch_create"


async def test_error_rate_faults_are_seeded(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer
) -> None:
    from linkedin import TransientLinkedInError

    async def outcomes() -> list[bool]:
        await sandbox.fault("jobPostingStatus", errorRate=0.5, seed=7)
        seen = []
        for _ in range(20):
            try:
                await linkedin.get_job_statuses(customer.creds, ["x"])
                seen.append(True)
            except TransientLinkedInError:
                seen.append(False)
        return seen

    first = await outcomes()
    assert 0 < first.count(False) < 20
    assert await outcomes() == first
