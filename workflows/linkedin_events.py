"""LinkedInEventWorkflow: one event LinkedIn sent us, from durable to routed.

The API starts it before it answers LinkedIn, with the event's digest as its id, so a
redelivery finds it (open for the dedupe window after routing) and starts nothing
(../shared/linkedin-inbound.md §2: "hand off to a Temporal workflow whose ID is the dedupe
key"); a resync's bytes that come again once it is routed are routed again (ASKED_AGAIN).
Routing runs here, after the 2xx: which customer the app is, which jobs the event names,
each told by a signal. Its outcome is a search attribute, so events nobody matched stay
listed (`linkedin-ats linkedin-events`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.linkedin_events import (
        ASKED_AGAIN,
        ASKED_AGAIN_BY_ITS_TIME,
        LINKEDIN_EVENT_WORKFLOW_TYPE,
        MAX_ASKED_AGAIN,
        ROUTE_LINKEDIN_EVENT,
        AskedAgain,
        ReceivedEvent,
        RoutedEvent,
    )
    from workflows.policies import BACKGROUND_DEADLINE, HEARTBEAT_TIMEOUT, LINKEDIN_CALL
    from workflows.search_attributes import CUSTOMER_ID, LINKEDIN_EVENT_OUTCOME


@workflow.defn(name=LINKEDIN_EVENT_WORKFLOW_TYPE)
class LinkedInEventWorkflow:
    def __init__(self) -> None:
        self._routed: RoutedEvent | None = None
        self._asked_again: datetime | None = None
        self._routing = True
        self._routings = 0
        self._routing_began: datetime | None = None

    @workflow.run
    async def run(self, event: ReceivedEvent) -> RoutedEvent:
        routed = await self._route(event)
        updates = [LINKEDIN_EVENT_OUTCOME.value_set(str(routed.outcome))]
        if routed.customer_id and not event.customer_id:
            updates.append(CUSTOMER_ID.value_set(routed.customer_id))
        workflow.upsert_search_attributes(updates)
        workflow.set_current_details(f"{routed.outcome}: {routed.reason or 'routed'}")
        self._routed = routed
        closes = workflow.now() + timedelta(seconds=event.dedupe_seconds)
        while (left := closes - workflow.now()) > timedelta(0):  # redeliveries meet us
            try:
                await workflow.wait_condition(lambda: self._asked_again is not None, timeout=left)
            except TimeoutError:
                break
            asked, self._asked_again = self._asked_again, None
            self._routed = await self._route(event.model_copy(update={"received_at": asked}))
        return self._routed

    async def _route(self, event: ReceivedEvent) -> RoutedEvent:
        self._routing = True
        self._routings += 1
        self._routing_began = workflow.now()
        routed: RoutedEvent = await workflow.execute_activity(
            ROUTE_LINKEDIN_EVENT,
            event,
            result_type=RoutedEvent,
            schedule_to_close_timeout=BACKGROUND_DEADLINE,
            heartbeat_timeout=HEARTBEAT_TIMEOUT,
            retry_policy=LINKEDIN_CALL,
        )
        self._routing = False
        return routed

    @workflow.signal(name=ASKED_AGAIN)
    def asked_again(self, again: AskedAgain) -> None:
        """The same resync came again. While the routing runs, the resends it starts leave
        after it, so it is absorbed; so is one LinkedIn sent before the routing began, told
        only once it is done (the intake tells us after its own start). Otherwise it is
        routed again. `again.at` is the API's clock and the routing's the server's: they
        must agree to within the intake's delay (NTP keeps them to milliseconds). Only a
        time before the routing began absorbs, not one before it ended, to keep that
        margin: a request sent while routing ran is routed again (one more UPDATE a job)."""
        if self._routing or self._routings > MAX_ASKED_AGAIN:
            return
        began = self._routing_began
        if began is not None and again.at < began and workflow.patched(ASKED_AGAIN_BY_ITS_TIME):
            return
        self._asked_again = again.at

    @workflow.query
    def routed(self) -> RoutedEvent | None:
        """What routing did, once it has; the workflow stays open for the dedupe window."""
        return self._routed
