"""JobWakeupsWorkflow: run by a Temporal Schedule, it wakes the job workflows whose next
timed event (auto-renew or expiry) has passed.

Why not a timer in each job: every timer started is a billed Temporal action, and a job's
wake time moves with most of its operations (create, upgrade, downgrade, renew), so a job
would start one or more timers per lifecycle. Its wake time rides instead on the
search-attribute upsert those operations make anyway (JobWakeAt), and one sweep per
interval serves every job. The cost: auto-renew and expiry are recorded up to one interval
late (LinkedIn expires a job on time by itself), and the sweep is one more thing to run:
`linkedin-ats setup` creates its schedule (`workers/setup.py`).
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from domain.job_workflow import JOB_WAKEUPS_WORKFLOW_TYPE, WAKE_DUE_JOBS, WakeDueJobs
    from workflows.policies import HEARTBEAT_TIMEOUT


@workflow.defn(name=JOB_WAKEUPS_WORKFLOW_TYPE)
class JobWakeupsWorkflow:
    @workflow.run
    async def run(self, within: timedelta) -> int:
        """Wake the jobs due by now; retried for `within` (the schedule's interval), after
        which the next run wakes them. Returns how many were woken."""
        woken: int = await workflow.execute_activity(
            WAKE_DUE_JOBS,
            WakeDueJobs(due_by=workflow.now()),
            result_type=int,
            schedule_to_close_timeout=within,
            heartbeat_timeout=HEARTBEAT_TIMEOUT,
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1)),
        )
        return woken
