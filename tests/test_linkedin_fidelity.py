"""Issue 8: every request as real LinkedIn takes it, every answer as LinkedIn may give it.

Each test names the published source it holds the client and the sandbox to: seeds
000-003, LinkedIn's Java SDK and its fixtures, its RSC Postman collection.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from domain.integrations import IntegrationKey, IntegrationType
from domain.job_lifecycle import build_posting
from domain.job_postings import (
    ApplyStatus,
    Budget,
    ListingStatus,
    PromotionStatus,
    TaskState,
)
from domain.job_workflow import OperationKind, OperationParams
from domain.provisioning import ApplicationProfile, NewApplication
from linkedin import (
    LinkedInClient,
    PermanentLinkedInError,
    UnexpectedAnswerError,
)
from tests.conftest import PARTNER, Customer
from tests.jobs_support import valid_job
from tests.sandbox_control import SandboxControl, ServerThread

REQUIRED = "field is required but not found and has no default value\n"


async def post_elements(
    linkedin: LinkedInClient, customer: Customer, elements: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """simpleJobPostings as sent by hand, to see LinkedIn's per-element answers."""
    token = (await linkedin.access_token(customer.creds)).get_secret_value()
    async with httpx.AsyncClient(base_url=linkedin._api_url) as http:
        response = await http.post(
            "/v2/simpleJobPostings",
            json={"elements": elements},
            headers={"Authorization": f"Bearer {token}", "x-restli-method": "batch_create"},
        )
    assert response.status_code == 200
    return list(response.json()["elements"])


def wire(external_id: str, **overrides: Any) -> dict[str, Any]:
    return valid_job(external_id, **overrides).to_wire()


# -- 1. CLOSE re-posts the whole job -------------------------------------------------------


@pytest.mark.parametrize(
    "missing", ["title", "description", "listedAt", "location", "companyApplyUrl"]
)
async def test_a_close_without_the_whole_job_is_refused_per_element(
    linkedin: LinkedInClient, customer: Customer, missing: str
) -> None:
    (created,) = await post_elements(linkedin, customer, [wire("j")])
    assert created["status"] == 202
    close = {**wire("j", job_posting_operation_type="CLOSE")}
    del close[missing]
    (answer,) = await post_elements(linkedin, customer, [close])
    assert answer == {
        "status": 422,
        "error": {"status": 422, "message": f"ERROR :: /{missing} :: {REQUIRED}"},
    }


async def test_the_two_field_close_we_used_to_send_is_refused(
    linkedin: LinkedInClient, customer: Customer
) -> None:
    await post_elements(linkedin, customer, [wire("j")])
    (answer,) = await post_elements(
        linkedin, customer, [{"externalJobPostingId": "j", "jobPostingOperationType": "CLOSE"}]
    )
    assert answer["status"] == 422
    assert answer["error"]["message"] == f"ERROR :: /title :: {REQUIRED}"


async def test_the_whole_job_with_close_closes_it(
    linkedin: LinkedInClient, customer: Customer
) -> None:
    await post_elements(linkedin, customer, [wire("j")])
    (answer,) = await post_elements(
        linkedin, customer, [wire("j", job_posting_operation_type="CLOSE")]
    )
    assert answer["status"] == 202
    status = (await linkedin.get_job_statuses(customer.creds, ["j"])).results["j"]
    assert status.listing_status == ListingStatus.NOT_LISTED


def test_a_close_leaves_out_the_budget_and_the_expiry_and_keeps_the_contract() -> None:
    """LinkedIn's close-jobs page and its PJP Postman collection close a premium job with
    listingType and contract and no budget or expireAt; seed 002 spends a P4P budget only
    on CREATE, upgrade and RENEW and refuses budget and expireAt where they do not belong."""
    now = datetime.now(UTC)
    budget = Budget.model_validate(
        {"payForPerformanceTotalBudget": {"currencyCode": "USD", "amount": "275.00"}}
    )
    for listed in (
        valid_job("p4p", listing_type="PREMIUM", contract="urn:li:contract:7", budget=budget),
        valid_job(
            "slot",
            listing_type="PREMIUM",
            contract="urn:li:contract:7",
            expire_at=int(now.timestamp() * 1000) + 20 * 24 * 3600 * 1000,
        ),
    ):
        sent = build_posting(listed, OperationKind.CLOSE, OperationParams(), now).to_wire()
        assert "budget" not in sent and "expireAt" not in sent
        assert sent == {
            **{k: v for k, v in listed.to_wire().items() if k not in ("budget", "expireAt")},
            "jobPostingOperationType": "CLOSE",
        }
        assert (sent["listingType"], sent["contract"]) == ("PREMIUM", "urn:li:contract:7")


