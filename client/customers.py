"""CustomersClient: a customer read whole, and every customer a page at a time.

What it shows comes from the customer's integration workflows (read through
IntegrationsClient) and from its jobs' search attributes (counted, never queried one by one).
"""

from __future__ import annotations

import asyncio

from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from client.integrations import IntegrationsClient, IntegrationSummary
from client.jobs import UnknownCustomer
from client.offboarding import offboarding_state, offboarding_status, start_offboarding
from client.pages import page
from domain.customers import (
    Customer,
    CustomerApp,
    CustomerIntegration,
    CustomerPage,
    CustomerStatus,
    CustomerSummary,
    JobCounts,
    headline,
    last_change,
    representative,
    with_offboarding,
)
from domain.integration_workflow import (
    INTEGRATION_WORKFLOW_TYPE,
    ContextStatus,
    integration_workflow_id,
)
from domain.integrations import IntegrationType
from domain.job_workflow import JOB_WORKFLOW_TYPE, JobStatus
from domain.offboarding import OffboardingState
from domain.visibility import where

MAX_PAGE_SIZE = 100
"""Customers a page at most: each listed customer costs one visibility query of its own."""


def _integrations(summaries: list[IntegrationSummary]) -> list[CustomerIntegration]:
    return sorted(
        (
            CustomerIntegration(
                integration_type=s.integration_type,
                status=s.status or ContextStatus.NOT_CONNECTED,
                workflow_id=s.workflow_id,
            )
            for s in summaries
        ),
        key=lambda i: i.workflow_id,
    )


