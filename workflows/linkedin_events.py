"""LinkedInEventWorkflow: one event LinkedIn sent us, from durable to routed.

The API starts it before it answers LinkedIn, with the event's digest as its id, so a
redelivery finds it (open for the dedupe window after routing) and starts nothing
(../shared/linkedin-inbound.md §2: "hand off to a Temporal workflow whose ID is the dedupe
key"). Routing runs here, after the 2xx: which
customer the app is, which jobs the event names, each told by a signal. Its outcome is a
search attribute, so events nobody matched stay listed (`linkedin-ats linkedin-events`).
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.linkedin_events import (
        LINKEDIN_EVENT_WORKFLOW_TYPE,
        ROUTE_LINKEDIN_EVENT,
        ReceivedEvent,
        RoutedEvent,
    )
    from workflows.policies import BACKGROUND_DEADLINE, HEARTBEAT_TIMEOUT, LINKEDIN_CALL
    from workflows.search_attributes import CUSTOMER_ID, LINKEDIN_EVENT_OUTCOME


@workflow.defn(name=LINKEDIN_EVENT_WORKFLOW_TYPE)
class LinkedInEventWorkflow:
    def __init__(self) -> None:
        self._routed: RoutedEvent | None = None

    @workflow.run
    async def run(self, event: ReceivedEvent) -> RoutedEvent:
        routed: RoutedEvent = await workflow.execute_activity(
            ROUTE_LINKEDIN_EVENT,
            event,
            result_type=RoutedEvent,
            schedule_to_close_timeout=BACKGROUND_DEADLINE,
            heartbeat_timeout=HEARTBEAT_TIMEOUT,
            retry_policy=LINKEDIN_CALL,
        )
        updates = [LINKEDIN_EVENT_OUTCOME.value_set(str(routed.outcome))]
        if routed.customer_id and not event.customer_id:
            updates.append(CUSTOMER_ID.value_set(routed.customer_id))
        workflow.upsert_search_attributes(updates)
        workflow.set_current_details(f"{routed.outcome}: {routed.reason or 'routed'}")
        self._routed = routed
        await workflow.sleep(timedelta(seconds=event.dedupe_seconds))  # redeliveries meet us
        return routed

    @workflow.query
    def routed(self) -> RoutedEvent | None:
        """What routing did, once it has; the workflow stays open for the dedupe window."""
        return self._routed
