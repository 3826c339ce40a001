"""Retry policies and timeouts, one per kind of activity, used by every workflow.

Transient LinkedIn faults retry with exponential backoff (a Retry-After from LinkedIn
overrides the next delay); permanent ones fail at once and the workflow decides.
"""

from __future__ import annotations

from datetime import timedelta

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

BACKGROUND_DEADLINE = timedelta(hours=6)
"""How long background work retries a transient fault before asking an operator."""

INTERACTIVE_DEADLINE = timedelta(seconds=90)
"""How long an update a caller waits on retries a transient fault."""

TASK_POLL = RetryPolicy(
    initial_interval=timedelta(seconds=3),
    backoff_coefficient=1.0,
    maximum_attempts=0,
    non_retryable_error_types=NON_RETRYABLE,
)
"""Polling a job task: a fixed interval, each poll a retry, so history does not grow."""

TASK_LIFETIME = timedelta(hours=24)
"""LinkedIn forgets a task id after 24 hours: stop polling by then."""
