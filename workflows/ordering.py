"""The order a workflow sees an update that came in one workflow task with a result.

Runs started since the `UPDATES_AFTER_RESULTS` patch see such an update only after the
task's results (an activity's answer, a timer), whichever way sdk-core delivered them,
so every replay runs their handlers against the same state and yields the same commands
(workers/activation_order.py does it; docs/jobs.md, "Replay safety", says why).
"""

from __future__ import annotations

from temporalio import workflow

UPDATES_AFTER_RESULTS = "updates-after-results"


def updates_after_results() -> bool:
    """Record, at the run's start, that its updates come after the results they came with."""
    return workflow.patched(UPDATES_AFTER_RESULTS)
