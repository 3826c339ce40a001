"""One LinkedIn call for many concurrent job operations of one application.

LinkedIn takes up to 100 jobs in one simpleJobPostings call and many ids in one batch GET,
and counts calls per application per day. Each `run_job_operation` asks for one job, so
the worker gathers the concurrent asks of one application and endpoint (a lane) for a few
milliseconds and sends them as one call. Every caller gets only its own element's answer
or error, exactly as if it had called alone: a per-element 422 fails only its operation,
and a whole-call failure reaches every caller of that call as its own error, so the
activity's exactly-once logic does not change.

An ask on an idle lane (none waiting, none in flight, no two asks met on it for
`busy_seconds`) goes out after `gather_seconds`, so a lone caller, even one calling again
and again, is barely delayed. On a busy lane a call is driven by what is waiting and how
long it may wait: each ask has a latency budget (`budget_seconds` for submissions,
`read_budget_seconds` for reads), and the call goes out when it is full (100 jobs, or the
query-length limit), when its first ask's budget is spent, when no further ask is expected
before then (the lane's usual gap between asks, the median of its recent gaps, is longer
than the budget left), or when a burst has ended (no ask for `patience` usual gaps),
whichever comes first. A steady stream thus fills each call with what arrives within the
budget, however its arrivals bunch and pause, and a burst that ends goes out at once. Two
operations on one externalJobPostingId never share a call, nor go out while another on it
is in flight.

A status read that may wait (`watch_job_statuses`: a job looking for a lost submit's
effect) rides along with the next status call of its application that anyone sends, and
asks for its own only when none went in its time.
"""

from __future__ import annotations

import asyncio
import copy
import statistics
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlencode

from activities.rate_limits import (
    JOB_SUBMISSIONS,
    STATUS_READS,
    TASK_READS,
    CallBudget,
    CallHeldBack,
    RateLimits,
)
from domain.job_postings import MAX_BATCH, JobPosting, JobPostingStatus, TaskStatus
from domain.provisioning import AppCredentials
from linkedin import LinkedInClient
from linkedin.client import MAX_QUERY_BYTES, BatchResult, TaskSubmission
from linkedin.errors import LinkedInError, TransientLinkedInError

LANE_IDLE_DROP_SECONDS = 300.0
"""A lane unused this long is forgotten (its application may never call again)."""

_LONGEST_ID_COST = 256
"""Room kept for one more id when judging whether waiting reads fill a call."""


class BatchObserver(Protocol):
    """Told the size of every call the batcher sends, for metrics."""

    def batch(self, endpoint: str, size: int) -> None: ...


RECENT_GAPS = 16
"""How many of a lane's latest gaps between asks its usual gap is the median of."""


@dataclass(frozen=True)
class BatchTiming:
    gather_seconds: float = 0.002
    """How long an ask on an idle lane waits for company: callers woken together join."""
    budget_seconds: float = 2.0
    """On a busy lane, the longest a submission waits for others to share its call: its
    latency budget. A 10/s stream of one application then goes about 20 jobs a call."""
    read_budget_seconds: float = 0.25
    """The same for task and status reads: their callers mostly arrive together, woken by
    the answer to the call they shared before, so a short budget gathers them."""
    patience: float = 10.0
    """A busy lane's burst has ended when no ask came for this many usual gaps (a Poisson
    stream pauses that long once in some 1,000 gaps)."""
    busy_seconds: float = 10.0
    """How long a lane stays busy after two asks met on it: longer than the pause between
    two groups of reads that follow each other's submissions (about `budget_seconds`).
    A call that goes out alone, with none waiting or in flight, ends it early: the burst is
    over, and the lone callers after it wait only `gather_seconds`."""

    def sends_at(
        self, endpoint: str, *, busy: bool, first_ask: float, last_ask: float, usual_gap: float
    ) -> float:
        """When a call gathering since `first_ask` goes out, unless it fills first."""
        earliest = first_ask + self.gather_seconds
        if not busy:
            return earliest
        budget = self.budget_seconds if endpoint == JOB_SUBMISSIONS else self.read_budget_seconds
        spent = first_ask + budget
        if last_ask + usual_gap > spent:  # no one else is expected within the budget
            return max(earliest, last_ask)
        ended = last_ask + max(self.gather_seconds, self.patience * usual_gap)
        return max(earliest, min(spent, ended))


