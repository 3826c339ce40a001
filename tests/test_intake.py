"""The intake's group commit: each caller answered once the start carrying it returned,
many callers per start, none lost or carried twice, a failure only its own callers'."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from client.intake import GroupCommit
from domain.applications import ReceivedApplication
from domain.intake import IntakeBatch
from domain.linkedin_events import ReceivedEvent, SignatureForm

NOW = datetime(2026, 12, 3, tzinfo=UTC)


def event(n: int, body: dict[str, object] | None = None) -> ReceivedEvent:
    return ReceivedEvent(
        digest=f"d{n}",
        received_at=NOW,
        body={"n": n} if body is None else body,
        signature_form=SignatureForm.HMAC_OF_PREFIXED_BODY,
    )


def sized(n: int, size: int) -> ReceivedEvent:
    """An event whose serialised form is `size` bytes."""
    bare = len(event(n, {"p": ""}).model_dump_json())
    return event(n, {"p": "x" * (size - bare)})


def application(n: int, customer: str = "c") -> ReceivedApplication:
    return ReceivedApplication(
        customer_id=customer, key=f"a{n}", received_at=NOW, body={}, signature_form="form"
    )


class Commits:
    """A commit that takes a while, like a start on the wire, and remembers what it carried."""

    def __init__(self, failing: set[int] | None = None) -> None:
        self.batches: list[IntakeBatch] = []
        self.durable: set[str] = set()
        self._failing = failing or set()

    async def __call__(self, batch: IntakeBatch) -> None:
        self.batches.append(batch)
        await asyncio.sleep(0.01)
        if len(self.batches) in self._failing:
            raise ConnectionError(f"commit {len(self.batches)} lost")
        self.durable |= {e.digest for e in batch.events} | {a.key for a in batch.applications}


async def test_a_burst_goes_in_a_few_commits_and_each_caller_returns_once_durable() -> None:
    commits = Commits()
    intake = GroupCommit(commits)

    async def hand_over(n: int) -> None:
        item = event(n) if n % 2 else application(n)
        await intake.hand_over(item)
        assert (f"d{n}" if n % 2 else f"a{n}") in commits.durable  # not before its commit

    await asyncio.gather(*(hand_over(n) for n in range(250)))
    carried = [e.digest for b in commits.batches for e in b.events] + [
        a.key for b in commits.batches for a in b.applications
    ]
    assert sorted(carried) == sorted(f"d{n}" if n % 2 else f"a{n}" for n in range(250))
    assert len(commits.batches) <= 6  # what waited, 100 at most a start, one kind at a time
    assert max(len(b.events) + len(b.applications) for b in commits.batches) == 100
    assert all(not (b.events and b.applications) for b in commits.batches)


async def arriving(intake: GroupCommit, sizes: list[int]) -> list[BaseException | None]:
    """The first alone, its commit on the wire when the others come."""
    first = asyncio.create_task(intake.hand_over(sized(0, sizes[0])))
    await asyncio.sleep(0.001)
    rest = [intake.hand_over(sized(n, size)) for n, size in enumerate(sizes) if n]
    return await asyncio.gather(first, *rest, return_exceptions=True)


async def test_a_failed_commit_fails_its_callers_only() -> None:
    commits = Commits(failing={2})
    intake = GroupCommit(commits, on_the_wire=1)
    results = await arriving(intake, [200] * 5)
    failed = [n for n, r in enumerate(results) if isinstance(r, ConnectionError)]
    assert failed == [1, 2, 3, 4]  # the first went alone; the rest waited for one start
    assert commits.durable == {"d0"}
    await intake.hand_over(event(9))  # and the intake carries on
    assert "d9" in commits.durable


@pytest.mark.parametrize(
    ("sizes", "batches"),
    [
        ([600, 600, 600], [[0], [1], [2]]),  # two would pass 1,000 bytes
        ([300, 300, 300, 300], [[0], [1, 2, 3]]),
        ([5_000, 10], [[0], [1]]),  # an item over the cap still goes, alone
    ],
)
async def test_a_commit_carries_at_most_its_bytes(
    sizes: list[int], batches: list[list[int]]
) -> None:
    commits = Commits()
    intake = GroupCommit(commits, max_bytes=1000, on_the_wire=1)
    assert not any(await arriving(intake, sizes))
    assert [[int(e.digest[1:]) for e in b.events] for b in commits.batches] == batches


async def test_an_item_handed_over_as_the_last_commit_ends_is_committed_not_left() -> None:
    """The committer leaves in the step it finds nothing waiting: the caller it just
    answered, handing over again at once, starts a new one (a review found it waiting)."""
    commits = Commits()
    intake = GroupCommit(commits, on_the_wire=1)
    await intake.hand_over(event(1))
    await asyncio.wait_for(intake.hand_over(event(2)), 5)
    assert commits.durable == {"d1", "d2"}


async def test_an_item_that_cannot_be_serialised_fails_alone() -> None:
    commits = Commits()
    intake = GroupCommit(commits)
    results = await asyncio.gather(
        intake.hand_over(event(1)),
        intake.hand_over(event(2, {"s": "\ud800"})),  # a lone surrogate, escaped in JSON
        intake.hand_over(event(3)),
        return_exceptions=True,
    )
    assert [r is None for r in results] == [True, False, True]
    assert commits.durable == {"d1", "d3"}


async def test_one_customers_applications_go_in_batches_of_their_own() -> None:
    commits = Commits()
    intake = GroupCommit(commits, on_the_wire=1)
    await asyncio.gather(
        *(intake.hand_over(application(n, customer=f"c{n % 3}")) for n in range(30)),
        *(intake.hand_over(event(n)) for n in range(5)),
    )
    for batch in commits.batches:
        assert {a.customer_id for a in batch.applications} <= {batch.customer_id}
        assert not batch.events or batch.customer_id is None
    assert len(commits.batches) == 4