# -- 2. versioned calls carry their version ------------------------------------------------


async def test_each_call_goes_where_linkedins_sdk_sends_it_with_its_headers(
    sandbox: SandboxControl, customer: Customer
) -> None:
    """LinkedIn's Java SDK (LinkedInApiConstants.java): jobs and tasks under /rest/,
    jobPostingStatus and provisionedApplications under /v2/, provisionedHiringContracts
    under /rest/; seeds 000/001: atsIntegrations under /v2/ with Rest.li 1.0 keys
    (`ids[0].integrationContext=`). Its job client sends LinkedIn-Version without the
    Rest.li 2.0.0 header (tasks are read as `ids=a&ids=b`, 1.0 syntax); its P4P client sends
    both on provisionedHiringContracts."""
    key = IntegrationKey.for_type("urn:li:contract:1", IntegrationType.PREMIUM_JOB_POSTING)
    async with LinkedInClient(
        api_url=sandbox.url, oauth_url=sandbox.url, partner=PARTNER, api_version="202601"
    ) as linkedin:
        await linkedin.setup_hiring_contract(customer.creds, 67890)
        (submitted,) = await linkedin.submit_jobs(customer.creds, [valid_job("h")])
        assert submitted.task_id is not None
        await linkedin.get_tasks(customer.creds, [submitted.task_id])
        await linkedin.get_job_statuses(customer.creds, ["h"])
        await linkedin.verify_integrations(customer.creds, [key])
        await linkedin.find_application("cust-1")
    seen = {
        (e["method"], e["path"]): (
            e["status"],
            e["headers"].get("linkedin-version"),
            e["headers"].get("x-restli-protocol-version"),
        )
        for e in await sandbox.requests()
        if not e["path"].startswith("/oauth/")
    }
    assert seen == {
        ("POST", "/v2/provisionedApplications"): (201, None, None),
        ("POST", "/rest/provisionedHiringContracts"): (200, "202601", "2.0.0"),
        ("POST", "/rest/simpleJobPostings"): (200, "202601", None),
        ("GET", "/rest/simpleJobPostingTasks"): (200, "202601", None),
        ("GET", "/v2/jobPostingStatus"): (200, None, None),
        ("GET", "/v2/atsIntegrations"): (200, None, None),
        ("GET", "/v2/provisionedApplications"): (200, None, None),
    }


async def test_the_default_version_is_the_one_linkedins_sdk_sends(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer
) -> None:
    await linkedin.setup_hiring_contract(customer.creds, 67890)
    (setup,) = await sandbox.requests("/rest/provisionedHiringContracts")
    assert setup["headers"]["linkedin-version"] == "202504"


@pytest.mark.parametrize("version", [None, "2025-04", "latest", "202513", "202500"])
async def test_the_sandbox_refuses_a_rest_call_without_a_version(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer, version: str | None
) -> None:
    token = (await linkedin.access_token(customer.creds)).get_secret_value()
    headers = {"Authorization": f"Bearer {token}"}
    if version is not None:
        headers["LinkedIn-Version"] = version
    async with httpx.AsyncClient(base_url=sandbox.url) as http:
        response = await http.post(
            "/rest/provisionedHiringContracts?action=setup",
            json={"partnerContractId": 1},
            headers=headers,
        )
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == 400 and "LinkedIn-Version" in body["message"]


