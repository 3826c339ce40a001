"""Replay recorded workflow histories with today's workflow code, as a new worker would.

Every run that a chaos run, the property test or the soak made is replayed at its end
(docs/reliability.md): a change that breaks determinism fails there, not in production.
The runner is the worker's own, so a run from before `UPDATES_AFTER_RESULTS` whose first
execution saw an update after its results replays on a later attempt, as it does on a
worker (workers/activation_order.py); such runs are counted apart from those that
replayed at once, which every run started since the patch must.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field

from temporalio.client import Client, WorkflowHistory
from temporalio.converter import DataConverter
from temporalio.worker import Replayer

from workers.activation_order import UpdatesAfterResultsRunner
from workers.worker import WORKFLOWS, sandbox

ATTEMPTS = 3
"""A history's replays at most: the first, and one more for each activation learned."""


@dataclass
class ReplayTally:
    replayed: int = 0
    """Runs that replayed on the first attempt."""
    healed: list[str] = field(default_factory=list)
    """Runs that replayed once the runner learned where their first execution split a task."""
    failed: dict[str, str] = field(default_factory=dict)
    """Runs that do not replay, by workflow id and run id, with the replay's error."""

    @property
    def total(self) -> int:
        return self.replayed + len(self.healed) + len(self.failed)

    def line(self) -> str:
        return (
            f"replayed {self.total} workflow runs: {self.replayed} at once, "
            f"{len(self.healed)} after a learned split, {len(self.failed)} failed"
        )


async def replay(
    histories: Iterable[WorkflowHistory], data_converter: DataConverter
) -> ReplayTally:
    """Replay every history with the worker's workflows and runner; see `ReplayTally`."""
    replayer = Replayer(
        workflows=WORKFLOWS,
        data_converter=data_converter,
        workflow_runner=UpdatesAfterResultsRunner(sandbox()),
    )
    tally = ReplayTally()
    pending = list(histories)
    for attempt in range(ATTEMPTS):
        results = await replayer.replay_workflows(_each(pending), raise_on_replay_failure=False)
        failures = results.replay_failures
        for history in pending:
            name = _name(history)
            if history.run_id in failures:
                tally.failed[name] = str(failures[history.run_id])[:500]
            elif attempt == 0:
                tally.replayed += 1
            else:
                tally.healed.append(name)
                del tally.failed[name]
        pending = [history for history in pending if history.run_id in failures]
        if not pending:
            break
    return tally


async def every_run(client: Client, query: str = "") -> list[WorkflowHistory]:
    """The history of every run, open or closed, that `query` lists in the namespace."""
    histories = []
    async for execution in client.list_workflows(query):
        handle = client.get_workflow_handle(execution.id, run_id=execution.run_id)
        histories.append(await handle.fetch_history())
    return histories


def _name(history: WorkflowHistory) -> str:
    return f"{history.workflow_id} {history.run_id}"


async def _each(histories: list[WorkflowHistory]) -> AsyncIterator[WorkflowHistory]:
    for history in histories:
        yield history
