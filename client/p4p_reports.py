"""ReportsClient: what a pay-for-performance customer pays for, from LinkedIn's reports.

Each read is a short P4PReportWorkflow on the workers (they hold the customer's secret and
the per-application call budget); the answer is LinkedIn's report as LinkedIn shaped it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from temporalio.client import Client, WorkflowFailureError
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import ApplicationError

from client.errors import Refused
from client.integrations import IntegrationsClient
from client.jobs import UnknownCustomer
from client.offboarding import refuse_if_offboarding
from domain.errors import FailureType
from domain.integration_workflow import HIRING_CONTRACT_TYPE, HiringContractStatus
from domain.p4p_reports import (
    P4P_REPORT_WORKFLOW_TYPE,
    BudgetReport,
    BudgetRequest,
    DateRange,
    JobPerformance,
    JobPerformanceRequest,
    P4PReportAnswer,
    P4PReportRequest,
    p4p_report_workflow_id,
)
from workflows.search_attributes import CUSTOMER_ID

DEFAULT_REPORT_DAYS = 30
"""The date range when none is given: the last 30 days, today included."""

READ_TIMEOUT = timedelta(minutes=2)
"""The most a report read may take, retries included (the activity gives up at 90 s)."""

REFUSALS = {
    FailureType.CREDENTIALS_MISSING: "NotFound",
    FailureType.NOT_FOUND: "NotFound",
    FailureType.VALIDATION: "InvalidOperation",
    FailureType.FORBIDDEN: "OperationConflict",
    FailureType.PAYMENT_REQUIRED: "OperationConflict",
}
"""LinkedIn's refusal as the API's: anything else (transient for 90 s, unreadable) is 503."""


def date_range(start: date | None, end: date | None, today: date | None = None) -> DateRange:
    """Both ends given, or the last DEFAULT_REPORT_DAYS days up to `end` (today)."""
    end = end or today or datetime.now(UTC).date()
    start = start or end - timedelta(days=DEFAULT_REPORT_DAYS - 1)
    return DateRange(start=start, end=end)


class ReportsClient:
    def __init__(
        self, temporal: Client, integrations: IntegrationsClient, *, task_queue: str
    ) -> None:
        self._temporal = temporal
        self._integrations = integrations
        self._task_queue = task_queue

    async def job_performance(
        self,
        customer_id: str,
        external_id: str,
        dates: DateRange,
        partner_contract_id: int | None = None,
    ) -> JobPerformance:
        """One job's daily views, apply clicks and charge, with their totals."""
        request = JobPerformanceRequest(
            customer_id=customer_id,
            external_job_posting_id=external_id,
            date_range=dates,
            partner_contract_id=partner_contract_id,
        )
        answer = await self._read(customer_id, P4PReportRequest(job=request))
        assert answer.job is not None
        return answer.job

    async def budget(
        self, customer_id: str, partner_contract_id: int | None = None
    ) -> BudgetReport:
        """The P4P contract's service term and what it spent of its limit; the customer's
        one hiring contract when none is named."""
        contract = partner_contract_id or await self._hiring_contract(customer_id)
        request = BudgetRequest(customer_id=customer_id, partner_contract_id=contract)
        answer = await self._read(customer_id, P4PReportRequest(budget=request))
        assert answer.budget is not None
        return answer.budget

    async def _hiring_contract(self, customer_id: str) -> int:
        summaries = await self._integrations.list_integrations(customer_id=customer_id)
        if not summaries:
            raise UnknownCustomer(customer_id)
        if not any(s.integration_type == HIRING_CONTRACT_TYPE for s in summaries):
            raise Refused(f"customer {customer_id!r} has no P4P hiring contract", "NotFound")
        state = await self._integrations.integration_state(customer_id, HIRING_CONTRACT_TYPE)
        set_up = sorted(
            int(c.partner_contract_id)
            for c in state.hiring_contracts.values()
            if c.status == HiringContractStatus.SET_UP
        )
        if not set_up:
            raise Refused(f"customer {customer_id!r} has no P4P hiring contract", "NotFound")
        if len(set_up) > 1:
            raise Refused(
                f"partnerContractId: required, the customer has {len(set_up)} contracts "
                f"({', '.join(map(str, set_up[:10]))})",
                "InvalidOperation",
            )
        return set_up[0]

    async def _read(self, customer_id: str, request: P4PReportRequest) -> P4PReportAnswer:
        await refuse_if_offboarding(self._temporal, customer_id)
        try:
            answer: P4PReportAnswer = await self._temporal.execute_workflow(
                P4P_REPORT_WORKFLOW_TYPE,
                request,
                id=p4p_report_workflow_id(customer_id, str(uuid.uuid4())),
                task_queue=self._task_queue,
                execution_timeout=READ_TIMEOUT,
                result_type=P4PReportAnswer,
                search_attributes=TypedSearchAttributes(
                    [SearchAttributePair(CUSTOMER_ID, customer_id)]
                ),
            )
        except WorkflowFailureError as failure:
            raise _refusal(failure) from None
        return answer


def _refusal(failure: WorkflowFailureError) -> Refused:
    cause: BaseException | None = failure.cause
    while cause is not None and not isinstance(cause, ApplicationError):
        cause = cause.__cause__
    if isinstance(cause, ApplicationError):
        known = {str(f): f for f in FailureType}
        failure_type = known.get(cause.type or "")
        reason = REFUSALS.get(failure_type, "Unavailable") if failure_type else "Unavailable"
        return Refused(f"LinkedIn's P4P report: {cause.message}", reason)
    return Refused("LinkedIn's P4P report could not be read; try again", "Unavailable")