async def test_jobs_and_tasks_go_back_to_v2_with_one_setting(
    sandbox: SandboxControl, customer: Customer
) -> None:
    async with LinkedInClient(
        api_url=sandbox.url, oauth_url=sandbox.url, partner=PARTNER, versioned_endpoints=False
    ) as linkedin:
        (submitted,) = await linkedin.submit_jobs(customer.creds, [valid_job("r")])
        assert submitted.task_id is not None
        tasks = await linkedin.get_tasks(customer.creds, [submitted.task_id])
        assert tasks.results[submitted.task_id].status == TaskState.SUCCEEDED
        status = await linkedin.get_job_statuses(customer.creds, ["r"])
        assert status.results["r"].listing_status == ListingStatus.LISTED
    journal = [e for e in await sandbox.requests() if not e["path"].startswith("/oauth/")]
    assert [e["path"] for e in journal] == [
        "/v2/provisionedApplications",
        "/v2/simpleJobPostings",
        "/v2/simpleJobPostingTasks",
        "/v2/jobPostingStatus",
    ]
    assert not any("linkedin-version" in e["headers"] for e in journal)


@pytest.mark.parametrize("version", ["2025-04", "20254", "202513", "202500", "latest"])
def test_a_version_not_in_linkedins_yyyymm_form_is_refused_up_front(version: str) -> None:
    with pytest.raises(ValueError, match="api_version: must be YYYYMM"):
        LinkedInClient(api_url="x", oauth_url="x", partner=PARTNER, api_version=version)


# -- 3. integration types as LinkedIn keys them --------------------------------------------


async def raw_verify(
    linkedin: LinkedInClient, customer: Customer, parts: dict[str, str]
) -> httpx.Response:
    token = (await linkedin.access_token(customer.creds)).get_secret_value()
    async with httpx.AsyncClient(base_url=linkedin._api_url) as http:
        return await http.get(
            "/v2/atsIntegrations",
            params={f"ids[0].{k}": v for k, v in parts.items()},
            headers={"Authorization": f"Bearer {token}"},
        )


@pytest.mark.parametrize(
    "integration_type, context",
    [
        ("RECRUITER_SYSTEM_CONNECT_COMPANY", "urn:li:organization:9"),
        ("RECRUITER_SYSTEM_CONNECT_CONTRACT", "urn:li:contract:9"),
        ("RSC", "urn:li:organization:9"),
    ],
)
async def test_bundle_names_are_not_keys_linkedin_accepts(
    linkedin: LinkedInClient, customer: Customer, integration_type: str, context: str
) -> None:
    response = await raw_verify(
        linkedin,
        customer,
        {
            "integrationContext": context,
            "integrationType": integration_type,
            "tenantType": "RECRUITER",
            "dataProvider": "ATS",
        },
    )
    assert response.status_code == 400
    assert response.json()["message"] == "Integration key parts are incomplete"


@pytest.mark.parametrize(
    "bundle, context, types",
    [
        (
            "RECRUITER_SYSTEM_CONNECT_COMPANY",
            "urn:li:organization:9",
            ["ONE_CLICK_EXPORT", "IN_ATS_INDICATOR", "PROFILE_PLUGIN"],
        ),
        ("RECRUITER_SYSTEM_CONNECT_CONTRACT", "urn:li:contract:9", ["CSA_API"]),
        ("APPLY_CONNECT", "urn:li:organization:9", ["APPLY_CONNECT"]),
    ],
)
async def test_the_plugin_hands_back_key_types_that_enable(
    linkedin: LinkedInClient,
    sandbox: SandboxControl,
    customer: Customer,
    bundle: str,
    context: str,
    types: list[str],
) -> None:
    saved = await sandbox.widget_save(
        customerId="cust-1", integrationType=bundle, integrationContext=context
    )
    assert saved.status_code == 200
    values = saved.json()
    assert [v["integrationType"] for v in values] == types
    keys = [
        IntegrationKey.for_type(v["integrationContext"], IntegrationType(v["integrationType"]))
        for v in values
    ]
    assert {v["tenantType"] for v in values} == {
        "JOBS" if bundle == "APPLY_CONNECT" else "RECRUITER"
    }
    outcome = await linkedin.enable_integrations(customer.creds, {k: "Acme - RSC" for k in keys})
    assert outcome == {k: None for k in keys}
    statuses = await linkedin.verify_integrations(customer.creds, keys)
    assert {str(s.onboarding_status) for s in statuses.values()} == {"ENABLED"}


async def test_a_context_of_the_wrong_kind_for_the_type_is_refused(
    linkedin: LinkedInClient, customer: Customer
) -> None:
    response = await raw_verify(
        linkedin,
        customer,
        {
            "integrationContext": "urn:li:organization:9",
            "integrationType": "CSA_API",
            "tenantType": "RECRUITER",
            "dataProvider": "ATS",
        },
    )
    assert (response.status_code, response.json()["message"]) == (
        400,
        "Invalid integration context urn",
    )


