"""Reading LinkedIn's P4P reports for a customer, within its app's call budget."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

from temporalio import activity

from activities.credentials import CredentialStore, customer_credentials
from activities.errors import linkedin_errors
from activities.rate_limits import CallBudget
from domain.p4p_reports import (
    READ_BUDGET_REPORT,
    READ_JOB_PERFORMANCE,
    BudgetReport,
    BudgetRequest,
    JobPerformance,
    JobPerformanceRequest,
    totals,
)
from linkedin import LinkedInClient
from linkedin.errors import TransientLinkedInError

T = TypeVar("T")

JOB_REPORTS = "partnerJobReports"
BUDGET_REPORTS = "partnerBudgetReports"


class P4PReportActivities:
    def __init__(
        self, linkedin: LinkedInClient, store: CredentialStore, budget: CallBudget
    ) -> None:
        self._linkedin = linkedin
        self._store = store
        self._budget = budget

    @activity.defn(name=READ_JOB_PERFORMANCE)
    async def read_job_performance(self, request: JobPerformanceRequest) -> JobPerformance:
        """One job's report by its externalJobPostingId (partnerJobReports by ids)."""
        creds = await customer_credentials(self._store, request.customer_id)
        external_id = request.external_job_posting_id
        with_totals = JobPerformance(
            external_job_posting_id=external_id, date_range=request.date_range
        )
        answer = await self._call(
            creds.client_id,
            JOB_REPORTS,
            self._linkedin.job_reports_by_ids(
                creds,
                [external_id],
                request.date_range,
                partner_contract_id=request.partner_contract_id,
            ),
        )
        report = answer.results.get(external_id)
        if report is None:
            return with_totals
        views, applies, charged = totals(report)
        return with_totals.model_copy(
            update={"report": report, "views": views, "apply_clicks": applies, "charged": charged}
        )

    @activity.defn(name=READ_BUDGET_REPORT)
    async def read_budget_report(self, request: BudgetRequest) -> BudgetReport:
        creds = await customer_credentials(self._store, request.customer_id)
        return await self._call(
            creds.client_id,
            BUDGET_REPORTS,
            self._linkedin.budget_report(creds, request.partner_contract_id),
        )

    async def _call(self, client_id: str, endpoint: str, call: Awaitable[T]) -> T:
        """One call in the application's budget (as the batcher makes job calls): a 429's
        Retry-After holds the endpoint back for every later call, not just this one."""
        async with linkedin_errors():
            try:
                await self._budget.acquire(client_id, endpoint)
            except BaseException:
                if asyncio.iscoroutine(call):
                    call.close()
                raise
            try:
                return await call
            except TransientLinkedInError as error:
                if error.status == 429 and error.retry_after is not None:
                    self._budget.throttled(client_id, endpoint, error.retry_after)
                raise