class CustomersClient:
    """Reads customers and offboards them (onboarding is IntegrationsClient's)."""

    def __init__(
        self,
        temporal: Client,
        integrations: IntegrationsClient,
        *,
        task_queue: str,
        ats_name: str = "Acme ATS",
        webhooks: bool = False,
    ) -> None:
        self._temporal = temporal
        self._integrations = integrations
        self._task_queue = task_queue
        self._ats_name = ats_name
        self._webhooks = webhooks

    async def customer(self, customer_id: str) -> Customer:
        """The customer whole: integrations, app, job counts, its offboarding's progress;
        UnknownCustomer if it was never onboarded."""
        summaries = await self._integrations.list_integrations(customer_id=customer_id)
        offboarding = await offboarding_state(self._temporal, customer_id)
        if not summaries:
            if offboarding is None:
                raise UnknownCustomer(customer_id)
            return with_offboarding(
                Customer(
                    customer_id=customer_id,
                    status=CustomerStatus.OFFBOARDED,
                    integrations=[],
                    jobs=await self.job_counts(customer_id),
                    created_at=offboarding.started_at,
                    updated_at=offboarding.finished_at or offboarding.started_at,
                ),
                offboarding,
            )
        states = [
            await self._integrations.integration_state(customer_id, s.integration_type)
            for s in summaries
        ]
        created = min((s.started_at for s in summaries if s.started_at), default=None)
        client_id = next((s.client_id for s in states if s.client_id), None)
        found = Customer(
            customer_id=customer_id,
            customer_name=states[0].customer_name,
            status=headline(s.status for s in states),
            integrations=[
                CustomerIntegration(
                    integration_type=s.integration_type,
                    status=s.status,
                    workflow_id=summary.workflow_id,
                )
                for summary, s in sorted(
                    zip(summaries, states, strict=True), key=lambda p: p[0].workflow_id
                )
            ],
            app=CustomerApp(client_id=client_id) if client_id else None,
            jobs=await self.job_counts(customer_id),
            created_at=created,
            updated_at=last_change(states, created),
        )
        return with_offboarding(found, offboarding)

    async def offboard(self, customer_id: str, *, erase: bool = True) -> OffboardingState:
        """Start the customer's offboarding (its jobs closed at LinkedIn, its app retired,
        its integrations ended, then erasure), or answer the one under way or done: twice
        is a no-op. A customer onboarded again after one is offboarded anew."""
        summaries = await self._integrations.list_integrations(customer_id=customer_id)
        status = await offboarding_status(self._temporal, customer_id)
        if not summaries and status not in (None, WorkflowExecutionStatus.RUNNING):
            done = await offboarding_state(self._temporal, customer_id)
            assert done is not None
            return done
        if not summaries and status is None and not await self._started_just_now(customer_id):
            raise UnknownCustomer(customer_id)
        return await start_offboarding(
            self._temporal,
            customer_id,
            task_queue=self._task_queue,
            ats_name=self._ats_name,
            erase=erase,
            webhooks=self._webhooks,
        )

    async def _started_just_now(self, customer_id: str) -> bool:
        """Whether an integration of the customer runs that the listing (visibility, which
        lags) does not show yet: onboarded a moment ago, then offboarded."""
        for integration_type in IntegrationType:
            handle = self._temporal.get_workflow_handle(
                integration_workflow_id(customer_id, integration_type)
            )
            try:
                described = await handle.describe()
            except RPCError as error:
                if error.status != RPCStatusCode.NOT_FOUND:
                    raise
                continue
            if described.status == WorkflowExecutionStatus.RUNNING:
                return True
        return False

    async def job_counts(self, customer_id: str) -> JobCounts:
        """The customer's jobs by status, one count query per status (closed ones too)."""
        counted = await asyncio.gather(
            *(self._count_jobs(customer_id, status) for status in JobStatus)
        )
        by_status = {status: n for status, n in zip(JobStatus, counted, strict=True) if n}
        return JobCounts(total=sum(by_status.values()), by_status=by_status)

    async def _count_jobs(self, customer_id: str, status: JobStatus) -> int:
        listing = where(WorkflowType=JOB_WORKFLOW_TYPE, CustomerId=customer_id, JobStatus=status)
        if not listing.exact:
            return (await self._temporal.count_workflows(listing.query)).count
        # An id with a quote or backslash: listed by its safe prefix, matched here.
        return sum(
            [
                1
                async for execution in self._temporal.list_workflows(listing.query)
                if listing.admits(execution.search_attributes)
            ]
        )

    async def customers_page(
        self,
        *,
        status: CustomerStatus | None = None,
        page_size: int = MAX_PAGE_SIZE,
        cursor: str | None = None,
    ) -> CustomerPage:
        """One page of customers, by headline status. The pages walk the integration
        workflows; a customer is listed at its representative integration (among those in
        the status asked for), so once over all pages."""
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size: must be 1 to {MAX_PAGE_SIZE}")
        listing = where(
            WorkflowType=INTEGRATION_WORKFLOW_TYPE,
            ExecutionStatus="Running",
            IntegrationStatus=status if status in ContextStatus.__members__ else None,
        )
        executions, next_cursor = await page(self._temporal, listing.query, page_size, cursor)
        items: list[CustomerSummary] = []
        known: dict[str, list[IntegrationSummary]] = {}
        for execution in executions:
            raw_id = execution.search_attributes.get("CustomerId")
            if not raw_id:
                continue  # started by hand without attributes
            customer = str(raw_id[0])
            if customer not in known:
                known[customer] = await self._integrations.list_integrations(customer_id=customer)
            siblings = _integrations(known[customer])
            headline_status = headline(i.status for i in siblings)
            if not siblings or (status is not None and headline_status != status):
                continue
            candidates = [i for i in siblings if status is None or str(i.status) == status]
            if representative(candidates).workflow_id != execution.id:
                continue  # listed at another of its integrations
            items.append(
                CustomerSummary(
                    customer_id=customer,
                    status=headline_status,
                    integrations=siblings,
                    created_at=min(
                        (s.started_at for s in known[customer] if s.started_at), default=None
                    ),
                )
            )
        return CustomerPage(items=items, next_cursor=next_cursor)