# -- 4. every answer LinkedIn may give -----------------------------------------------------


class StubLinkedIn:
    """A LinkedIn over loopback that answers what a test sets: shapes the sandbox never gives."""

    def __init__(self) -> None:
        self.answers: dict[str, tuple[int, Any]] = {}
        app = FastAPI()

        @app.post("/oauth/v2/accessToken")
        async def token() -> dict[str, Any]:
            return {"access_token": "stub-token", "expires_in": 1800}

        @app.api_route("/{path:path}", methods=["GET", "POST"])
        async def anything(path: str, request: Request) -> JSONResponse:
            status, body = self.answers[f"/{path}"]
            return JSONResponse(body, status_code=status)

        self.server = ServerThread(app, health="/docs")


@pytest.fixture(scope="module")
def stub_server() -> Iterator[StubLinkedIn]:
    stub = StubLinkedIn()
    stub.server.start()
    yield stub
    stub.server.stop()


@pytest.fixture
async def stub(stub_server: StubLinkedIn) -> AsyncIterator[tuple[StubLinkedIn, LinkedInClient]]:
    stub_server.answers.clear()
    url = stub_server.server.url
    async with LinkedInClient(api_url=url, oauth_url=url, partner=PARTNER) as client:
        yield stub_server, client


STATUS_FIXTURE = {
    "externalJobPostingId": 112233445566,
    "jobPostingUrl": "https://www.linkedin.com/jobs/view/4222328777",
    "listingStatus": "NOT_LISTED",
    "listingStatusDetail": {"errorCode": 4, "errorType": "PARTNER_ERROR", "statusMessage": "x"},
    "linkedInApplyStatus": "NOT_ENABLED",
    "linkedInApplyStatusDetail": {"errorCode": "E7", "errorType": None, "statusMessage": "y"},
    "promotionStatus": "NOT_PROMOTED",
}


async def test_error_code_is_a_number_or_a_string(
    stub: tuple[StubLinkedIn, LinkedInClient],
) -> None:
    server, client = stub
    server.answers["/v2/jobPostingStatus"] = (200, {"results": {"112233445566": STATUS_FIXTURE}})
    status = (await client.get_job_statuses(PARTNER, ["112233445566"])).results["112233445566"]
    assert status.listing_status_detail is not None
    assert status.listing_status_detail.error_code == "4"
    assert status.linked_in_apply_status_detail is not None
    assert status.linked_in_apply_status_detail.error_code == "E7"


async def test_enum_values_we_do_not_know_read_as_unknown_and_the_batch_stands(
    stub: tuple[StubLinkedIn, LinkedInClient],
) -> None:
    server, client = stub
    surprising = {
        **STATUS_FIXTURE,
        "externalJobPostingId": "b",
        "listingStatus": "PAUSED",
        "linkedInApplyStatus": "SOMETHING_NEW",
        "promotionStatus": "BOOSTED",
    }
    server.answers["/v2/jobPostingStatus"] = (
        200,
        {"results": {"a": {**STATUS_FIXTURE, "externalJobPostingId": "a"}, "b": surprising}},
    )
    answer = await client.get_job_statuses(PARTNER, ["a", "b"])
    assert answer.errors == {}
    assert answer.results["a"].listing_status == ListingStatus.NOT_LISTED
    b = answer.results["b"]
    assert (b.listing_status, b.linked_in_apply_status, b.promotion_status) == (
        ListingStatus.UNKNOWN,
        ApplyStatus.UNKNOWN,
        PromotionStatus.UNKNOWN,
    )
    server.answers["/rest/simpleJobPostingTasks"] = (
        200,
        {"results": {"urn:li:simpleJobPostingTask:1": {"id": "t", "status": "QUEUED"}}},
    )
    tasks = await client.get_tasks(PARTNER, ["urn:li:simpleJobPostingTask:1"])
    task = tasks.results["urn:li:simpleJobPostingTask:1"]
    assert task.status == TaskState.UNKNOWN and not task.status.is_final


