"""JobStatusChecksWorkflow: run by a Temporal Schedule, it has every job LinkedIn may hold
read its status, as LinkedIn requires of partners ("check the status of synced jobs
periodically", ../shared/linkedin-inbound.md §9).

Each job reads its own status when told (`check_status`), between its operations, so a
read never races an operation; the worker's batcher puts up to 100 of those reads in one
jobPostingStatus call. A read that shows LinkedIn changed the job updates it and sends
`job.linkedin_changed`; an operation whose read-back failed is settled by it.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from domain.job_workflow import (
        CHECK_JOB_STATUSES,
        JOB_STATUS_CHECKS_WORKFLOW_TYPE,
        CheckJobStatuses,
    )
    from workflows.policies import HEARTBEAT_TIMEOUT


@workflow.defn(name=JOB_STATUS_CHECKS_WORKFLOW_TYPE)
class JobStatusChecksWorkflow:
    @workflow.run
    async def run(self, within: timedelta) -> int:
        """Tell every live job to read its status; retried for `within` (the schedule's
        interval). Returns how many were told."""
        told: int = await workflow.execute_activity(
            CHECK_JOB_STATUSES,
            CheckJobStatuses(),
            result_type=int,
            schedule_to_close_timeout=within,
            heartbeat_timeout=HEARTBEAT_TIMEOUT,
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1)),
        )
        return told
