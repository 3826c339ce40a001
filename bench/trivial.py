"""The engine's own pace: a workflow that runs one no-op activity, our yardstick."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow


@activity.defn(name="bench_noop")
async def noop(value: int) -> int:
    return value


@workflow.defn(name="BenchTrivialWorkflow")
class TrivialWorkflow:
    @workflow.run
    async def run(self, value: int) -> int:
        return await workflow.execute_activity(
            noop, value, start_to_close_timeout=timedelta(seconds=30)
        )