async def test_an_unreadable_entry_is_that_ids_error_not_the_batchs(
    stub: tuple[StubLinkedIn, LinkedInClient],
) -> None:
    server, client = stub
    server.answers["/v2/jobPostingStatus"] = (
        200,
        {"results": {"a": {**STATUS_FIXTURE, "externalJobPostingId": "a"}, "b": ["what"]}},
    )
    answer = await client.get_job_statuses(PARTNER, ["a", "b"])
    assert set(answer.results) == {"a"}
    error = answer.errors["b"]
    assert isinstance(error, UnexpectedAnswerError) and error.body == '["what"]'


@pytest.mark.parametrize(
    "path, status, body, call",
    [
        (
            "/rest/simpleJobPostings",
            200,
            {"elements": []},
            lambda c: c.submit_jobs(PARTNER, [valid_job("x")]),
        ),
        (
            "/rest/simpleJobPostings",
            200,
            {"elements": [{"status": 202}]},
            lambda c: c.submit_jobs(PARTNER, [valid_job("x")]),
        ),
        (
            "/v2/jobPostingStatus",
            200,
            "<html>maintenance</html>",
            lambda c: c.get_job_statuses(PARTNER, ["x"]),
        ),
        (
            "/rest/provisionedHiringContracts",
            200,
            {"contract": "urn:li:contract:1"},
            lambda c: c.setup_hiring_contract(PARTNER, 1),
        ),
        (
            "/v2/provisionedApplications",
            201,
            {"id": 5, "credentials": {"client_secret": "s3cr3t-value"}},
            lambda c: c.create_application(
                NewApplication(unique_foreign_id="u", name="Acme - U", description="d")
            ),
        ),
        (
            "/v2/atsIntegrations",
            200,
            {
                "results": {
                    IntegrationKey.for_type(
                        "urn:li:contract:1", IntegrationType.PREMIUM_JOB_POSTING
                    ).render(): {"onboardingStatus": 3}
                }
            },
            lambda c: c.verify_integrations(
                PARTNER,
                [IntegrationKey.for_type("urn:li:contract:1", IntegrationType.PREMIUM_JOB_POSTING)],
            ),
        ),
    ],
    ids=["no-elements", "element-without-id", "html", "no-value", "no-key", "status-number"],
)
async def test_a_surprising_answer_is_permanent_and_keeps_linkedins_body(
    stub: tuple[StubLinkedIn, LinkedInClient], path: str, status: int, body: Any, call: Any
) -> None:
    server, client = stub
    server.answers[path] = (status, body)
    with pytest.raises(UnexpectedAnswerError) as info:
        await call(client)
    error = info.value
    assert isinstance(error, PermanentLinkedInError)
    assert error.body is not None and "unexpected answer" in str(error)
    assert "s3cr3t-value" not in str(error) + repr(error.__reduce__())
    if isinstance(body, dict) and "credentials" in body:
        assert '"client_secret":"***"' in error.body


# -- 5. the sandbox answers as LinkedIn does -----------------------------------------------


async def test_provisioning_paths_with_a_trailing_slash_are_the_same_resource(
    linkedin: LinkedInClient, sandbox: SandboxControl
) -> None:
    token = (await linkedin.access_token(PARTNER)).get_secret_value()
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=sandbox.url, headers=headers) as http:
        created = await http.post(
            "/v2/provisionedApplications/",
            json={"uniqueForeignId": "slash", "name": "Acme - Slash", "description": "d"},
        )
        assert created.status_code == 201 and created.json()["key"].startswith("urn:li:")
        found = await http.get(
            "/v2/provisionedApplications/",
            params={"q": "credentialsByUniqueForeignId", "uniqueForeignId": "slash"},
        )
    assert found.status_code == 200
    assert found.json()["elements"][0]["key"] == created.json()["key"]


