"""ApplicationWorkflow: one Apply Connect application, from durable to erased.

The API starts it before it answers LinkedIn 200, its id derived from the
`jobApplicationId`, so LinkedIn's retries start nothing. Then, after the 200: the resume
and cover letter are fetched into the encrypted document store (the links expire), the
ATS is told (`application.received`), and the workflow stays, taking the ATS's lifecycle
actions (one LinkedIn call per occurrence, retried on 5xx/429) until it is erased on
request or when the retention period ends. Personal data is dropped from its state on
erasure.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.applications import (
        APPLICATION_QUERY,
        APPLICATION_WORKFLOW_TYPE,
        ERASE,
        ERASE_DOCUMENTS,
        FETCH_DOCUMENTS,
        MAX_ACTIONS,
        RECORD_ACTION,
        SEND_LIFECYCLE_ACTION,
        ActionRecord,
        ActionRequest,
        ActionStatus,
        ApplicationStatus,
        ApplicationView,
        EraseDocuments,
        FetchDocuments,
        ParsedApplication,
        ReceivedApplication,
        SendAction,
        StoredDocument,
        UnreadableApplication,
        action_event,
        parse_application,
        received_event,
    )
    from domain.job_lifecycle import RefusalReason
    from workflows.failures import failure_message
    from workflows.policies import LINKEDIN_CALL_TIMEOUT, NON_RETRYABLE
    from workflows.webhooks import EventOutbox

DOWNLOAD = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=0,
    non_retryable_error_types=NON_RETRYABLE,
)
"""Transient faults retried for up to DOWNLOAD_DEADLINE: LinkedIn's links expire."""
DOWNLOAD_DEADLINE = timedelta(hours=6)

ACTION_CALL = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
    maximum_attempts=0,
    non_retryable_error_types=NON_RETRYABLE,
)
"""5xx and 429 retried (a Retry-After obeyed) for ACTION_DEADLINE; a 4xx is final."""
ACTION_DEADLINE = timedelta(days=3)
ERASE_CALL = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)
)


