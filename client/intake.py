"""LinkedInIntake: what LinkedIn POSTs, durable in Temporal before we answer, many per start.

A group commit (domain/intake.py says why): each caller waits until the one
LinkedInIntakeWorkflow start carrying its item has returned; items that arrive while
starts are on the wire go together in the next one. A start that fails fails every caller
it carried (LinkedIn is answered 5xx and sends again; the child workflows' ids make a start
that did land, its answer lost, harmless)."""

from __future__ import annotations

import asyncio
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy

from domain.applications import ReceivedApplication
from domain.intake import (
    LINKEDIN_INTAKE_WORKFLOW_TYPE,
    MAX_INTAKE_BYTES,
    MAX_INTAKE_ITEMS,
    IntakeBatch,
    intake_workflow_id,
)
from domain.linkedin_events import ReceivedEvent

STARTS_ON_THE_WIRE = 2
"""Intake starts in flight at once: the first item of a quiet spell goes at once, and one
more start fills while another waits for the server."""


@dataclass
class _Waiting:
    item: ReceivedEvent | ReceivedApplication
    size: int
    durable: asyncio.Future[None]


class GroupCommit:
    """Hands items to `commit` in batches of at most `max_items` and `max_bytes` (one larger
    item goes alone), with at most `on_the_wire` commits running; each `hand_over` returns
    once the commit carrying its item has."""

    def __init__(
        self,
        commit: Callable[[IntakeBatch], Awaitable[None]],
        *,
        max_items: int = MAX_INTAKE_ITEMS,
        max_bytes: int = MAX_INTAKE_BYTES,
        on_the_wire: int = STARTS_ON_THE_WIRE,
    ) -> None:
        self._commit = commit
        self._max_items = max_items
        self._max_bytes = max_bytes
        self._on_the_wire = on_the_wire
        self._waiting: deque[_Waiting] = deque()
        self._committers: set[asyncio.Task[None]] = set()

    async def hand_over(self, item: ReceivedEvent | ReceivedApplication, size: int) -> None:
        """Returns once `item` is durable; raises what its commit raised."""
        durable: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Waiting(item, size, durable))
        if len(self._committers) < self._on_the_wire:
            task = asyncio.create_task(self._commit_while_waiting())
            self._committers.add(task)
            task.add_done_callback(self._committers.discard)
        await asyncio.shield(durable)  # a caller gone away does not take its batch with it

    def _next_batch(self) -> list[_Waiting]:
        taken: list[_Waiting] = []
        size = 0
        while self._waiting and len(taken) < self._max_items:
            if taken and size + self._waiting[0].size > self._max_bytes:
                break
            taken.append(self._waiting.popleft())
            size += taken[-1].size
        return taken

    async def _commit_while_waiting(self) -> None:
        while taken := self._next_batch():
            batch = IntakeBatch(
                events=[w.item for w in taken if isinstance(w.item, ReceivedEvent)],
                applications=[w.item for w in taken if isinstance(w.item, ReceivedApplication)],
            )
            try:
                await self._commit(batch)
            except Exception as error:  # each caller answers it
                for waiting in taken:
                    waiting.durable.set_exception(error)
            except BaseException:  # shutting down: no caller waits forever
                for waiting in taken:
                    waiting.durable.cancel()
                raise
            else:
                for waiting in taken:
                    waiting.durable.set_result(None)


class LinkedInIntake(GroupCommit):
    """The group commit onto LinkedInIntakeWorkflow starts, one per batch."""

    def __init__(self, temporal: Client, task_queue: str) -> None:
        super().__init__(self._start)
        self._temporal = temporal
        self._task_queue = task_queue

    async def _start(self, batch: IntakeBatch) -> None:
        count = len(batch.events) + len(batch.applications)
        await self._temporal.start_workflow(
            LINKEDIN_INTAKE_WORKFLOW_TYPE,
            batch,
            id=intake_workflow_id(str(uuid.uuid4())),
            task_queue=self._task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            static_summary=f"{count} received from LinkedIn",
        )
