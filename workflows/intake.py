"""LinkedInIntakeWorkflow: one group commit of what LinkedIn sent, handed to each item's
own workflow.

The API answers LinkedIn once this workflow's start is durable (domain/intake.py says
why one start for many). Here each event becomes its LinkedInEventWorkflow and each
application its ApplicationWorkflow, started as children that outlive this one (ABANDON):
their ids are what refuses a redelivery, exactly as when the API started them itself, and a
resync's bytes that meet their open workflow tell it they came again (ASKED_AGAIN)."""

from __future__ import annotations

import asyncio

from temporalio import workflow
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import FailureError, WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from domain.applications import (
        APPLICATION_WORKFLOW_TYPE,
        ReceivedApplication,
        application_workflow_id,
    )
    from domain.intake import LINKEDIN_INTAKE_WORKFLOW_TYPE, IntakeBatch, IntakeOutcome
    from domain.linkedin_events import (
        ASKED_AGAIN,
        LINKEDIN_EVENT_WORKFLOW_TYPE,
        AskedAgain,
        EventOutcome,
        EventType,
        ReceivedEvent,
        linkedin_event_workflow_id,
    )
    from workflows.search_attributes import (
        CUSTOMER_ID,
        EXTERNAL_JOB_POSTING_ID,
        LINKEDIN_EVENT_OUTCOME,
        LINKEDIN_EVENT_TYPE,
    )


@workflow.defn(name=LINKEDIN_INTAKE_WORKFLOW_TYPE)
class LinkedInIntakeWorkflow:
    @workflow.run
    async def run(self, batch: IntakeBatch) -> IntakeOutcome:
        started = await asyncio.gather(
            *(_event(event) for event in batch.events),
            *(_application(application) for application in batch.applications),
        )
        outcome = IntakeOutcome(started=sum(started), already_there=len(started) - sum(started))
        workflow.set_current_details(
            f"{outcome.started} started, {outcome.already_there} already there"
        )
        return outcome


async def _event(event: ReceivedEvent) -> bool:
    """Whether the event started its workflow; False when the same bytes are still open."""
    kind = event.body.get("type")
    attributes = [
        SearchAttributePair(LINKEDIN_EVENT_TYPE, str(kind)[:100] if kind else "UNKNOWN"),
        SearchAttributePair(LINKEDIN_EVENT_OUTCOME, str(EventOutcome.RECEIVED)),
    ]
    if event.customer_id:
        attributes.append(SearchAttributePair(CUSTOMER_ID, event.customer_id))
    event_id = linkedin_event_workflow_id(event.digest)
    for _ in range(2):  # a second time only if it closed between start and signal
        try:
            await workflow.start_child_workflow(
                LINKEDIN_EVENT_WORKFLOW_TYPE,
                event,
                id=event_id,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                search_attributes=TypedSearchAttributes(attributes),
            )
        except WorkflowAlreadyStartedError:  # open: these bytes came within the window
            if kind != EventType.RESYNC_JOBS:
                return False
            try:  # maybe LinkedIn asking again: the event workflow decides
                await workflow.get_external_workflow_handle(event_id).signal(
                    ASKED_AGAIN, AskedAgain(at=event.received_at)
                )
            except FailureError:  # it closed meanwhile
                continue
            return False
        return True
    return False


async def _application(application: ReceivedApplication) -> bool:
    """Whether the application started its workflow; False when LinkedIn sent it before."""
    attributes = [SearchAttributePair(CUSTOMER_ID, application.customer_id)]
    job = application.body.get("externalJobPostingId")
    if isinstance(job, str | int) and str(job):
        attributes.append(SearchAttributePair(EXTERNAL_JOB_POSTING_ID, str(job)[:200]))
    try:
        await workflow.start_child_workflow(
            APPLICATION_WORKFLOW_TYPE,
            application,
            id=application_workflow_id(application.customer_id, application.key),
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            parent_close_policy=workflow.ParentClosePolicy.ABANDON,
            search_attributes=TypedSearchAttributes(attributes),
            static_summary=f"{application.customer_id}: LinkedIn application {application.key}",
        )
    except WorkflowAlreadyStartedError:
        return False
    return True