@workflow.defn(name=APPLICATION_WORKFLOW_TYPE)
class ApplicationWorkflow:
    @workflow.init
    def __init__(self, received: ReceivedApplication) -> None:
        self._customer_id = received.customer_id
        self._key = received.key
        self._received_at = received.received_at
        self._erase_at = received.received_at + timedelta(days=received.retention_days)
        self._application: ParsedApplication | None = None
        self._documents: list[StoredDocument] = []
        self._document_errors: list[str] = []
        self._actions: list[ActionRecord] = []
        self._pending: list[str] = []
        self._status = ApplicationStatus.RECEIVED
        self._problem: str | None = None
        self._erase_requested = False
        self._webhooks = received.webhooks
        self._outbox = EventOutbox()

    @workflow.run
    async def run(self, received: ReceivedApplication) -> ApplicationView:
        try:
            self._application = parse_application(received.body)
        except UnreadableApplication as error:
            self._status, self._problem = ApplicationStatus.UNREADABLE, str(error)
        if self._application is not None:
            await self._fetch_documents(self._application)
            self._status = ApplicationStatus.READY
            if self._webhooks:
                self._outbox.add([received_event(self.view(), workflow.now())])
        workflow.set_current_details(f"{self._status}: waiting for lifecycle actions")
        while not self._erase_requested:
            remaining = (self._erase_at - workflow.now()).total_seconds()
            if remaining <= 0:
                break
            try:
                await workflow.wait_condition(
                    lambda: bool(self._pending) or self._erase_requested,
                    timeout=timedelta(seconds=remaining),
                )
            except TimeoutError:
                break
            while self._pending and not self._erase_requested:
                await self._send(self._pending[0])
                self._pending.pop(0)
        await self._erase()
        await self._outbox.drained()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.view()

    async def _fetch_documents(self, application: ParsedApplication) -> None:
        if not application.documents:
            return
        try:
            self._documents = await workflow.execute_activity(
                FETCH_DOCUMENTS,
                FetchDocuments(
                    customer_id=self._customer_id,
                    key=self._key,
                    documents=application.documents,
                ),
                result_type=list[StoredDocument],
                start_to_close_timeout=LINKEDIN_CALL_TIMEOUT,
                schedule_to_close_timeout=DOWNLOAD_DEADLINE,
                retry_policy=DOWNLOAD,
                summary=f"{len(application.documents)} document(s) from LinkedIn",
            )
        except ActivityError as error:
            self._document_errors.append(failure_message(error))

    async def _send(self, action_id: str) -> None:
        record = next(a for a in self._actions if a.id == action_id)
        if self._application is None:
            record.status, record.error = ActionStatus.FAILED, "the application is unreadable"
        else:
            try:
                await workflow.execute_activity(
                    SEND_LIFECYCLE_ACTION,
                    SendAction(
                        customer_id=self._customer_id,
                        job_application_id=self._application.job_application_id,
                        action=record.action,
                        performed_at_ms=int(record.performed_at.timestamp() * 1000),
                    ),
                    start_to_close_timeout=LINKEDIN_CALL_TIMEOUT,
                    schedule_to_close_timeout=ACTION_DEADLINE,
                    retry_policy=ACTION_CALL,
                    summary=f"{record.action} to LinkedIn",
                )
                record.status = ActionStatus.SENT
            except ActivityError as error:
                record.status, record.error = ActionStatus.FAILED, failure_message(error)
        if self._webhooks:
            self._outbox.add([action_event(self.view(), record, workflow.now())])

    async def _erase(self) -> None:
        await workflow.execute_activity(
            ERASE_DOCUMENTS,
            EraseDocuments(customer_id=self._customer_id, key=self._key),
            result_type=int,
            start_to_close_timeout=LINKEDIN_CALL_TIMEOUT,
            retry_policy=ERASE_CALL,
        )
        self._application = None
        self._documents = []
        self._status = ApplicationStatus.ERASED
        for record in self._actions:
            if record.status == ActionStatus.PENDING:
                record.status, record.error = ActionStatus.FAILED, "erased before it was sent"
        workflow.set_current_details("ERASED: documents and personal data removed")

    def view(self) -> ApplicationView:
        application = self._application
        return ApplicationView(
            customer_id=self._customer_id,
            key=self._key,
            job_application_id=application.job_application_id
            if application
            else f"urn:li:jobApplication:{self._key}",
            status=self._status,
            received_at=self._received_at,
            erase_at=self._erase_at,
            application=application,
            documents=list(self._documents),
            document_errors=list(self._document_errors),
            actions=list(self._actions),
            problem=self._problem,
        )

    @workflow.query(name=APPLICATION_QUERY)
    def application(self) -> ApplicationView:
        return self.view()

    @workflow.update(name=RECORD_ACTION)
    def record_action(self, request: ActionRequest) -> ActionRecord:
        """One occurrence of an action, queued for LinkedIn; the same update id (the
        Idempotency-Key) again answers the first record."""
        info = workflow.current_update_info()
        action_id = info.id if info else str(workflow.uuid4())
        for record in self._actions:
            if record.id == action_id:
                return record
        record = ActionRecord(
            id=action_id, action=request.action, performed_at=request.performed_at
        )
        self._actions.append(record)
        self._pending.append(record.id)
        return record

    @record_action.validator
    def _validate_action(self, request: ActionRequest) -> None:
        if self._erase_requested or self._status == ApplicationStatus.ERASED:
            raise ApplicationError(
                "the application is erased", type=str(RefusalReason.CONFLICT), non_retryable=True
            )
        if len(self._actions) >= MAX_ACTIONS:
            raise ApplicationError(
                f"at most {MAX_ACTIONS} lifecycle actions per application",
                type=str(RefusalReason.CONFLICT),
                non_retryable=True,
            )

    @workflow.update(name=ERASE)
    async def erase(self) -> ApplicationView:
        """Documents and personal data removed; the workflow then ends."""
        self._erase_requested = True
        await workflow.wait_condition(lambda: self._status == ApplicationStatus.ERASED)
        return self.view()
