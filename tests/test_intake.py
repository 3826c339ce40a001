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


def event(n: int) -> ReceivedEvent:
    return ReceivedEvent(
        digest=f"d{n}",
        received_at=NOW,
        body={"n": n},
        signature_form=SignatureForm.HMAC_OF_PREFIXED_BODY,
    )


def application(n: int) -> ReceivedApplication:
    return ReceivedApplication(
        customer_id="c", key=f"a{n}", received_at=NOW, body={}, signature_form="form"
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
        await intake.hand_over(item, 100)
        assert (f"d{n}" if n % 2 else f"a{n}") in commits.durable  # not before its commit

    await asyncio.gather(*(hand_over(n) for n in range(250)))
    carried = [e.digest for b in commits.batches for e in b.events] + [
        a.key for b in commits.batches for a in b.applications
    ]
    assert sorted(carried) == sorted(f"d{n}" if n % 2 else f"a{n}" for n in range(250))
    assert len(commits.batches) <= 5  # 1 + 1 at once, then what waited, 100 at most a start
    assert max(len(b.events) + len(b.applications) for b in commits.batches) == 100


async def arriving(intake: GroupCommit, sizes: list[int]) -> list[BaseException | None]:
    """The first alone, its commit on the wire when the others come."""
    first = asyncio.create_task(intake.hand_over(event(0), sizes[0]))
    await asyncio.sleep(0.001)
    rest = [intake.hand_over(event(n), size) for n, size in enumerate(sizes) if n]
    return await asyncio.gather(first, *rest, return_exceptions=True)


async def test_a_failed_commit_fails_its_callers_only() -> None:
    commits = Commits(failing={2})
    intake = GroupCommit(commits, on_the_wire=1)
    results = await arriving(intake, [10] * 5)
    failed = [n for n, r in enumerate(results) if isinstance(r, ConnectionError)]
    assert failed == [1, 2, 3, 4]  # the first went alone; the rest waited for one start
    assert commits.durable == {"d0"}
    await intake.hand_over(event(9), 10)  # and the intake carries on
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
