"""A query that races a workflow task makes the first execution see a result before an update.

sdk-core chunks one workflow task's jobs differently on a first execution and on replay
(the family of temporalio/sdk-python #1591; docs/jobs.md, "Replay safety"). Here, on a
real dev server: a run waits on an activity and no worker holds it; a query is dispatched
directly to the task queue and waits there; the activity completes, which schedules a
workflow task. A fresh worker polls the query first: its history already holds the
activity's result, so core applies it to the run it builds and keeps cached, and the run
loop reacts (a memo upsert) before anything is recorded. The caller, seeing the result in
the query's answer, sends an update, which rides on the task still scheduled; the worker
then polls that task, and its activation holds only the update. The task's commands are
[memo upsert, update accepted, ...], but a replay gets one activation [do_update,
resolve_activity], runs the update first, and fails ("Update machine does not handle this
event").

The worker must not poll the task before the query: its workflow slot supplier hands out
one slot, then waits until the update is sent (a saturated worker), and the server has
one task-queue partition, so the query and the task meet one poller. Runs that recorded
the `updates_after_results()` patch must replay at once; runs from before it must heal:
fail once, and replay when the runner has learned to split that activation.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowHandle, WorkflowHistory
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import (
    CustomSlotSupplier,
    FixedSizeSlotSupplier,
    PollerBehaviorSimpleMaximum,
    Replayer,
    SlotMarkUsedContext,
    SlotPermit,
    SlotReleaseContext,
    SlotReserveContext,
    UnsandboxedWorkflowRunner,
    Worker,
    WorkerTuner,
)

from tests.ordering_support import AFTER, LegacyWaiting, PatchedWaiting, Waiting, answer
from tests.temporal_support import eventually
from workers.activation_order import UpdatesAfterResultsRunner

pytestmark = pytest.mark.server  # a stack of processes, or a server of its own


ATTEMPTS = 3
"""Arrangements of the race per test before it fails: the worker may still win it."""

OUT_OF_ORDER = "Update machine does not handle this event"
"""sdk-core's nondeterminism error when a replay accepts the update before the memo upsert."""

ONE_PARTITION = [
    "--dynamic-config-value",
    "matching.numTaskqueueReadPartitions=1",
    "--dynamic-config-value",
    "matching.numTaskqueueWritePartitions=1",
]


@pytest.fixture(scope="module")
async def one_partition_env() -> AsyncIterator[WorkflowEnvironment]:
    """A dev server of the module's own: with one partition the query meets the poller."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(Path(sys.executable).parent / "temporal"),
        dev_server_extra_args=ONE_PARTITION,
        dev_server_log_level="error",
    )
    yield env
    await env.shutdown()


WORKFLOWS = [PatchedWaiting, LegacyWaiting]


class _GatedSlots(CustomSlotSupplier):
    """One workflow slot for a non-sticky poll, then none until `open`."""

    def __init__(self) -> None:
        self._free = 1
        self._open = False
        self._changed = asyncio.Condition()

    async def reserve_slot(self, ctx: SlotReserveContext) -> SlotPermit:
        async with self._changed:
            while not self._open:
                if not ctx.is_sticky and self._free > 0:
                    self._free -= 1
                    break
                await self._changed.wait()
        return SlotPermit()

    def try_reserve_slot(self, ctx: SlotReserveContext) -> SlotPermit | None:
        return None

    def mark_slot_used(self, ctx: SlotMarkUsedContext) -> None:
        pass

    def release_slot(self, ctx: SlotReleaseContext) -> None:
        pass

    async def open(self) -> None:
        async with self._changed:
            self._open = True
            self._changed.notify_all()


def _gated(slots: _GatedSlots) -> WorkerTuner:
    return WorkerTuner.create_composite(
        workflow_supplier=slots,
        activity_supplier=FixedSizeSlotSupplier(10),
        local_activity_supplier=FixedSizeSlotSupplier(10),
        nexus_supplier=FixedSizeSlotSupplier(10),
    )


def _has(kind: EventType.ValueType) -> Callable[[WorkflowHistory], bool]:
    def check(history: WorkflowHistory) -> bool:
        return any(event.event_type == kind for event in history.events)

    return check


@dataclass
class Race:
    answered: str | None
    """What the query answered before the update was sent (None: it had not answered)."""
    poked: str
    result: str
    history: WorkflowHistory

    @property
    def happened(self) -> bool:
        """The query saw the result first, and the update then came in the result's task
        with the run loop's command recorded before its acceptance."""
        return self.answered == AFTER and _update_rode_on_the_results_task(self.history.events)


