"""P4P reports: what a pay-for-performance customer pays for, as LinkedIn reports it.

Each read goes to LinkedIn through the workers (partnerJobReports, partnerBudgetReports),
with their retries and per-application call budget: a read LinkedIn keeps failing is a
503 after about 90 seconds.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from api import errors
from api.deps import CustomerId, ExternalJobPostingId, Reports
from client.p4p_reports import date_range
from domain.p4p_reports import BudgetReport, JobPerformance

router = APIRouter(tags=["p4p"])

ContractId = Annotated[
    int | None,
    Query(
        alias="partnerContractId",
        gt=0,
        description="LinkedIn's partnerContractId; the customer's one hiring contract if left out.",
    ),
]


@router.get(
    "/v1/customers/{customer_id}/jobs/{external_job_posting_id}/performance",
    responses=errors.problems(404, 503),
)
async def get_job_performance(
    customer_id: CustomerId,
    external_job_posting_id: ExternalJobPostingId,
    client: Reports,
    start: Annotated[date | None, Query(description="First day (UTC), included.")] = None,
    end: Annotated[date | None, Query(description="Last day (UTC), included; today.")] = None,
    partner_contract_id: ContractId = None,
) -> JobPerformance:
    """The job's views, apply clicks and charge per day (LinkedIn's partnerJobReports) and
    their totals; the last 30 days unless start and end say otherwise (at most 366)."""
    return await client.job_performance(
        customer_id, external_job_posting_id, date_range(start, end), partner_contract_id
    )


@router.get("/v1/customers/{customer_id}/budget", responses=errors.problems(404, 422, 503))
async def get_budget(
    customer_id: CustomerId, client: Reports, partner_contract_id: ContractId = None
) -> BudgetReport:
    """The P4P contract's service term, budget limit and what it has spent
    (LinkedIn's partnerBudgetReports)."""
    return await client.budget(customer_id, partner_contract_id)