def usual_gap(gaps: Sequence[float]) -> float:
    """A lane's usual gap between asks: the median, so that the pause between two bunches
    of reads does not make the bunch itself look sparse."""
    return statistics.median(gaps) if gaps else 0.0


@dataclass(eq=False)
class _Ask:
    """One caller's part of a call: one job to submit, or ids to read."""

    keys: list[str]
    job: JobPosting | None
    future: asyncio.Future[Any]
    cost: int = 0
    """Bytes its ids add to a GET's query string."""


@dataclass(eq=False)
class _Lane:
    """The asks waiting for one endpoint of one application, and its calls in flight."""

    endpoint: str
    creds: AppCredentials
    pending: list[_Ask] = field(default_factory=list)
    in_flight: int = 0
    in_flight_keys: set[str] = field(default_factory=set)
    last_sent: float = float("-inf")
    busy_until: float = float("-inf")
    timer: asyncio.TimerHandle | None = None
    gathering_since: float = 0.0
    """When the call being gathered (the one `timer` sends) began."""
    gathering_busy: bool = False
    """Whether the lane was busy then: the call waits for company, not only the gather."""
    last_ask: float = 0.0
    gaps: deque[float] = field(default_factory=lambda: deque(maxlen=RECENT_GAPS))
    """The latest gaps between two asks on the lane."""
    watchers: list[_Ask] = field(default_factory=list)
    """Reads that ride along with the lane's next call, whoever asks for it."""

    def take(self) -> list[_Ask]:
        """The next call's asks, in arrival order, within LinkedIn's limits."""
        batch: list[_Ask] = []
        keys: set[str] = set()
        size = 0
        kept: list[_Ask] = []
        for ask in self.pending:
            if ask.future.done():  # its caller gave up (cancelled)
                continue
            if self.endpoint == JOB_SUBMISSIONS:
                (key,) = ask.keys
                fits = len(batch) < MAX_BATCH and key not in keys and key not in self.in_flight_keys
                extra = 0
            else:
                new = [k for k in ask.keys if k not in keys]
                extra = sum(_query_cost(k) for k in new)
                fits = len(keys) + len(new) <= MAX_BATCH and size + extra <= MAX_QUERY_BYTES
            if fits:
                batch.append(ask)
                keys.update(ask.keys)
                size += extra
            else:
                kept.append(ask)
        self.pending = kept
        if batch and self.endpoint != JOB_SUBMISSIONS:
            for ask in list(self.watchers):
                new = [k for k in ask.keys if k not in keys]
                extra = sum(_query_cost(k) for k in new)
                if ask.future.done():
                    self.watchers.remove(ask)
                elif len(keys) + len(new) <= MAX_BATCH and size + extra <= MAX_QUERY_BYTES:
                    self.watchers.remove(ask)
                    batch.append(ask)
                    keys.update(ask.keys)
                    size += extra
        return batch

    def full(self) -> bool:
        """Whether the asks waiting would fill a call already."""
        if self.endpoint == JOB_SUBMISSIONS:
            return len(self.pending) >= MAX_BATCH
        cost = sum(ask.cost for ask in self.pending)
        ids = sum(len(ask.keys) for ask in self.pending)
        return cost + _LONGEST_ID_COST > MAX_QUERY_BYTES or ids >= MAX_BATCH


