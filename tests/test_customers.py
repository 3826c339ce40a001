"""The customer as a resource: one customer's integrations, app and jobs; every customer."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.sandbox_control import SandboxControl
from tests.temporal_support import eventually
from tests.test_api import enabled_customer, job_body, job_path

pytestmark = pytest.mark.usefixtures("worker")


async def test_a_customer_shows_its_integrations_app_and_job_counts(
    api: httpx.AsyncClient, api_url: str, sandbox: SandboxControl, cid: str
) -> None:
    await enabled_customer(api, api_url, sandbox, cid)
    for job in ("req-1", "req-2"):
        put = await api.put(job_path(cid, job), params={"wait": "true"}, json=job_body())
        assert put.status_code == 200, put.text
    closed = await api.post(f"{job_path(cid, 'req-2')}/close", params={"wait": "true"})
    assert closed.status_code == 200

    found = await eventually(
        lambda: api.get(f"/v1/customers/{cid}"),
        lambda r: (
            r.status_code == 200
            and r.json()["jobs"]["total"] == 2
            and r.json()["jobs"]["byStatus"].get("CLOSED") == 1
        ),
    )
    customer = found.json()
    integrations = (await api.get(f"/v1/customers/{cid}/integrations")).json()
    assert customer["customerId"] == cid
    assert customer["customerName"] == "Globex"
    assert customer["status"] == "ENABLED"
    assert customer["integrations"] == [
        {
            "integrationType": "PREMIUM_JOB_POSTING",
            "status": "ENABLED",
            "workflowId": f"integration/{cid}/PREMIUM_JOB_POSTING",
        }
    ]
    assert customer["app"] == {"clientId": integrations[0]["clientId"]}
    assert customer["jobs"]["byStatus"] == {"LISTED": 1, "CLOSED": 1}
    assert customer["createdAt"] <= customer["updatedAt"]


async def test_an_unknown_customer_is_404(api: httpx.AsyncClient, cid: str) -> None:
    response = await api.get(f"/v1/customers/{cid}")
    assert response.status_code == 404 and cid in response.json()["detail"]


async def all_customers(api: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = await api.get(
            "/v1/customers", params={**params, **({"cursor": cursor} if cursor else {})}
        )
        assert page.status_code == 200, page.text
        assert len(page.json()["items"]) <= int(params.get("pageSize", 100))
        found += page.json()["items"]
        if (cursor := page.json().get("nextCursor")) is None:
            return found


async def test_customers_list_once_each_a_page_at_a_time_filtered_by_status(
    api: httpx.AsyncClient, cid: str
) -> None:
    plain, bundle = f"{cid}-plain", f"{cid}-bundle"
    await api.post(f"/v1/customers/{plain}/onboarding", json={"customer_name": "Plain"})
    await api.post(
        f"/v1/customers/{bundle}/onboarding",
        json={
            "customer_name": "Bundle",
            "integration_types": ["PREMIUM_JOB_POSTING", "RECRUITER_SYSTEM_CONNECT_COMPANY"],
        },
    )

    def ours(customers: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        return {c["customerId"]: c for c in customers if c["customerId"] in (plain, bundle)}

    listed = await eventually(
        lambda: all_customers(api, pageSize=2),
        lambda found: len(ours(found)) == 2 and len(ours(found)[bundle]["integrations"]) == 4,
    )
    ids = [c["customerId"] for c in listed]
    assert len(ids) == len(set(ids)), "a customer listed twice"
    assert ours(listed)[plain]["status"] == "NOT_CONNECTED"
    assert sorted(i["integrationType"] for i in ours(listed)[bundle]["integrations"]) == [
        "IN_ATS_INDICATOR",
        "ONE_CLICK_EXPORT",
        "PREMIUM_JOB_POSTING",
        "PROFILE_PLUGIN",
    ]
    not_connected = await all_customers(api, status="NOT_CONNECTED", pageSize=3)
    assert set(ours(not_connected)) == {plain, bundle}
    assert all(c["status"] == "NOT_CONNECTED" for c in not_connected)
    enabled = await all_customers(api, status="ENABLED")
    assert ours(enabled) == {}
    bad = await api.get("/v1/customers", params={"status": "NOPE"})
    assert bad.status_code == 422
