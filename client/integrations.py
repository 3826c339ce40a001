"""IntegrationsClient: what an ATS back end calls to onboard customers to LinkedIn."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from pydantic import BaseModel, Field, TypeAdapter
from temporalio.client import Client, WorkflowHandle
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDConflictPolicy

from client.offboarding import refuse_if_offboarding
from client.pages import page
from client.reads import query
from domain.documents import Document
from domain.integration_workflow import (
    HIRING_CONTRACT_TYPE,
    INTEGRATION_LABEL,
    INTEGRATION_WORKFLOW_TYPE,
    MAX_CONTEXTS,
    ApplicationSync,
    ContextStatus,
    CustomerId,
    EnableRequest,
    HiringContractRequest,
    HiringContractState,
    IntegrationInput,
    IntegrationState,
    WidgetSave,
    integration_workflow_id,
)
from domain.integrations import IntegrationType, WidgetCallback, integration_types
from domain.visibility import first, where
from workflows.search_attributes import CUSTOMER_ID, INTEGRATION_TYPE

_CUSTOMER_ID: TypeAdapter[str] = TypeAdapter(CustomerId)


def customer_id_checked(customer_id: str) -> str:
    """The customer id, or a ValidationError naming the rule it breaks (an API's 422)."""
    return _CUSTOMER_ID.validate_python(customer_id)


class WidgetValues(BaseModel):
    """One widget callback: at most MAX_CONTEXTS values, each checked."""

    values: list[WidgetCallback] = Field(max_length=MAX_CONTEXTS)


class IntegrationSummary(Document):
    """One integration workflow as the list shows it, from its search attributes."""

    workflow_id: str
    customer_id: str
    integration_type: IntegrationType
    status: ContextStatus | None
    started_at: datetime | None = None


class IntegrationsSettings(Protocol):
    """What building an IntegrationsClient needs of the process's settings."""

    task_queue: str
    ats_name: str
    verify_interval_seconds: float
    webhooks: bool


class IntegrationsClient:
    """Starts, signals, updates and queries CustomerIntegrationWorkflows."""

    def __init__(
        self,
        temporal: Client,
        *,
        task_queue: str,
        ats_name: str = "Acme ATS",
        verify_interval: timedelta = timedelta(hours=24),
        webhooks: bool = False,
    ) -> None:
        self._temporal = temporal
        self._task_queue = task_queue
        self._ats_name = ats_name
        self._verify_interval = verify_interval
        self._webhooks = webhooks

    @classmethod
    def from_settings(cls, temporal: Client, settings: IntegrationsSettings) -> IntegrationsClient:
        """The client the process's settings describe (API, CLI and demo share it)."""
        return cls(
            temporal,
            task_queue=settings.task_queue,
            ats_name=settings.ats_name,
            verify_interval=timedelta(seconds=settings.verify_interval_seconds),
            webhooks=settings.webhooks,
        )

    def _input(
        self, customer_id: str, customer_name: str | None, integration_type: IntegrationType
    ) -> IntegrationInput:
        return IntegrationInput(
            customer_id=customer_id,
            customer_name=customer_name or customer_id,
            integration_type=integration_type,
            ats_name=self._ats_name,
            verify_interval=self._verify_interval,
            webhooks=self._webhooks,
        )

    async def _start(
        self,
        customer_id: str,
        customer_name: str | None,
        integration_type: IntegrationType,
        **signal: Any,
    ) -> str:
        """Start the integration's workflow, or reach the running one (USE_EXISTING).

        Its search attributes are set at start, so it lists before its first task ran.
        Refused (409) while the customer is being offboarded.
        """
        await refuse_if_offboarding(self._temporal, customer_id)
        handle = await self._temporal.start_workflow(
            INTEGRATION_WORKFLOW_TYPE,
            self._input(customer_id, customer_name, integration_type),
            id=integration_workflow_id(customer_id, integration_type),
            task_queue=self._task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(CUSTOMER_ID, customer_id),
                    SearchAttributePair(INTEGRATION_TYPE, str(integration_type)),
                ]
            ),
            static_summary=_summary(customer_name or customer_id, integration_type),
            **signal,
        )
        return handle.id

    async def start_onboarding(
        self,
        customer_id: str,
        customer_name: str,
        types: Iterable[str] = (IntegrationType.PREMIUM_JOB_POSTING,),
    ) -> list[str]:
        """Start one workflow per integration type; starting again is harmless.

        A plugin bundle (RECRUITER_SYSTEM_CONNECT_COMPANY, …) starts one per type it enables.
        """
        return [
            await self._start(customer_id, customer_name, integration_type)
            for integration_type in integration_types(types)
        ]

    async def setup_hiring_contract(
        self, customer_id: str, partner_contract_id: int, customer_name: str | None = None
    ) -> HiringContractState:
        """Activate the customer's app for a P4P contract, durably and once (seed 002).

        Recorded on the customer's job-posting integration workflow, started if need be.
        Answers SET_UP with the contract URN P4P jobs post on, or PENDING while LinkedIn
        does not answer (the workflow keeps trying); a refusal fails the update.
        """
        request = HiringContractRequest(partner_contract_id=partner_contract_id)
        await self._start(customer_id, customer_name, HIRING_CONTRACT_TYPE)
        handle = self._handle(customer_id, HIRING_CONTRACT_TYPE)
        record: HiringContractState = await handle.execute_update(
            "setup_hiring_contract", request, result_type=HiringContractState
        )
        return record

    async def sync_applications(self, customer_id: str | None = None) -> dict[str, ApplicationSync]:
        """Bring customers' apps in line with the settings (widget domains, callback URLs).

        One workflow per customer makes the provisioning update call, only when LinkedIn's
        values differ: running it again changes nothing.
        """
        by_customer: dict[str, str] = {}
        for summary in await self.list_integrations(customer_id=customer_id):
            by_customer.setdefault(summary.customer_id, summary.workflow_id)
        return {
            customer: await self._temporal.get_workflow_handle(workflow_id).execute_update(
                "sync_application", result_type=ApplicationSync
            )
            for customer, workflow_id in sorted(by_customer.items())
        }

    async def widget_saved(
        self,
        customer_id: str,
        values: Sequence[dict[str, Any]],
        customer_name: str | None = None,
    ) -> list[str]:
        """Hand the widget's callback values to each integration's workflow.

        Signal-with-start: the callback may come before or after onboarding started.
        Values are validated here first, so a caller hears about bad input at once.
        """
        customer_id_checked(customer_id)
        callbacks = WidgetValues.model_validate({"values": list(values)}).values
        by_type: dict[IntegrationType, list[dict[str, Any]]] = defaultdict(list)
        for raw, callback in zip(values, callbacks, strict=True):
            by_type[callback.integration_type].append(raw)
        return [
            await self._start(
                customer_id,
                customer_name,
                integration_type,
                start_signal="widget_saved",
                start_signal_args=[WidgetSave(values=group)],
            )
            for integration_type, group in by_type.items()
        ]

    def _handle(
        self, customer_id: str, integration_type: IntegrationType
    ) -> WorkflowHandle[Any, Any]:
        return self._temporal.get_workflow_handle(
            integration_workflow_id(customer_id, integration_type)
        )

    async def enable(
        self,
        customer_id: str,
        integration_type: IntegrationType = IntegrationType.PREMIUM_JOB_POSTING,
        integration_context: str | None = None,
    ) -> IntegrationState:
        """Enable and verify now, and answer the resulting state."""
        await refuse_if_offboarding(self._temporal, customer_id)
        state: IntegrationState = await self._handle(customer_id, integration_type).execute_update(
            "enable",
            EnableRequest(integration_context=integration_context),
            result_type=IntegrationState,
        )
        return state

    async def retry(self, customer_id: str, integration_type: IntegrationType) -> None:
        await self._handle(customer_id, integration_type).signal("retry")

    async def integration_state(
        self,
        customer_id: str,
        integration_type: IntegrationType = IntegrationType.PREMIUM_JOB_POSTING,
    ) -> IntegrationState:
        return await query(self._handle(customer_id, integration_type), "state", IntegrationState)

    async def list_integrations(
        self, *, status: ContextStatus | None = None, customer_id: str | None = None
    ) -> list[IntegrationSummary]:
        """Every integration by status and customer, from the search attributes."""
        found: list[IntegrationSummary] = []
        cursor: str | None = None
        while True:
            page_ = await self.integrations_page(
                status=status, customer_id=customer_id, page_size=1000, cursor=cursor
            )
            found += page_.items
            if (cursor := page_.next_cursor) is None:
                return sorted(found, key=lambda s: s.workflow_id)

    async def integrations_page(
        self,
        *,
        status: ContextStatus | None = None,
        customer_id: str | None = None,
        page_size: int = 100,
        cursor: str | None = None,
    ) -> IntegrationPage:
        """One page of integrations, from one visibility query."""
        listing = where(
            WorkflowType=INTEGRATION_WORKFLOW_TYPE,
            ExecutionStatus="Running",
            IntegrationStatus=ContextStatus(status) if status else None,
            CustomerId=customer_id,
        )
        executions, next_cursor = await page(self._temporal, listing.query, page_size, cursor)
        items = []
        for execution in executions:
            attributes = execution.search_attributes
            customer = first(attributes.get("CustomerId"))
            kind = first(attributes.get("IntegrationType"))
            if not listing.admits(attributes) or customer is None or kind is None:
                continue  # started by hand without attributes: listed once its first task ran
            raw_status = first(attributes.get("IntegrationStatus"))
            items.append(
                IntegrationSummary(
                    workflow_id=execution.id,
                    customer_id=str(customer),
                    integration_type=IntegrationType(str(kind)),
                    status=ContextStatus(raw_status) if raw_status else None,
                    started_at=execution.start_time,
                )
            )
        return IntegrationPage(items=items, next_cursor=next_cursor)


class IntegrationPage(Document):
    items: list[IntegrationSummary]
    next_cursor: str | None = None
    """Pass as `cursor` for the next page; None on the last one."""


def _summary(customer_name: str, integration_type: IntegrationType) -> str:
    """The line the Temporal UI shows for the workflow."""
    return f"{customer_name}: {INTEGRATION_LABEL[integration_type]} on LinkedIn"