class LinkedInBatcher:
    """submit_jobs, get_tasks and get_job_statuses of LinkedInClient, batched per lane.

    Shared by all activities of a worker, with one call budget (`CallBudget`) that every
    call it sends is counted against; a 429 with Retry-After holds the whole lane.
    """

    def __init__(
        self,
        linkedin: LinkedInClient,
        budget: CallBudget | None = None,
        timing: BatchTiming | None = None,
        observer: BatchObserver | None = None,
    ) -> None:
        self._linkedin = linkedin
        self._budget = budget or CallBudget(RateLimits())
        self._timing = timing or BatchTiming()
        self._observer = observer
        self._lanes: dict[tuple[str, AppCredentials], _Lane] = {}
        self._sending: set[asyncio.Task[None]] = set()

    async def aclose(self) -> None:
        """Let go of what the call budget holds (a shared counter's connections)."""
        await self._budget.aclose()

    async def submit_jobs(
        self, creds: AppCredentials, jobs: Sequence[JobPosting]
    ) -> list[TaskSubmission]:
        """One TaskSubmission per job, in order; each job rides in some batch_create call."""
        asks = [
            self._ask(JOB_SUBMISSIONS, creds, [job.external_job_posting_id], job) for job in jobs
        ]
        return list(await asyncio.gather(*asks))

    async def get_tasks(
        self, creds: AppCredentials, task_ids: Sequence[str]
    ) -> BatchResult[TaskStatus]:
        return await self._read(TASK_READS, creds, task_ids)

    async def get_job_statuses(
        self, creds: AppCredentials, external_ids: Sequence[str]
    ) -> BatchResult[JobPostingStatus]:
        return await self._read(STATUS_READS, creds, external_ids)

    async def watch_job_statuses(
        self,
        creds: AppCredentials,
        external_ids: Sequence[str],
        *,
        earliest: float,
        latest: float,
    ) -> BatchResult[JobPostingStatus]:
        """jobPostingStatus of these jobs, read between `earliest` and `latest` seconds from
        now: by the first status call of the application that goes out in that time,
        whoever asked for it, or else by a call of their own at `latest`. Jobs that watch
        LinkedIn for a lost answer's effect so share one call."""
        await asyncio.sleep(earliest)
        ids = list(dict.fromkeys(external_ids))
        if not ids:
            return BatchResult()
        loop = asyncio.get_running_loop()
        lane = self._lane(STATUS_READS, creds)
        cost = sum(_query_cost(k) for k in ids)
        ask = _Ask(keys=ids, job=None, future=loop.create_future(), cost=cost)
        lane.watchers.append(ask)
        due = loop.call_later(max(0.0, latest - earliest), self._watch_due, lane, ask)
        try:
            result: BatchResult[JobPostingStatus] = await ask.future
            return result
        finally:
            due.cancel()
            if ask in lane.watchers:
                lane.watchers.remove(ask)

    def _watch_due(self, lane: _Lane, ask: _Ask) -> None:
        """No call served a watcher in time: it asks for its own."""
        if ask in lane.watchers and not ask.future.done():
            lane.watchers.remove(ask)
            lane.pending.append(ask)
            self._schedule(lane)

    def _lane(self, endpoint: str, creds: AppCredentials) -> _Lane:
        lane = self._lanes.get((endpoint, creds))
        if lane is None:
            self._drop_idle_lanes(asyncio.get_running_loop().time())
            lane = self._lanes[(endpoint, creds)] = _Lane(endpoint, creds)
        return lane

    async def _read(
        self, endpoint: str, creds: AppCredentials, ids: Sequence[str]
    ) -> BatchResult[Any]:
        """Ids that fit one call are one ask; more are split as LinkedInClient would."""
        if not ids:
            return BatchResult()
        chunks: list[list[str]] = [[]]
        size = 0
        for key in dict.fromkeys(ids):
            cost = _query_cost(key)
            if chunks[-1] and (size + cost > MAX_QUERY_BYTES or len(chunks[-1]) == MAX_BATCH):
                chunks.append([])
                size = 0
            chunks[-1].append(key)
            size += cost
        parts = await asyncio.gather(*(self._ask(endpoint, creds, c, None) for c in chunks))
        merged: BatchResult[Any] = BatchResult()
        for part in parts:
            merged.results.update(part.results)
            merged.errors.update(part.errors)
        return merged

    def _reader(self, endpoint: str) -> Callable[[AppCredentials, list[str]], Awaitable[Any]]:
        if endpoint == TASK_READS:
            return self._linkedin.get_tasks
        return self._linkedin.get_job_statuses

    # -- lanes ----------------------------------------------------------------------------

    async def _ask(
        self, endpoint: str, creds: AppCredentials, keys: list[str], job: JobPosting | None
    ) -> Any:
        loop = asyncio.get_running_loop()
        lane = self._lane(endpoint, creds)
        cost = sum(_query_cost(k) for k in keys) if job is None else 0
        ask = _Ask(keys=keys, job=job, future=loop.create_future(), cost=cost)
        now = loop.time()
        if lane.last_ask:
            lane.gaps.append(now - lane.last_ask)
        lane.last_ask = now
        if lane.pending or lane.in_flight:
            lane.busy_until = lane.last_ask + self._timing.busy_seconds
        lane.pending.append(ask)
        self._schedule(lane)
        return await ask.future

    def _schedule(self, lane: _Lane) -> None:
        loop = asyncio.get_running_loop()
        if lane.full():
            self._flush(lane)
            return
        if lane.timer is not None or not lane.pending:
            return
        lane.gathering_since = now = loop.time()
        lane.gathering_busy = now < lane.busy_until
        lane.timer = loop.call_at(self._sends_at(lane), self._when_due, lane)

    def _sends_at(self, lane: _Lane) -> float:
        return self._timing.sends_at(
            lane.endpoint,
            busy=lane.gathering_busy,
            first_ask=lane.gathering_since,
            last_ask=lane.last_ask,
            usual_gap=usual_gap(lane.gaps),
        )

    def _when_due(self, lane: _Lane) -> None:
        """Send the gathered call, unless asks that came since put it off."""
        loop = asyncio.get_running_loop()
        due = self._sends_at(lane)
        if loop.time() < due:
            lane.timer = loop.call_at(due, self._when_due, lane)
        else:
            self._flush(lane)

    def _flush(self, lane: _Lane) -> None:
        if lane.timer is not None:
            lane.timer.cancel()
            lane.timer = None
        while batch := lane.take():
            if len(batch) == 1 and not lane.pending and not lane.in_flight:
                lane.busy_until = float("-inf")  # alone, none waiting: the burst is over
            lane.in_flight += 1
            lane.last_sent = asyncio.get_running_loop().time()
            if lane.endpoint == JOB_SUBMISSIONS:
                lane.in_flight_keys.update(ask.keys[0] for ask in batch)
            task = asyncio.create_task(self._send(lane, batch))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)
        # What is left waits for the in-flight call on its job: _send reschedules it.

    async def _send(self, lane: _Lane, batch: list[_Ask]) -> None:
        client_id = lane.creds.client_id
        try:
            records = len(batch) if lane.endpoint == JOB_SUBMISSIONS else 1
            await self._budget.acquire(client_id, lane.endpoint, records)
            if self._observer is not None:
                self._observer.batch(lane.endpoint, len(batch))
            if lane.endpoint == JOB_SUBMISSIONS:
                jobs = [ask.job for ask in batch if ask.job is not None]
                submissions = await self._linkedin.submit_jobs(lane.creds, jobs)
                for ask, submission in zip(batch, submissions, strict=True):
                    _answer(ask, submission)
            else:
                keys = list(dict.fromkeys(k for ask in batch for k in ask.keys))
                answer = await self._reader(lane.endpoint)(lane.creds, keys)
                for ask in batch:
                    _answer(ask, _part(answer, ask.keys))
        except LinkedInError as error:
            retry_after = getattr(error, "retry_after", None)
            if error.status == 429 and retry_after and not isinstance(error, CallHeldBack):
                self._budget.throttled(client_id, lane.endpoint, retry_after)
            for ask in batch:
                _fail(ask, copy.copy(error))
        except asyncio.CancelledError:
            for ask in batch:
                ask.future.cancel()
            raise
        except Exception as error:  # not LinkedIn's answer (a bug): every caller sees it
            for ask in batch:
                _fail(ask, error)
        finally:
            for ask in batch:  # never leave a caller waiting, whatever went wrong above
                _fail(ask, TransientLinkedInError("the batched call ended without an answer"))
            lane.in_flight -= 1
            if lane.endpoint == JOB_SUBMISSIONS:
                lane.in_flight_keys.difference_update(ask.keys[0] for ask in batch)
            if lane.pending:
                self._schedule(lane)

    def _drop_idle_lanes(self, now: float) -> None:
        for key, lane in list(self._lanes.items()):
            idle = not (lane.pending or lane.watchers or lane.in_flight or lane.timer)
            if idle and now - lane.last_sent > LANE_IDLE_DROP_SECONDS:
                del self._lanes[key]


def _query_cost(key: str) -> int:
    """Bytes one id adds to `ids=..&ids=..`, counted as LinkedInClient splits queries."""
    return len(urlencode([("ids", key)])) + 1


def _part(answer: BatchResult[Any], keys: list[str]) -> BatchResult[Any]:
    return BatchResult(
        results={k: answer.results[k] for k in keys if k in answer.results},
        errors={k: answer.errors[k] for k in keys if k in answer.errors},
    )


def _answer(ask: _Ask, value: Any) -> None:
    if not ask.future.done():
        ask.future.set_result(value)


def _fail(ask: _Ask, error: BaseException) -> None:
    if not ask.future.done():
        ask.future.set_exception(error)