@pytest.mark.parametrize(
    "method, path, named",
    [
        ("GET", "/v2/simpleJobPostingTaskss", "simpleJobPostingTaskss"),
        ("GET", "/rest/simpleJobPostingTaskss", "simpleJobPostingTaskss"),
        ("GET", "/rest/jobPostingStatus", "jobPostingStatus"),
        ("POST", "/v2/noSuchThing/urn%3Ali%3Athing%3A1", "noSuchThing"),
        (
            "POST",
            "/v2/provisionedApplications/urn%3Ali%3AdeveloperApplication%3A999",
            "provisionedApplications/urn:li:developerApplication:999",
        ),
        ("GET", "/v3/jobPostingStatus", "/v3/jobPostingStatus"),
    ],
)
async def test_unknown_paths_and_resources_answer_linkedins_404(
    linkedin: LinkedInClient, sandbox: SandboxControl, method: str, path: str, named: str
) -> None:
    """LinkedIn names the resource it does not have, not the path it was asked for; a path
    outside its API roots (/v2/, /rest/) has no resource to name."""
    token = (await linkedin.access_token(PARTNER)).get_secret_value()
    headers = {"Authorization": f"Bearer {token}", "LinkedIn-Version": "202504"}
    async with httpx.AsyncClient(base_url=sandbox.url) as http:
        response = await http.request(method, path, json={"patch": {"$set": {}}}, headers=headers)
    assert response.status_code == 404
    assert response.json() == {
        "serviceErrorCode": 0,
        "message": f"Resource {named} does not exist",
        "status": 404,
    }


@pytest.mark.parametrize("ahead_seconds, accepted", [(3, True), (300, False)])
async def test_listed_at_a_few_seconds_ahead_is_clock_skew(
    linkedin: LinkedInClient, customer: Customer, ahead_seconds: int, accepted: bool
) -> None:
    listed_at = int(time.time() * 1000) + ahead_seconds * 1000
    element = valid_job("skew").to_wire() | {"listedAt": listed_at}
    (answer,) = await post_elements(linkedin, customer, [element])
    assert (answer["status"] == 202) is accepted, answer


# -- 6. the widget can load: the app carries the ATS's domains -----------------------------


async def test_an_app_brought_in_line_with_the_settings_lets_the_widget_load(
    linkedin: LinkedInClient, sandbox: SandboxControl
) -> None:
    app, _creds = await linkedin.create_application(
        NewApplication(unique_foreign_id="w", name="Acme - W", description="d")
    )
    origin = "https://ats.example.com"
    refused = await sandbox.widget_save(
        customerId="w",
        integrationContext="urn:li:contract:5",
        jobPosterEmail="a@b.co",
        origin=origin,
    )
    assert refused.status_code == 400 and "Domain validation failed" in refused.json()["message"]
    profile = ApplicationProfile(
        valid_js_sdk_domains=[origin],
        oauth2_authorized_callback_urls=["https://ats.example.com/linkedin/callback"],
    )
    found = await linkedin.find_application("w")
    assert found is not None
    changes = profile.changes_for(found)
    assert set(changes) == {"validJsSdkDomains", "oauth2AuthorizedCallbackUrls"}
    await linkedin.update_application(app.key, changes)
    updated = await linkedin.find_application("w")
    assert updated is not None and profile.changes_for(updated) == {}
    loaded = await sandbox.widget_save(
        customerId="w",
        integrationContext="urn:li:contract:5",
        jobPosterEmail="a@b.co",
        origin=origin,
    )
    assert loaded.status_code == 200


def test_domains_linkedin_would_refuse_are_refused_in_the_profile() -> None:
    with pytest.raises(ValueError, match="no trailing slash"):
        ApplicationProfile(valid_js_sdk_domains=["https://ats.example.com/"])
    with pytest.raises(ValueError, match="absolute http"):
        ApplicationProfile(oauth2_authorized_callback_urls=["ats.example.com/cb"])


async def test_companyjobcode_is_required_by_the_sandbox_for_p4p(
    linkedin: LinkedInClient, customer: Customer
) -> None:
    contract = (await linkedin.setup_hiring_contract(customer.creds, 67890)).contract
    p4p = wire(
        "p",
        listing_type="PREMIUM",
        contract=contract,
        budget={"payForPerformanceTotalBudget": {"currencyCode": "USD", "amount": "275.00"}},
    )
    del p4p["companyJobCode"]
    (answer,) = await post_elements(linkedin, customer, [p4p])
    assert answer["status"] == 422
    assert answer["error"]["message"] == f"ERROR :: /companyJobCode :: {REQUIRED}"
    (accepted,) = await post_elements(linkedin, customer, [p4p | {"companyJobCode": "REQ-p"}])
    assert accepted["status"] == 202
