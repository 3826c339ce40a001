"""What a Temporal namespace needs before workers start: our search attributes and the job
wake-up schedule, each set up idempotently."""

from __future__ import annotations

from datetime import timedelta

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
)

from domain.job_workflow import JOB_STATUS_CHECKS_WORKFLOW_TYPE, JOB_WAKEUPS_WORKFLOW_TYPE
from settings import Settings
from workflows import search_attributes


async def ensure_search_attributes(client: Client) -> list[str]:
    """Add whichever of our search attributes the namespace lacks; returns those added."""
    existing = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=client.namespace)
    )
    known = set(existing.custom_attributes) | set(existing.system_attributes)
    missing = [key for key in search_attributes.ALL if key.name not in known]
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(
                namespace=client.namespace,
                search_attributes={
                    key.name: IndexedValueType.ValueType(key.indexed_value_type) for key in missing
                },
            )
        )
    return [key.name for key in missing]


def job_wakeups_schedule_id(task_queue: str) -> str:
    return f"job-wakeups/{task_queue}"


def job_status_checks_schedule_id(task_queue: str) -> str:
    return f"job-status-checks/{task_queue}"


async def ensure_job_wakeups(client: Client, task_queue: str, every: timedelta) -> None:
    """The schedule that runs JobWakeupsWorkflow every `every` on `task_queue`."""
    schedule_id = job_wakeups_schedule_id(task_queue)
    await _ensure_sweep(client, schedule_id, JOB_WAKEUPS_WORKFLOW_TYPE, task_queue, every)


async def ensure_job_status_checks(client: Client, task_queue: str, every: timedelta) -> None:
    """The schedule that runs JobStatusChecksWorkflow every `every` on `task_queue`."""
    schedule_id = job_status_checks_schedule_id(task_queue)
    await _ensure_sweep(client, schedule_id, JOB_STATUS_CHECKS_WORKFLOW_TYPE, task_queue, every)


async def _ensure_sweep(
    client: Client, schedule_id: str, workflow_type: str, task_queue: str, every: timedelta
) -> None:
    """A schedule running `workflow_type(every)` every `every`: created, or brought to this
    interval when it exists. A run still going when the next is due is not doubled."""
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(
            workflow_type, every, id=f"{schedule_id}/run", task_queue=task_queue
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=every),
    )
    try:
        await client.create_schedule(schedule_id, schedule)
    except ScheduleAlreadyRunningError:
        await client.get_schedule_handle(schedule_id).update(
            lambda _: ScheduleUpdate(schedule=schedule)
        )


async def prepare_namespace(client: Client, settings: Settings) -> list[str]:
    """Search attributes, then the job sweeps' schedules; returns the attributes added."""
    added = await ensure_search_attributes(client)
    every = timedelta(seconds=settings.job_wakeup_interval_seconds)
    await ensure_job_wakeups(client, settings.task_queue, every)
    checks = timedelta(seconds=settings.status_check_interval_seconds)
    await ensure_job_status_checks(client, settings.task_queue, checks)
    return added
