"""Issue 8's done-when: a P4P customer from onboarding to a closed P4P job, over our HTTP API.

The only /sandbox/ call is the customer saving LinkedIn's widget: every other step goes
through our API to the sandbox as it would to LinkedIn.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.jobs_support import DESCRIPTION, now_ms
from tests.sandbox_control import JOB_POSTINGS, SandboxControl
from tests.temporal_support import eventually

AUTH = {"Authorization": "Bearer dev-token"}
PJP_CONTRACT = "urn:li:contract:555"
pytestmark = pytest.mark.usefixtures("worker")


def budget(amount: str) -> dict[str, Any]:
    return {"payForPerformanceTotalBudget": {"currencyCode": "USD", "amount": amount}}


def p4p_job(contract: str, **overrides: Any) -> dict[str, Any]:
    body = {
        "title": "Software Engineer",
        "description": DESCRIPTION,
        "companyApplyUrl": "https://careers.example.com/apply",
        "listedAt": now_ms() - 60_000,
        "location": "San Francisco, CA",
        "integrationContext": "urn:li:organization:42",
        "companyJobCode": "REQ-42",
        "listingType": "PREMIUM",
        "contract": contract,
        "budget": budget("275.00"),
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


async def test_a_p4p_customer_from_onboarding_to_a_closed_job_over_http(
    api: httpx.AsyncClient, api_url: str, sandbox: SandboxControl
) -> None:
    cid = f"p4p-{uuid.uuid4().hex[:8]}"

    # onboarding
    started = await api.post(f"/v1/customers/{cid}/onboarding", json={"customer_name": "Globex"})
    assert started.status_code == 202
    await eventually(
        lambda: api.get(f"/v1/customers/{cid}/integrations"),
        lambda r: bool(r.json()) and r.json()[0]["clientId"],
    )

    # widget: the customer saves it; LinkedIn's callback reaches our API (the one /sandbox/ call)
    saved = await sandbox.widget_save(
        customerId=cid,
        integrationContext=PJP_CONTRACT,
        jobPosterEmail="boss@globex.com",
        callbackUrl=f"{api_url}/v1/customers/{cid}/widget-callback",
        callbackHeaders=AUTH,
    )
    assert saved.headers["x-sandbox-callback-status"] == "202"
    await eventually(
        lambda: api.get(f"/v1/customers/{cid}/integrations"),
        lambda r: r.json()[0]["status"] == "ENABLED",
    )

    # hiring-contract setup
    setup = await api.post(
        f"/v1/customers/{cid}/hiring-contracts", json={"partner_contract_id": 67890}
    )
    assert setup.status_code == 200, setup.text
    contract = setup.json()["contract"]
    assert contract == "urn:li:contract:67890" and setup.json()["status"] == "SET_UP"
    again = await api.post(
        f"/v1/customers/{cid}/hiring-contracts", json={"partner_contract_id": 67890}
    )
    assert again.json() == setup.json()
    (integration,) = (await api.get(f"/v1/customers/{cid}/integrations")).json()
    assert integration["hiringContracts"]["67890"]["contract"] == contract

    # a P4P job needs companyJobCode, said before anything reaches LinkedIn
    path = f"/v1/customers/{cid}/jobs/req-42"
    refused = await api.put(path, json=p4p_job(contract, companyJobCode=None))
    assert refused.status_code == 422
    assert "companyJobCode: required for P4P jobs" in refused.text

    # P4P job → renew → close
    posted = await api.put(path, params={"wait": "true"}, json=p4p_job(contract))
    assert posted.status_code == 200 and posted.json()["outcome"] == "SUCCEEDED", posted.text
    listed = (await api.get(path)).json()
    assert listed["status"] == "LISTED" and listed["budget"] == budget("275.00")
    assert listed["promotionStatus"] == "PROMOTED"

    renewed = await api.post(
        f"{path}/renew", params={"wait": "true"}, json={"budget": budget("300.00")}
    )
    assert renewed.json()["outcome"] == "SUCCEEDED", renewed.text
    assert (await api.get(path)).json()["budget"] == budget("300.00")

    closed = await api.post(f"{path}/close", params={"wait": "true"})
    assert closed.json()["outcome"] == "SUCCEEDED", closed.text
    final = (await api.get(path)).json()
    assert final["status"] == "CLOSED" and final["listingStatus"] == "NOT_LISTED"
    assert final["jobPostingUrl"] == listed["jobPostingUrl"]

    # what LinkedIn was sent: a versioned setup call, versioned job calls, and a CLOSE
    # carrying the whole job but its budget (docs/jobs.md, "What a CLOSE carries")
    (setup_call,) = await sandbox.requests("/rest/provisionedHiringContracts")
    assert setup_call["headers"]["linkedin-version"] == "202504"
    assert setup_call["headers"]["x-restli-protocol-version"] == "2.0.0"
    job_calls = await sandbox.requests(JOB_POSTINGS)
    assert all(entry["headers"]["linkedin-version"] == "202504" for entry in job_calls)
    posted_elements = [element for entry in job_calls for element in entry["body"]["elements"]]
    assert [e["jobPostingOperationType"] for e in posted_elements] == ["CREATE", "RENEW", "CLOSE"]
    close = posted_elements[-1]
    for field in ("title", "description", "companyApplyUrl", "listedAt", "location"):
        assert close[field] == posted_elements[0][field]
    assert close["companyJobCode"] == "REQ-42" and close["contract"] == contract
    assert close["listingType"] == "PREMIUM"
    assert "budget" not in close and "expireAt" not in close


async def test_refusals_and_app_sync_over_http(
    api: httpx.AsyncClient, sandbox: SandboxControl
) -> None:
    cid = f"p4p-{uuid.uuid4().hex[:8]}"
    await sandbox.contract(999, kind="P4P", ownerClientId="another-app")
    refused = await api.post(
        f"/v1/customers/{cid}/hiring-contracts",
        json={"partner_contract_id": 999, "customer_name": "Globex"},
    )
    assert refused.status_code == 422
    assert "Contract urn:li:contract:999 is set up for another application" in refused.text
    bad = await api.post(f"/v1/customers/{cid}/hiring-contracts", json={"partner_contract_id": 0})
    assert bad.status_code == 422 and bad.json()["errors"][0]["path"].endswith(
        "partner_contract_id"
    )
    synced = await api.post(f"/v1/customers/{cid}/application/sync")
    assert synced.status_code == 200 and synced.json()["changed"] == []
    unknown = await api.post(f"/v1/customers/nobody-{cid}/application/sync")
    assert unknown.status_code == 404
