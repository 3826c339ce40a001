"""P4P reports: LinkedIn's partnerJobReports and partnerBudgetReports, read through our
client from a sandbox that accrues views, applies and spend day by day by its clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from domain.p4p_reports import BudgetReport, DateRange, JobReportPage, JobReportsByIds
from linkedin import LinkedInClient
from tests.conftest import Customer
from tests.jobs_support import valid_job
from tests.sandbox_control import SandboxControl
from tests.test_api import enabled_customer
from tests.test_p4p_end_to_end import p4p_job as p4p_body

FIXTURES = Path(__file__).parent / "fixtures" / "linkedin-sdk"
CONTRACT_ID = 67890
CONTRACT = f"urn:li:contract:{CONTRACT_ID}"
DAY = 24 * 3600


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def keys(value: Any, at: str = "") -> set[str]:
    """Every field path of a JSON value (list items as [])."""
    if isinstance(value, dict):
        found = set()
        for name, item in value.items():
            found |= {f"{at}.{name}"} | keys(item, f"{at}.{name}")
        return found
    if isinstance(value, list):
        return set().union(*(keys(item, f"{at}[]") for item in value)) if value else set()
    return set()


def p4p_job(external_id: str, amount: str = "275.00") -> Any:
    return valid_job(
        external_id,
        listing_type="PREMIUM",
        contract=CONTRACT,
        budget={"payForPerformanceTotalBudget": {"currencyCode": "USD", "amount": amount}},
    )


def test_linkedins_fixtures_read_into_our_models() -> None:
    page = JobReportPage.model_validate(
        fixture("P4PJobPerformanceReportsByDateSuccessResponse.json")
    )
    assert page.paging.total == 13 and len(page.elements) == 13
    info = page.elements[0].job_posting_info
    assert info is not None and info.linked_in_job_posting_id == 4219858473
    by_ids = JobReportsByIds.model_validate(
        fixture("P4PJobPerformanceReportsByIdsSuccessResponse.json")
    )
    assert list(by_ids.results) == ["112233445566"]
    budget = BudgetReport.model_validate(fixture("P4PPartnerBudgetReportResponse.json"))
    spent = budget.partner_budget_details[0].service_term_budget_spent
    assert spent is not None and spent.amount == "21.84"


async def test_the_sandbox_accrues_day_by_day_and_answers_in_linkedins_shapes(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer
) -> None:
    await linkedin.setup_hiring_contract(customer.creds, CONTRACT_ID)
    submitted = await linkedin.submit_jobs(
        customer.creds, [p4p_job("p4p-1"), p4p_job("p4p-2", amount="10.00"), valid_job("basic")]
    )
    assert all(s.task_id for s in submitted)
    clock = await sandbox.http.post("/sandbox/clock/advance", params={"seconds": 0})
    today = datetime.fromtimestamp(clock.json()["nowMs"] / 1000, UTC).date()
    week = DateRange(start=today - timedelta(days=1), end=today + timedelta(days=7))

    nothing_yet = await linkedin.job_reports_by_ids(customer.creds, ["p4p-1"], week)
    assert nothing_yet.results["p4p-1"].job_performance_metrics == []

    await sandbox.advance(3 * DAY)
    page = await linkedin.job_reports_by_date(customer.creds, week, partner_contract_id=CONTRACT_ID)
    assert page.paging.total == 2
    assert [
        e.job_posting_info.external_job_posting_id for e in page.elements if e.job_posting_info
    ] == [
        "p4p-1",
        "p4p-2",
    ]
    first = page.elements[0]
    assert len(first.job_performance_metrics) == 3
    assert all(
        m.view_count and m.apply_click_count is not None for m in first.job_performance_metrics
    )
    second = page.elements[1]
    spent = second.lifetime_job_budget_info
    assert spent is not None and spent.service_term_budget_spent is not None
    assert spent.service_term_budget_spent.amount == "10.00"  # never past its budget

    one_page = await linkedin.job_reports_by_date(customer.creds, week, start=1, count=1)
    assert [
        e.job_posting_info.external_job_posting_id for e in one_page.elements if e.job_posting_info
    ] == ["p4p-2"]

    by_ids = await linkedin.job_reports_by_ids(
        customer.creds, ["p4p-1", "basic", "a,b(c)"], week, partner_contract_id=CONTRACT_ID
    )
    assert list(by_ids.results) == ["p4p-1"] and set(by_ids.errors) == {"basic", "a,b(c)"}

    budget = await linkedin.budget_report(customer.creds, CONTRACT_ID)
    (details,) = budget.partner_budget_details
    charged = sum(
        float(m.charge.amount or 0)
        for e in page.elements
        for m in e.job_performance_metrics
        if m.charge
    )
    assert details.service_term_budget_spent is not None
    assert float(details.service_term_budget_spent.amount or 0) == round(charged, 2)

    # the answers hold every field LinkedIn's fixtures hold, in LinkedIn's names
    calls = await sandbox.requests("/rest/partnerJobReports")
    assert all(c["headers"]["linkedin-version"] == "202504" for c in calls)
    assert all(c["headers"]["x-restli-protocol-version"] == "2.0.0" for c in calls)
    token = (await linkedin.access_token(customer.creds)).get_secret_value()
    raw_page = (
        await sandbox.http.get(
            f"/rest/partnerJobReports?q=dateRange&dateRange={week.render()}",
            headers={"Authorization": f"Bearer {token}", "LinkedIn-Version": "202504"},
        )
    ).json()
    assert keys(fixture("P4PJobPerformanceReportsByDateSuccessResponse.json")) <= keys(raw_page)
    assert keys(fixture("P4PPartnerBudgetReportResponse.json")) <= keys(
        budget.model_dump(by_alias=True)
    )


@pytest.mark.usefixtures("worker")
async def test_a_p4p_jobs_performance_and_the_customers_budget_over_http(
    api: httpx.AsyncClient, api_url: str, sandbox: SandboxControl, cid: str
) -> None:
    await enabled_customer(api, api_url, sandbox, cid)
    none_yet = await api.get(f"/v1/customers/{cid}/budget")
    assert none_yet.status_code == 404 and "hiring contract" in none_yet.json()["detail"]
    setup = await api.post(
        f"/v1/customers/{cid}/hiring-contracts", json={"partner_contract_id": CONTRACT_ID}
    )
    assert setup.status_code == 200, setup.text
    path = f"/v1/customers/{cid}/jobs/req-42"
    posted = await api.put(path, params={"wait": "true"}, json=p4p_body(CONTRACT))
    assert posted.status_code == 200, posted.text

    await sandbox.advance(2 * DAY)
    clock = await sandbox.http.post("/sandbox/clock/advance", params={"seconds": 0})
    today = datetime.fromtimestamp(clock.json()["nowMs"] / 1000, UTC).date()
    start = (today - timedelta(days=5)).isoformat()
    found = await api.get(f"{path}/performance", params={"start": start, "end": today.isoformat()})
    assert found.status_code == 200, found.text
    performance = found.json()
    days = performance["report"]["jobPerformanceMetrics"]
    assert len(days) == 2
    assert performance["views"] == sum(d["viewCount"] for d in days) > 0
    assert performance["applyClicks"] == sum(d["applyClickCount"] for d in days)
    assert performance["charged"]["currencyCode"] == "USD"

    budget = await api.get(f"/v1/customers/{cid}/budget")
    assert budget.status_code == 200, budget.text
    (details,) = budget.json()["partnerBudgetDetails"]
    assert details["serviceTermBudgetSpent"] == performance["charged"]
    assert set(budget.json()) >= {"serviceTermStartAt", "serviceTermEndAt"}

    unknown = await api.get(f"/v1/customers/{cid}/jobs/nope/performance")
    assert unknown.status_code == 200 and unknown.json()["report"] is None
    backwards = await api.get(
        f"{path}/performance", params={"start": today.isoformat(), "end": start}
    )
    assert backwards.status_code == 422
    calls = await sandbox.requests("/rest/partnerJobReports")
    assert calls and all(c["headers"]["linkedin-version"] == "202504" for c in calls)
