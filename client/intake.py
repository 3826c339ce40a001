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
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
)

from domain.applications import ReceivedApplication
from domain.intake import (
    LINKEDIN_INTAKE_WORKFLOW_TYPE,
    MAX_INTAKE_BYTES,
    MAX_INTAKE_ITEMS,
    IntakeBatch,
    intake_workflow_id,
)
from domain.linkedin_events import ReceivedEvent
from workflows.search_attributes import CUSTOMER_ID

STARTS_ON_THE_WIRE = 2
"""Intake starts in flight at once: the first item of a quiet spell goes at once, and one
more start fills while another waits for the server."""


@dataclass
class _Waiting:
    item: ReceivedEvent | ReceivedApplication
    size: int
    durable: asyncio.Future[None]


def _batch_key(item: ReceivedEvent | ReceivedApplication) -> str | None:
    """Applications go in batches of one customer's only, so erasing the customer's
    applications can find and delete the intakes that carried them (their histories hold
    the bodies); events hold no personal data and go together."""
    return item.customer_id if isinstance(item, ReceivedApplication) else None


class GroupCommit:
    """Hands items to `commit` in batches of at most `max_items` and `max_bytes` of
    serialised items (one larger item goes alone), one batch key at a time, with at most
    `on_the_wire` commits running; each `hand_over` returns once the commit carrying its
    item has."""

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
        self._waiting: dict[str | None, deque[_Waiting]] = {}
        """By batch key, in the order the keys first waited; never an empty deque."""
        self._committers: set[asyncio.Task[None]] = set()

    async def hand_over(self, item: ReceivedEvent | ReceivedApplication) -> None:
        """Returns once `item` is durable; raises what its commit raised. An item that
        cannot be serialised fails here, alone, not the batch it would have joined."""
        size = len(item.model_dump_json())
        durable: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(_batch_key(item), deque()).append(_Waiting(item, size, durable))
        if len(self._committers) < self._on_the_wire:
            task = asyncio.create_task(self._commit_while_waiting())
            self._committers.add(task)
        await asyncio.shield(durable)  # a caller gone away does not take its batch with it

    def _next_batch(self) -> tuple[str | None, list[_Waiting]]:
        if not self._waiting:
            return None, []
        key = next(iter(self._waiting))
        waiting = self._waiting[key]
        taken: list[_Waiting] = []
        size = 0
        while waiting and len(taken) < self._max_items:
            if taken and size + waiting[0].size > self._max_bytes:
                break
            taken.append(waiting.popleft())
            size += taken[-1].size
        if not waiting:
            del self._waiting[key]
        return key, taken

    async def _commit_while_waiting(self) -> None:
        me = asyncio.current_task()
        try:
            while True:
                key, taken = self._next_batch()
                if not taken:  # leaves the set in the same step: a later item starts another
                    self._committers.discard(me)
                    return
                try:
                    items = [w.item for w in taken]
                    await self._commit(
                        IntakeBatch(
                            customer_id=key,
                            events=[i for i in items if isinstance(i, ReceivedEvent)],
                            applications=[i for i in items if isinstance(i, ReceivedApplication)],
                        )
                    )
                except Exception as error:  # each caller answers it
                    for waiting in taken:
                        waiting.durable.set_exception(error)
                except BaseException:
                    for waiting in taken:
                        waiting.durable.cancel()
                    raise
                else:
                    for waiting in taken:
                        waiting.durable.set_result(None)
        except BaseException:  # shutting down: no caller waits forever
            self._committers.discard(me)
            if not self._committers:
                for waiting in (w for queue in self._waiting.values() for w in queue):
                    waiting.durable.cancel()
                self._waiting.clear()
            raise


class LinkedInIntake(GroupCommit):
    """The group commit onto LinkedInIntakeWorkflow starts, one per batch."""

    def __init__(self, temporal: Client, task_queue: str) -> None:
        super().__init__(self._start)
        self._temporal = temporal
        self._task_queue = task_queue

    async def _start(self, batch: IntakeBatch) -> None:
        count = len(batch.events) + len(batch.applications)
        customer = batch.customer_id
        attributes = [SearchAttributePair(CUSTOMER_ID, customer)] if customer else []
        await self._temporal.start_workflow(
            LINKEDIN_INTAKE_WORKFLOW_TYPE,
            batch,
            id=intake_workflow_id(str(uuid.uuid4())),
            task_queue=self._task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            search_attributes=TypedSearchAttributes(attributes),
            static_summary=f"{count} received from LinkedIn",
        )
