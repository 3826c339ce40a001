"""Retry policies and timeouts, one per kind of activity, used by every workflow.

Transient LinkedIn faults retry with exponential backoff (a Retry-After from LinkedIn
overrides the next delay); permanent ones fail at once and the workflow decides.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

from domain.errors import PERMANENT_FAILURES

NON_RETRYABLE = [str(f) for f in PERMANENT_FAILURES]

LINKEDIN_CALL = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
    maximum_attempts=0,
    non_retryable_error_types=NON_RETRYABLE,
)
"""Any single LinkedIn call: retried until its schedule-to-close timeout."""

LINKEDIN_CALL_TIMEOUT = timedelta(seconds=60)
"""Start-to-close of one attempt: the client's own timeout is shorter."""

STATUS_READ_DEADLINE = timedelta(minutes=30)
"""How long a job retries reading its status (a 403 included) before the next check."""

BACKGROUND_DEADLINE = timedelta(hours=6)
"""How long background work retries a transient fault before asking an operator."""

INTERACTIVE_DEADLINE = timedelta(seconds=90)
"""How long an update a caller waits on retries a transient fault."""

JOB_OPERATION = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=0,
    non_retryable_error_types=NON_RETRYABLE,
)
"""run_job_operation retries its own transient faults; a new attempt follows a crash, so
the backoff stays short: a worker killed again and again must not leave a job waiting
minutes (found by `make chaos`)."""

HEARTBEAT_TIMEOUT = timedelta(seconds=30)
"""A worker that dies mid-operation is noticed within this, not after the attempt's timeout."""

MIN_CALL_TIME = timedelta(seconds=5)
"""The least time an update gives one call; its waits end three of these before its deadline."""


def call_time_left(until: datetime | None) -> timedelta:
    """An activity's schedule-to-close: what an update has left, or the background's hours."""
    if until is None:
        return BACKGROUND_DEADLINE
    return max(until - workflow.now(), MIN_CALL_TIME)


def wait_time_left(until: datetime) -> timedelta:
    """How long an update may wait for the lock or the app: room is left for its calls."""
    return max(until - 3 * MIN_CALL_TIME - workflow.now(), timedelta(seconds=1))
