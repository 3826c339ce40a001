"""The ATS-facing HTTP API, served for real, with the sandbox's widget calling it back."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.sandbox_control import JOB_POSTINGS, SandboxControl
from tests.temporal_support import eventually

CONTRACT = "urn:li:contract:555"
AUTH = {"Authorization": "Bearer dev-token"}
pytestmark = pytest.mark.usefixtures("worker")


def paths(response: httpx.Response) -> list[str]:
    """The fields a problem-details answer names."""
    return [error["path"] for error in response.json()["errors"]]


def callback(**overrides: Any) -> list[dict[str, Any]]:
    values = {
        "tenantType": "JOBS",
        "onboardingStatus": "REQUESTED",
        "integrationType": "PREMIUM_JOB_POSTING",
        "integrationContext": CONTRACT,
    }
    values.update(overrides)
    return [values]


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic ZGV2LXRva2Vu"}]
)
async def test_requests_without_the_token_are_refused(
    api_url: str, headers: dict[str, str]
) -> None:
    async with httpx.AsyncClient(base_url=api_url) as http:
        response = await http.get("/v1/integrations", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_openapi_is_published(api: httpx.AsyncClient) -> None:
    spec = (await api.get("/openapi.json")).json()
    assert "/v1/customers/{customer_id}/widget-callback" in spec["paths"]
    assert (await api.get("/docs")).status_code == 200


@pytest.mark.parametrize(
    "values, loc, fragment",
    [
        (callback(integrationType="NOPE"), ["body", 0, "integrationType"], "Input should be"),
        (
            callback(integrationContext="contract:1"),
            ["body", 0, "integrationContext"],
            "urn:li:organization:<id> or urn:li:company:<id> or urn:li:contract:<id>",
        ),
        (callback(tenantType="RECRUITER"), ["body", 0], "tenantType: must be JOBS"),
        ([{"tenantType": "JOBS"}], ["body", 0, "integrationType"], "Field required"),
    ],
)
async def test_bad_callback_values_are_422_naming_the_field(
    api: httpx.AsyncClient, cid: str, values: Any, loc: list[Any], fragment: str
) -> None:
    response = await api.post(f"/v1/customers/{cid}/widget-callback", json=values)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    errors = response.json()["errors"]
    path = ".".join(str(part) for part in loc)
    assert any(e["path"] == path and fragment in e["message"] for e in errors), errors


async def test_customer_name_linkedin_refuses_is_422(api: httpx.AsyncClient, cid: str) -> None:
    response = await api.post(
        f"/v1/customers/{cid}/onboarding", json={"customer_name": "LinkedIn Fans Inc"}
    )
    assert response.status_code == 422
    assert paths(response) == ["customerName"]


async def test_unknown_integration_type_in_the_path(api: httpx.AsyncClient, cid: str) -> None:
    response = await api.post(f"/v1/customers/{cid}/integrations/NOPE/enable")
    assert response.status_code == 422
    assert paths(response) == ["path.integration_type"]


async def test_enable_of_an_unknown_customer_is_404(api: httpx.AsyncClient, cid: str) -> None:
    response = await api.post(f"/v1/customers/{cid}/integrations/PREMIUM_JOB_POSTING/enable")
    assert response.status_code == 404


async def test_widget_on_the_page_reaches_enabled(
    api: httpx.AsyncClient, api_url: str, sandbox: SandboxControl, cid: str
) -> None:
    started = await api.post(f"/v1/customers/{cid}/onboarding", json={"customer_name": "Globex"})
    assert started.status_code == 202
    assert started.json() == {"workflowIds": [f"integration/{cid}/PREMIUM_JOB_POSTING"]}

    async def integrations() -> list[dict[str, Any]]:
        return list((await api.get(f"/v1/customers/{cid}/integrations")).json())

    await eventually(integrations, lambda found: bool(found) and found[0]["clientId"])
    saved = await sandbox.widget_save(
        customerId=cid,
        integrationContext=CONTRACT,
        jobPosterEmail="boss@globex.com",
        callbackUrl=f"{api_url}/v1/customers/{cid}/widget-callback",
        callbackHeaders=AUTH,
    )
    assert saved.headers["x-sandbox-callback-status"] == "202"
    found = await eventually(integrations, lambda found: found[0]["status"] == "ENABLED")
    context = found[0]["contexts"][CONTRACT]
    assert [t["status"] for t in context["transitions"]] == ["REQUESTED", "ENABLED"]
    listed = await eventually(
        lambda: api.get("/v1/integrations", params={"status": "ENABLED"}),
        lambda r: any(i["customerId"] == cid for i in r.json()["items"]),
    )
    assert listed.status_code == 200


async def test_enable_answers_the_state(
    api: httpx.AsyncClient, sandbox: SandboxControl, cid: str
) -> None:
    await api.post(f"/v1/customers/{cid}/onboarding", json={"customer_name": "Globex"})
    await eventually(
        lambda: api.get(f"/v1/customers/{cid}/integrations"),
        lambda r: bool(r.json()) and r.json()[0]["clientId"],
    )
    await sandbox.widget_save(customerId=cid, integrationContext=CONTRACT, jobPosterEmail="a@b.co")
    response = await api.post(
        f"/v1/customers/{cid}/integrations/PREMIUM_JOB_POSTING/enable",
        json={"integration_context": CONTRACT},
    )
    assert response.status_code == 200
    assert response.json()["contexts"][CONTRACT]["status"] == "ENABLED"
    wrong = await api.post(
        f"/v1/customers/{cid}/integrations/PREMIUM_JOB_POSTING/enable",
        json={"integration_context": "urn:li:organization:1"},
    )
    assert wrong.status_code == 422 and "urn:li:contract:<id>" in wrong.json()["detail"]


async def enabled_customer(
    api: httpx.AsyncClient, api_url: str, sandbox: SandboxControl, cid: str
) -> None:
    await api.post(f"/v1/customers/{cid}/onboarding", json={"customer_name": "Globex"})
    await eventually(
        lambda: api.get(f"/v1/customers/{cid}/integrations"),
        lambda r: bool(r.json()) and r.json()[0]["clientId"],
    )
    await sandbox.widget_save(
        customerId=cid,
        integrationContext=CONTRACT,
        jobPosterEmail="boss@globex.com",
        callbackUrl=f"{api_url}/v1/customers/{cid}/widget-callback",
        callbackHeaders=AUTH,
    )
    await eventually(
        lambda: api.get(f"/v1/customers/{cid}/integrations"),
        lambda r: r.json()[0]["status"] == "ENABLED",
    )


def job_body(**overrides: Any) -> dict[str, Any]:
    from tests.jobs_support import DESCRIPTION, now_ms

    body = {
        "title": "Software Engineer",
        "description": DESCRIPTION,
        "companyApplyUrl": "https://careers.example.com/apply",
        "listedAt": now_ms() - 60_000,
        "location": "San Francisco, CA",
        "integrationContext": "urn:li:organization:42",
    }
    body.update(overrides)
    return body


async def test_a_job_through_its_whole_life_over_http(
    api: httpx.AsyncClient, api_url: str, sandbox: SandboxControl, cid: str
) -> None:
    await enabled_customer(api, api_url, sandbox, cid)
    path = f"/v1/customers/{cid}/jobs/req-42"

    accepted = await api.put(path, json=job_body())
    assert accepted.status_code == 202
    created = accepted.json()
    assert created["kind"] == "CREATE" and created["outcome"] == "QUEUED"
    outcome = await api.get(f"{path}/operations/{created['id']}")
    assert outcome.json()["outcome"] == "SUCCEEDED"
    assert outcome.json()["taskIds"][0].startswith("urn:li:simpleJobPostingTask:")
    basic = (await api.get(path)).json()
    assert basic["status"] == "LISTED" and basic["listingType"] == "BASIC"

    upgraded = await api.post(
        f"{path}/upgrade", params={"wait": "true"}, json={"contract": CONTRACT}
    )
    assert upgraded.status_code == 200 and upgraded.json()["outcome"] == "SUCCEEDED"
    state = (await api.get(path)).json()
    assert (state["jobId"], state["jobPostingUrl"]) == (
        basic["jobId"],
        basic["jobPostingUrl"],
    )

    renewed = await api.post(f"{path}/renew", params={"wait": "true"})
    assert renewed.json()["outcome"] == "SUCCEEDED"

    downgraded = await api.post(f"{path}/downgrade", params={"wait": "true"})
    assert downgraded.json()["outcome"] == "SUCCEEDED"
    state = (await api.get(path)).json()
    assert state["jobId"] != basic["jobId"]
    assert state["replacedListings"][0]["jobPostingUrl"] == basic["jobPostingUrl"]

    updated = await api.put(path, params={"wait": "true"}, json=job_body(title="Staff Engineer"))
    assert updated.json()["kind"] == "UPDATE" and updated.json()["outcome"] == "SUCCEEDED"

    closed = await api.post(f"{path}/close", params={"wait": "true"})
    assert closed.json()["outcome"] == "SUCCEEDED"
    listed = await eventually(
        lambda: api.get(f"/v1/customers/{cid}/jobs", params={"status": "CLOSED"}),
        lambda r: len(r.json()["items"]) == 1,
    )
    assert listed.json()["items"][0]["externalJobPostingId"] == "req-42"


async def test_bad_jobs_are_422_naming_the_field(api: httpx.AsyncClient, cid: str) -> None:
    path = f"/v1/customers/{cid}/jobs/req-1"
    response = await api.put(path, json=job_body(description="too short"))
    assert response.status_code == 422
    assert paths(response) == ["body.description"]
    budget = {"payForPerformanceTotalBudget": {"currencyCode": "USD", "amount": "12.345"}}
    response = await api.put(
        path, json=job_body(listingType="PREMIUM", contract=CONTRACT, budget=budget)
    )
    assert response.status_code == 422
    assert paths(response) == ["body.budget.payForPerformanceTotalBudget.amount"]
    response = await api.put(path, json=job_body(externalJobPostingId="other"))
    assert response.status_code == 422 and "must match the path" in response.json()["detail"]
    response = await api.post(f"/v1/customers/{cid}/jobs/nope/close")
    assert response.status_code == 404


# -- jobs: odd ids, idempotency keys, closed and unknown jobs, operators -------------------
ODD_ID = 'req/42 "ü\\%'


def job_path(customer_id: str, external_id: str) -> str:
    return f"/v1/customers/{quote(customer_id, safe='')}/jobs/{quote(external_id, safe='')}"


async def test_a_job_whose_id_holds_slashes_quotes_and_unicode_is_reachable(
    api: httpx.AsyncClient, api_url: str, sandbox: SandboxControl, cid: str
) -> None:
    await enabled_customer(api, api_url, sandbox, cid)
    path = job_path(cid, ODD_ID)
    created = await api.put(path, params={"wait": "true"}, json=job_body())
    assert created.status_code == 200, created.text
    state = (await api.get(path)).json()
    assert state["externalJobPostingId"] == ODD_ID and state["status"] == "LISTED"
    closed = await api.post(f"{path}/close", params={"wait": "true"})
    assert closed.status_code == 200
    listed = await api.get(f"/v1/customers/{cid}/jobs")
    assert ODD_ID in {job["externalJobPostingId"] for job in listed.json()["items"]}


async def test_idempotency_keys_closed_jobs_and_unknown_customers(
    api: httpx.AsyncClient, api_url: str, sandbox: SandboxControl, cid: str
) -> None:
    await enabled_customer(api, api_url, sandbox, cid)
    path = job_path(cid, "req-7")
    assert (await api.put(path, params={"wait": "true"}, json=job_body())).status_code == 200
    key = {"Idempotency-Key": "upgrade-req-7"}
    first = await api.post(
        f"{path}/upgrade", params={"wait": "true"}, json={"contract": CONTRACT}, headers=key
    )
    again = await api.post(
        f"{path}/upgrade", params={"wait": "true"}, json={"contract": CONTRACT}, headers=key
    )
    assert first.status_code == again.status_code == 200
    assert first.json()["id"] == again.json()["id"] == "upgrade-req-7"
    premium = [
        e
        for r in await sandbox.requests(JOB_POSTINGS)
        for e in r["body"]["elements"]
        if e.get("listingType") == "PREMIUM"
    ]
    assert len(premium) == 1

    closed = await api.post(f"{path}/close", params={"wait": "true"})
    assert (await api.post(f"{path}/close")).json()["id"] == closed.json()["id"]
    refused = await api.post(f"{path}/renew")
    assert refused.status_code == 409 and "CLOSED" in refused.json()["detail"]

    unknown = await api.put(job_path(f"{cid}-never", "req-1"), json=job_body())
    assert unknown.status_code == 404 and f"{cid}-never" in unknown.json()["detail"]


async def test_operators_cancel_a_parked_operation_and_failures_are_not_2xx(
    api: httpx.AsyncClient, api_url: str, sandbox: SandboxControl, cid: str
) -> None:
    await enabled_customer(api, api_url, sandbox, cid)
    path = job_path(cid, "req-9")
    await api.put(path, params={"wait": "true"}, json=job_body())
    parked = await api.post(
        f"{path}/upgrade", params={"wait": "true"}, json={"contract": "urn:li:contract:999"}
    )
    assert parked.status_code == 202 and parked.json()["outcome"] == "NEEDS_ATTENTION"
    operation = parked.json()["id"]
    cancelled = await api.post(f"{path}/cancel", params={"operationId": operation})
    assert cancelled.status_code == 202
    answer = await api.get(f"{path}/operations/{operation}")
    assert answer.json()["outcome"] == "CANCELLED"
    missing = await api.post(f"{path}/retry", params={"operationId": "nope"})
    assert missing.status_code == 404

    await sandbox.fail_next_tasks("Job location could not be resolved")
    failed = await api.put(path, params={"wait": "true"}, json=job_body(title="Another title"))
    assert failed.status_code == 422 and failed.json()["outcome"] == "FAILED"


async def test_a_made_up_cursor_is_422_at_once(api: httpx.AsyncClient, cid: str) -> None:
    for cursor in ("bm90LWEtY3Vyc29y", "%%%", "AAAAAAAAAAAAAAAAAAAA"):
        response = await api.get(f"/v1/customers/{cid}/jobs", params={"cursor": cursor})
        assert response.status_code == 422 and "cursor" in response.json()["detail"], cursor