def _update_rode_on_the_results_task(events: Sequence[HistoryEvent]) -> bool:
    ids = [event.event_id for event in events]
    kinds = [event.event_type for event in events]
    try:
        completed = kinds.index(EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED)
        accepted = kinds.index(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED)
        memo = kinds.index(EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED)
    except ValueError:
        return False
    scheduled = kinds.index(EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, completed)
    attrs = events[accepted].workflow_execution_update_accepted_event_attributes
    return attrs.accepted_request_sequencing_event_id == ids[scheduled] and memo < accepted


async def _arrange(client: Client, workflow_type: type[Waiting]) -> Race:
    queue = f"race-{uuid.uuid4().hex}"
    # W1 starts the run and leaves it waiting on the activity; without a cache it has no
    # sticky queue, so the query below goes straight to the normal one.
    async with Worker(
        client,
        task_queue=queue,
        workflows=WORKFLOWS,
        workflow_runner=UpdatesAfterResultsRunner(UnsandboxedWorkflowRunner()),
        max_cached_workflows=0,
    ):
        handle: WorkflowHandle[Waiting, str] = await client.start_workflow(
            workflow_type.run,  # type: ignore[attr-defined]
            id=queue,
            task_queue=queue,
        )
        await eventually(handle.fetch_history, _has(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED))
    # No workflow task is pending: the query is dispatched to the queue and waits for a poller.
    query = asyncio.create_task(handle.query(workflow_type.state_now))  # type: ignore[attr-defined]
    await asyncio.sleep(1.0)  # in matching before the result schedules a workflow task
    async with Worker(client, task_queue=f"{queue}-activities", activities=[answer]):
        await eventually(handle.fetch_history, _has(EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED))
    slots = _GatedSlots()
    try:
        async with Worker(
            client,
            task_queue=queue,
            workflows=WORKFLOWS,
            workflow_runner=UpdatesAfterResultsRunner(UnsandboxedWorkflowRunner()),
            tuner=_gated(slots),
            workflow_task_poller_behavior=PollerBehaviorSimpleMaximum(2),
            max_cached_workflows=10,
        ):
            await asyncio.wait({query}, timeout=10.0)
            answered = query.result() if query.done() and query.exception() is None else None
            poke = asyncio.create_task(handle.execute_update(workflow_type.poke))  # type: ignore[attr-defined]
            await asyncio.sleep(1.0)  # admitted: it rides on the task the result scheduled
            await slots.open()
            poked = await asyncio.wait_for(poke, timeout=30.0)
            result = await asyncio.wait_for(handle.result(), timeout=30.0)
    finally:
        await slots.open()  # a worker waiting for a slot cannot shut down
        query.cancel()
        await asyncio.gather(query, return_exceptions=True)
    return Race(answered, poked, result, await handle.fetch_history())


async def _race(client: Client, workflow_type: type[Waiting]) -> Race:
    """A run where the race happened; a few arrangements, since the worker may win it."""
    missed = []
    for _ in range(ATTEMPTS):
        race = await _arrange(client, workflow_type)
        assert race.result == AFTER
        if race.happened:
            return race
        together = _update_rode_on_the_results_task(race.history.events)
        missed.append(f"query answered {race.answered!r}, update in the result's task: {together}")
    raise AssertionError(f"the query never won the race in {ATTEMPTS} arrangements: {missed}")


async def _replay(replayer: Replayer, history: WorkflowHistory) -> Exception | None:
    return (await replayer.replay_workflow(history, raise_on_replay_failure=False)).replay_failure


def _replayer(runner: UpdatesAfterResultsRunner | UnsandboxedWorkflowRunner) -> Replayer:
    return Replayer(workflows=WORKFLOWS, workflow_runner=runner)


async def test_a_patched_run_replays_a_query_race_at_once(
    one_partition_env: WorkflowEnvironment,
) -> None:
    race = await _race(one_partition_env.client, PatchedWaiting)
    assert race.poked == AFTER
    # Without the runner the history is one that fails: the SDK's order runs the update first.
    plain = await _replay(_replayer(UnsandboxedWorkflowRunner()), race.history)
    assert plain is not None and OUT_OF_ORDER in str(plain), plain
    runner = UpdatesAfterResultsRunner(UnsandboxedWorkflowRunner())
    assert await _replay(_replayer(runner), race.history) is None
    assert runner.splits_learned == 0


async def test_a_run_from_before_the_patch_heals_after_a_query_race(
    one_partition_env: WorkflowEnvironment,
) -> None:
    """Old running workflows keep the SDK's order, and learn the split from the eviction."""
    race = await _race(one_partition_env.client, LegacyWaiting)
    assert race.poked == AFTER  # the first execution ran the update after the result
    runner = UpdatesAfterResultsRunner(UnsandboxedWorkflowRunner())
    replayer = _replayer(runner)
    first = await _replay(replayer, race.history)
    assert first is not None and OUT_OF_ORDER in str(first), first
    assert runner.splits_learned == 1
    assert await _replay(replayer, race.history) is None
