"""Toy workflows for the tests of the order in which a workflow sees an update that came
in one workflow task with an activity's result (workers/activation_order.py)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow

from workflows.ordering import updates_after_results

BEFORE = "nothing yet"
AFTER = "answered"


@activity.defn
async def answer() -> str:
    return AFTER


def activities_queue() -> str:
    """Activities run on a queue of their own, so they can finish while no workflow worker
    polls."""
    return f"{workflow.info().task_queue}-activities"


class Waiting:
    """Runs one activity, reacts to its result (a memo upsert, a command of the run loop),
    then waits for `poke`; `poke` and `state_now` answer what the run has seen."""

    def __init__(self) -> None:
        self.seen = BEFORE
        self.poked = False

    async def _run(self) -> str:
        self.seen = await workflow.execute_activity(
            answer, task_queue=activities_queue(), start_to_close_timeout=timedelta(seconds=60)
        )
        workflow.upsert_memo({"seen": self.seen})
        await workflow.wait_condition(lambda: self.poked)
        return self.seen

    def _poke(self) -> str:
        self.poked = True
        return self.seen


@workflow.defn
class PatchedWaiting(Waiting):
    @workflow.init
    def __init__(self) -> None:
        updates_after_results()
        super().__init__()

    @workflow.run
    async def run(self) -> str:
        return await self._run()

    @workflow.update
    async def poke(self) -> str:
        return self._poke()

    @workflow.query
    def state_now(self) -> str:
        return self.seen


@workflow.defn
class LegacyWaiting(Waiting):
    @workflow.init
    def __init__(self) -> None:
        super().__init__()

    @workflow.run
    async def run(self) -> str:
        return await self._run()

    @workflow.update
    async def poke(self) -> str:
        return self._poke()

    @workflow.query
    def state_now(self) -> str:
        return self.seen
