"""An update that comes in one workflow task with an activity's result, on the real server.

The task is made by letting the activity finish while no workflow worker polls and then
sending the update, so one poll brings both: sdk-core delivers them in one activation.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from temporalio import workflow
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner, Worker

from tests.ordering_support import LegacyWaiting, PatchedWaiting, Waiting, activities_queue, answer
from tests.temporal_support import eventually
from workers.activation_order import UpdatesAfterResultsRunner
from workflows.ordering import updates_after_results


@workflow.defn
class PatchedEnding(Waiting):
    """Ends as soon as the activity answered: an update that came with the answer meets a
    run that has already returned."""

    @workflow.init
    def __init__(self) -> None:
        updates_after_results()
        super().__init__()

    @workflow.run
    async def run(self) -> str:
        self.seen = await workflow.execute_activity(
            answer, task_queue=activities_queue(), start_to_close_timeout=timedelta(seconds=60)
        )
        return self.seen

    @workflow.update
    async def poke(self) -> str:
        return self._poke()


def _completed(event: HistoryEvent) -> bool:
    return event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED


async def _update_with_result(client: Client, workflow_type: type[Waiting]) -> tuple[str, str]:
    """What the update answered, and the run's result, with both in one workflow task."""
    queue = f"order-{uuid.uuid4().hex}"
    runner = UpdatesAfterResultsRunner(UnsandboxedWorkflowRunner())
    workflows = [PatchedWaiting, LegacyWaiting, PatchedEnding]
    async with Worker(
        client,
        task_queue=queue,
        workflows=workflows,
        workflow_runner=runner,
        max_cached_workflows=0,
    ):  # no sticky queue: the next task waits on the normal one for the next worker
        handle: WorkflowHandle[Waiting, str] = await client.start_workflow(
            workflow_type.run,  # type: ignore[attr-defined]
            id=queue,
            task_queue=queue,
        )
        await eventually(handle.fetch_history, lambda h: len(h.events) >= 5)  # scheduled
    async with Worker(client, task_queue=f"{queue}-activities", activities=[answer]):
        await eventually(handle.fetch_history, lambda h: any(map(_completed, h.events)))
    poke = asyncio.create_task(handle.execute_update(workflow_type.poke))  # type: ignore[attr-defined]
    await asyncio.sleep(0.5)  # admitted, so the next poll brings it with the result
    async with Worker(client, task_queue=queue, workflows=workflows, workflow_runner=runner):
        answered = await poke
        result = await handle.result()
    history = await handle.fetch_history()
    replayer = Replayer(
        workflows=workflows,
        workflow_runner=UpdatesAfterResultsRunner(UnsandboxedWorkflowRunner()),
        data_converter=client.data_converter,
    )
    await replayer.replay_workflow(history)
    return answered, result


async def test_an_update_sees_the_result_it_came_with(temporal_env: WorkflowEnvironment) -> None:
    answered, result = await _update_with_result(temporal_env.client, PatchedWaiting)
    assert (answered, result) == ("answered", "answered")


async def test_runs_from_before_the_patch_keep_the_sdks_order(
    temporal_env: WorkflowEnvironment,
) -> None:
    """They ran their updates first, and must replay as they ran."""
    answered, result = await _update_with_result(temporal_env.client, LegacyWaiting)
    assert (answered, result) == ("nothing yet", "answered")


async def test_an_update_that_came_with_the_last_result_is_answered_before_the_run_ends(
    temporal_env: WorkflowEnvironment,
) -> None:
    answered, result = await _update_with_result(temporal_env.client, PatchedEnding)
    assert (answered, result) == ("answered", "answered")
