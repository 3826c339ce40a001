"""The job lifecycle holds under random operations, LinkedIn faults and worker restarts.

A hypothesis `RuleBasedStateMachine` drives a few jobs of one onboarded customer (premium
contract 555 enabled, P4P) through random create/put, update, upgrade, downgrade, renew,
close, discard, operator retry and cancel, and replays of a request under the same
idempotency key. With each operation it arms sandbox faults (5xx, 429 with Retry-After,
answers dropped after LinkedIn committed the request, failing tasks, a refused status
read) and may restart the worker, before the request or while it runs. Everything is real:
the worker, the sandbox over loopback, the Temporal dev server.

After every step, once each job's operations have settled, it checks:
- LinkedIn's view (the sandbox's job: exists, listing type, closed, jobId, expiry) equals
  the workflow's state when none of the job's operations is unfinished;
- no operation other than an UPDATE reached LinkedIn twice, and none that we report
  FAILED or CANCELLED was applied there: every task LinkedIn created is attributed to the
  operation that sent it (by the task ids the operation knows, else by time: operations
  of one job run one at a time);
- every update answered within its bound (the wait, when asked, plus a margin);
- no job workflow FAILED or was TERMINATED, and none hangs: each settles in bounded time.

`make test` runs two short examples, derandomized and without a database, so every run
sends the same steps. `make soak` sets JOB_SOAK_SECONDS and runs random rounds until that
time is spent; a failure prints the steps that reproduce it (timing aside: the worker,
Temporal and the sandbox run for real). The bugs it found are kept below as plain tests.

The machine is synchronous (hypothesis calls rules one by one); each rule runs its
coroutines on one event loop the test owns, in a thread of its own, so nothing here
depends on pytest-asyncio's loop. The machine starts its own sandbox and talks to the
session's Temporal dev server through a client of its own.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    get_state_machine_test,
    invariant,
    precondition,
    rule,
)
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from activities.jobs import FORBIDDEN_READ_ATTEMPTS
from client.errors import Refused
from client.jobs import DEFAULT_WAIT_SECONDS, JobsClient, UnknownJob
from client.reads import NO_WORKER, WorkflowUnreadable
from domain import job_lifecycle as rules
from domain.job_postings import JobPosting, JobPostingStatus
from domain.job_workflow import (
    JobOperationResult,
    JobSignal,
    JobState,
    JobStatus,
    ListingSnapshot,
    Operation,
    OperationKind,
    OperationOutcome,
    OperationParams,
    ResyncJob,
    job_workflow_id,
)
from linkedin import LinkedInClient
from settings import Settings
from tests.conftest import PARTNER
from tests.jobs_support import job_fields, onboard_with_contract
from tests.sandbox_control import SandboxControl, SandboxServer
from tests.temporal_support import CONVERTER
from workers.replay import every_run, replay
from workers.worker import running_worker

T = TypeVar("T")

CONTRACT = "urn:li:contract:555"
NOT_AUTHORISED = "urn:li:contract:999"
"""A contract the customer never enabled: LinkedIn refuses it (403) and the operation parks."""
INJECTED = "Company apply URL is not reachable (injected)"
"""The message of the tasks the machine makes fail, to tell them from LinkedIn's own."""
STATUS_REFUSED = "Not enough permissions to access: GET /jobPostingStatus (injected)"
DAY_MS = 24 * 3600 * 1000

WAIT_SECONDS = DEFAULT_WAIT_SECONDS
"""How long a call with wait answers at the latest (JobsClient's default)."""
MARGIN_SECONDS = 15
"""On top of the wait: a round trip to Temporal on a busy 2-core machine, a worker restart."""
SETTLE_SECONDS = 120
"""How long a job's operations may take to settle (finish or park) before it counts as hung."""

SOAK_SECONDS = float(os.environ.get("JOB_SOAK_SECONDS", "0"))

FAULTS: dict[str, tuple[str, dict[str, Any]]] = {
    "submit 500": ("simpleJobPostings", {"failNext": 1, "status": 500}),
    "submit 503 twice": ("simpleJobPostings", {"failNext": 2, "status": 503}),
    "submit 429": ("simpleJobPostings", {"failNext": 1, "status": 429, "retryAfter": 1}),
    "submit answer lost": ("simpleJobPostings", {"dropNext": 1}),
    "submit answers lost twice": ("simpleJobPostings", {"dropNext": 2}),
    "submit flaky": ("simpleJobPostings", {"errorRate": 0.5, "seed": 7, "status": 502}),
    "task read 502": ("simpleJobPostingTasks", {"failNext": 2, "status": 502}),
    "task read lost": ("simpleJobPostingTasks", {"dropNext": 1}),
    "status read 504": ("jobPostingStatus", {"failNext": 1, "status": 504}),
    "status read 429": ("jobPostingStatus", {"failNext": 1, "status": 429, "retryAfter": 1}),
    "status read lost": ("jobPostingStatus", {"dropNext": 1}),
    "status read refused": (
        "jobPostingStatus",
        {"failNext": 1, "status": 403, "message": STATUS_REFUSED},
    ),
}
"""Sandbox faults, armed for the next operation and cleared once it settled."""
TASK_FAILS = "task fails"
FAULT_NAMES = [*FAULTS, TASK_FAILS]
ENDPOINTS = sorted({endpoint for endpoint, _ in FAULTS.values()})

LIVE = (OperationOutcome.QUEUED, OperationOutcome.RUNNING, OperationOutcome.NEEDS_ATTENTION)
SENT_ONCE = frozenset(
    {
        OperationKind.CREATE,
        OperationKind.UPGRADE,
        OperationKind.DOWNGRADE,
        OperationKind.RENEW,
        OperationKind.CLOSE,
    }
)
"""What must reach LinkedIn at most once. An UPDATE may be sent again after a lost answer:
jobPostingStatus cannot show whether it was applied, and the same whole job is harmless."""
LINKEDIN_OPERATION = {
    OperationKind.CREATE: "CREATE",
    OperationKind.UPDATE: "UPDATE",
    OperationKind.UPGRADE: "UPDATE",
    OperationKind.DOWNGRADE: "UPDATE",
    OperationKind.RENEW: "RENEW",
    OperationKind.CLOSE: "CLOSE",
}


# -- the world the machine runs in ----------------------------------------------------------


class Harness:
    """An event loop in a thread of its own, a sandbox and a Temporal client, for all examples.

    Rules are synchronous; `run` hands their coroutines to this loop and waits.
    """

    def __init__(self, temporal_target: str, namespace: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self.sandbox_server = SandboxServer().start()
        self.url = self.sandbox_server.url
        self.data_dir = Path(tempfile.mkdtemp(prefix="job-properties-"))
        self.temporal: Client = self.run(
            Client.connect(temporal_target, namespace=namespace, data_converter=CONVERTER)
        )
        self.stats: Counter[str] = Counter()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 600) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        self.sandbox_server.stop()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        shutil.rmtree(self.data_dir, ignore_errors=True)


@dataclass
class Request:
    """The last request a rule sent, to send again under the same idempotency key."""

    job: str
    send: Callable[[str], Awaitable[Operation]]
    key: str
    answer: str
    """The id of the operation that answered it."""


@dataclass
class Ledger:
    """Every operation of one job as last seen: the workflow's state keeps only recent ones."""

    operations: dict[str, Operation] = field(default_factory=dict)

    def record(self, state: JobState) -> None:
        for op in state.operations:
            self.operations[op.id] = op


# -- the machine ----------------------------------------------------------------------------

FINAL = (JobStatus.CLOSED, JobStatus.DISCARDED)
MAX_OPEN_JOBS = 3
"""A new job is posted while fewer than this many are open."""
PLANS = st.sampled_from(["basic", "slots", "p4p"])
FAULT_LISTS = st.lists(st.sampled_from(FAULT_NAMES), max_size=2, unique=True)
CRASHES = st.sampled_from([None] * 8 + ["before", 0.0, 0.05, 0.3])
LINKEDIN_CHANGES = st.sampled_from(
    [
        {"listingStatus": "NOT_LISTED", "reason": "Closed after member reports"},
        {"listingStatus": "LISTED"},
        {"linkedInApplyStatus": "NOT_ENABLED"},
        {"linkedInApplyStatus": "ENABLED"},
        {"promotionStatus": "PROMOTED"},
    ]
)
"""What LinkedIn changes on its own side (linkedin-inbound.md §3)."""
CHANGED = {
    "listingStatus": "listing_status",
    "linkedInApplyStatus": "linked_in_apply_status",
    "promotionStatus": "promotion_status",
}
"""Mostly none; else restart the worker before sending, or this many seconds after."""


# Preconditions are named functions: hypothesis describes each one at every step, and a
# lambda's description is read from its source with `ast`, whose state CPython 3.11 does
# not guard between threads (python/cpython#106905) while a worker thread compiles.
def has_open_job(machine: JobLifecycleMachine) -> bool:
    return bool(machine._open())


def has_unposted_job(machine: JobLifecycleMachine) -> bool:
    return bool(machine._unposted())


def has_ended_job(machine: JobLifecycleMachine) -> bool:
    return bool(machine._ended())


def has_posted_job(machine: JobLifecycleMachine) -> bool:
    return bool(machine._posted())


def has_parked_operation(machine: JobLifecycleMachine) -> bool:
    return bool(machine._with(OperationOutcome.NEEDS_ATTENTION))


def has_sent_a_request(machine: JobLifecycleMachine) -> bool:
    return machine.last is not None


class JobLifecycleMachine(RuleBasedStateMachine):
    harness: Harness

    def __init__(self) -> None:
        super().__init__()
        h = self.harness
        self.customer_id = f"prop-{uuid.uuid4().hex[:8]}"
        self.settings = Settings(
            linkedin_api_url=h.url,
            linkedin_oauth_url=h.url,
            task_queue=f"tq-{self.customer_id}",
            data_dir=h.data_dir / self.customer_id,
            job_task_poll_seconds=0.1,
            job_settle_seconds=1.0,
            job_credentials_wait_seconds=2.0,
        )
        self.settings.data_dir.mkdir(parents=True)
        self.jobs = JobsClient(h.temporal, task_queue=self.settings.task_queue)
        self.control = SandboxControl(h.url)
        self.client_id = ""
        self.workers = AsyncExitStack()
        self.views: dict[str, JobState | None] = {}
        """Each job as the last check saw it (None: no workflow)."""
        self.ledgers: dict[str, Ledger] = {}
        self.counter = 0
        self.last: Request | None = None
        self.listed_at = int(time.time() * 1000) - 60_000
        h.run(self._set_up())

    async def _set_up(self) -> None:
        await self.control.reset()
        await self.control.settings(
            taskDelaySeconds=0,
            tokenTtlSeconds=1800,
            tokenExpiresInAsString=False,
            encodeResponseKeys=True,
        )
        await self._start_worker()
        async with LinkedInClient(
            api_url=self.harness.url, oauth_url=self.harness.url, partner=PARTNER
        ) as linkedin:
            customer = await onboard_with_contract(
                linkedin,
                self.control,
                self.settings,
                self.harness.temporal,
                self.customer_id,
                CONTRACT,
                "P4P",
            )
        self.client_id = customer.creds.client_id

    def teardown(self) -> None:
        async def tear_down() -> None:
            await self.workers.aclose()
            await self.control.http.aclose()

        self.harness.run(tear_down())

    async def _start_worker(self) -> None:
        await self.workers.enter_async_context(running_worker(self.harness.temporal, self.settings))

    async def _restart_worker(self) -> None:
        await self.workers.aclose()
        self.workers = AsyncExitStack()
        await self._start_worker()
        self.harness.stats["worker restarts"] += 1

    # -- which jobs ------------------------------------------------------------------------

    def _open(self) -> list[str]:
        return [j for j, v in self.views.items() if v is not None and v.status not in FINAL]

    def _ended(self) -> list[str]:
        return [j for j, v in self.views.items() if v is not None and v.status in FINAL]

    def _with(self, outcome: OperationOutcome) -> list[str]:
        return [
            j
            for j in self._open()
            if any(op.outcome == outcome for op in self.views[j].operations)  # type: ignore[union-attr]
        ]

    def _posted(self) -> list[str]:
        """Open jobs LinkedIn has."""
        return [j for j in self._open() if self.views[j].posting is not None]  # type: ignore[union-attr]

    def _unposted(self) -> list[str]:
        """Open jobs LinkedIn never took: their CREATE failed or is parked."""
        return [j for j in self._open() if self.views[j].posting is None]  # type: ignore[union-attr]

    def _postable(self) -> list[str]:
        """Open jobs, and a new one while few are open (every other one with a "/")."""
        jobs = self._open()
        if len(jobs) < MAX_OPEN_JOBS:
            n = len(self.views) + 1
            jobs.append(f"job-{n}" if n % 2 else f"x/{n}")
        return jobs

    @staticmethod
    def _pick(data: st.DataObject, jobs: list[str]) -> str:
        return data.draw(st.sampled_from(jobs), label="job")

    # -- what the rules send --------------------------------------------------------------

    def _next(self) -> int:
        self.counter += 1
        return self.counter

    def _job(self, job: str, plan: str = "basic") -> dict[str, Any]:
        """The whole job with a title never sent before, so each content change is unique."""
        extra: dict[str, Any] = {}
        if plan != "basic":
            extra = {"listing_type": "PREMIUM", "contract": CONTRACT}
        if plan == "p4p":
            extra["budget"] = self._budget()
        title = f"Engineer {job} v{self._next()}"
        fields = job_fields(job, title=title, listed_at=self.listed_at, **extra)
        return JobPosting.model_validate(fields).to_wire()

    def _budget(self) -> dict[str, Any]:
        """A P4P budget no other operation uses."""
        amount = f"{100 + self._next()}.00"
        return {"payForPerformanceTotalBudget": {"currencyCode": "USD", "amount": amount}}

    def _waits(self, job: str, wait: bool) -> bool:
        """Behind a parked operation an update with wait answers only after its whole wait
        (30 s, tests/test_job_exactly_once.py checks it): the machine does not wait there."""
        return wait and job not in self._with(OperationOutcome.NEEDS_ATTENTION)

    def _operate(
        self,
        job: str,
        what: str,
        send: Callable[[str], Awaitable[Operation]],
        *,
        wait: bool,
        faults: list[str],
        crash: float | str | None,
    ) -> None:
        """Send one request with faults armed, maybe restart the worker meanwhile, settle."""
        key = f"{what}-{self._next()}"
        self.harness.stats[what] += 1
        answer = self.harness.run(self._send(job, what, send, key, wait, faults, crash))
        self.views.setdefault(job, None)
        if answer is not None:
            self.last = Request(job, send, key, answer.id)

    async def _send(
        self,
        job: str,
        what: str,
        send: Callable[[str], Awaitable[Operation]],
        key: str,
        wait: bool,
        faults: list[str],
        crash: float | str | None,
    ) -> Operation | None:
        await self._arm(faults)
        if crash == "before":
            await self._restart_worker()
        bound = (WAIT_SECONDS if wait else 0) + MARGIN_SECONDS
        pending = asyncio.ensure_future(asyncio.wait_for(send(key), bound))
        if isinstance(crash, float):
            await asyncio.sleep(crash)
            await self._restart_worker()
        answer: Operation | None = None
        try:
            answer = await pending
        except TimeoutError:
            raise AssertionError(f"{what} on {job} did not answer within {bound}s") from None
        except Refused as refusal:  # refused, or the job has ended: an answer too
            self.harness.stats[f"refused: {refusal.reason}: {refusal.message[:60]}"] += 1
        await self._settle(job)
        await self._disarm()
        return answer

    async def _arm(self, faults: list[str]) -> None:
        for name in faults:
            self.harness.stats[f"fault: {name}"] += 1
            if name == TASK_FAILS:
                await self.control.fail_next_tasks(INJECTED)
                continue
            endpoint, fault = FAULTS[name]
            await self.control.fault(endpoint, **fault)

    async def _disarm(self) -> None:
        """Faults the operation did not meet are dropped (a failing task cannot be)."""
        for endpoint in ENDPOINTS:
            await self.control.fault(endpoint)

    async def _settle(self, job: str) -> JobState | None:
        """The job once nothing more happens without a request: its operations finished or
        parked, and its workflow completed when the job is closed or discarded."""
        deadline = time.monotonic() + SETTLE_SECONDS
        state = None
        while time.monotonic() < deadline:
            try:
                state = await self._state(job)
            except WorkflowUnreadable as unread:  # a worker restarting: read again
                if unread.reason != NO_WORKER:
                    raise  # its workflow task fails: a finding, not a wait
                await asyncio.sleep(0.1)
                continue
            if state is None or await self._settled(job, state):
                return state
            await asyncio.sleep(0.1)
        raise AssertionError(f"{job} did not settle within {SETTLE_SECONDS}s: {state!r}")

    async def _settled(self, job: str, state: JobState) -> bool:
        if any(op.outcome == OperationOutcome.RUNNING for op in state.operations):
            return False
        if isinstance(
            rules.decide(state, datetime.now(UTC)),
            rules.StartOperation | rules.FailOperation | rules.ReadStatus,
        ):
            return False
        if state.status in FINAL:
            return await self._workflow_status(job) != WorkflowExecutionStatus.RUNNING
        return True

    async def _state(self, job: str) -> JobState | None:
        """The job's state; None when it has no workflow (never sent)."""
        try:
            return await self.jobs.state(self.customer_id, job)
        except UnknownJob:
            return None

    async def _workflow_status(self, job: str) -> WorkflowExecutionStatus | None:
        handle = self.harness.temporal.get_workflow_handle(job_workflow_id(self.customer_id, job))
        try:
            return (await handle.describe()).status
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                return None
            raise

    # -- rules ----------------------------------------------------------------------------

    @rule(data=st.data(), plan=PLANS, wait=st.booleans(), faults=FAULT_LISTS, crash=CRASHES)
    def put(
        self,
        data: st.DataObject,
        plan: str,
        wait: bool,
        faults: list[str],
        crash: float | str | None,
    ) -> None:
        """The whole job: a CREATE (in the plan's listing) while LinkedIn lacks it, else an
        UPDATE with a new title and the listing left as it is."""
        job = self._pick(data, self._postable())
        view = self.views.get(job)
        body = self._job(job, "basic" if view is not None and view.posting else plan)
        wait = self._waits(job, wait)
        self._operate(
            job,
            "put",
            lambda key: self.jobs.put(self.customer_id, body, wait=wait, idempotency_key=key),
            wait=wait,
            faults=faults,
            crash=crash,
        )

    @precondition(has_open_job)
    @rule(data=st.data(), wait=st.booleans(), faults=FAULT_LISTS)
    def update(self, data: st.DataObject, wait: bool, faults: list[str]) -> None:
        job = self._pick(data, self._open())
        body = self._job(job)
        wait = self._waits(job, wait)
        self._operate(
            job,
            "update",
            lambda key: self.jobs.update(self.customer_id, body, wait=wait, idempotency_key=key),
            wait=wait,
            faults=faults,
            crash=None,
        )

    @precondition(has_open_job)
    @rule(
        data=st.data(),
        plan=st.sampled_from(["slots", "slots until", "p4p", "not authorised"]),
        wait=st.booleans(),
        faults=FAULT_LISTS,
        crash=CRASHES,
    )
    def upgrade(
        self,
        data: st.DataObject,
        plan: str,
        wait: bool,
        faults: list[str],
        crash: float | str | None,
    ) -> None:
        """BASIC → PREMIUM: premium slots (maybe with an expiry), P4P with a budget, or with
        a contract the customer never enabled (LinkedIn refuses it: the upgrade parks)."""
        job = self._pick(data, self._open())
        contract = NOT_AUTHORISED if plan == "not authorised" else CONTRACT
        budget = self._budget() if plan == "p4p" else None
        expire_at = None
        if plan == "slots until":  # 40 to 89 days, and never the same twice
            expire_at = int(time.time() * 1000) + (40 + self._next() % 50) * DAY_MS
        wait = self._waits(job, wait)
        self._operate(
            job,
            "upgrade",
            lambda key: self.jobs.upgrade(
                self.customer_id,
                job,
                contract,
                budget=budget,
                expire_at=expire_at,
                wait=wait,
                idempotency_key=key,
            ),
            wait=wait,
            faults=faults,
            crash=crash,
        )

    @precondition(has_open_job)
    @rule(data=st.data(), wait=st.booleans(), faults=FAULT_LISTS, crash=CRASHES)
    def downgrade(
        self, data: st.DataObject, wait: bool, faults: list[str], crash: float | str | None
    ) -> None:
        job = self._pick(data, self._open())
        wait = self._waits(job, wait)
        self._operate(
            job,
            "downgrade",
            lambda key: self.jobs.downgrade(self.customer_id, job, wait=wait, idempotency_key=key),
            wait=wait,
            faults=faults,
            crash=crash,
        )

    @precondition(has_open_job)
    @rule(data=st.data(), wait=st.booleans(), faults=FAULT_LISTS, crash=CRASHES)
    def renew(
        self, data: st.DataObject, wait: bool, faults: list[str], crash: float | str | None
    ) -> None:
        """RENEW; a P4P job takes a new budget."""
        job = self._pick(data, self._open())
        view = self.views[job]
        budget = self._budget() if view is not None and view.budget is not None else None
        wait = self._waits(job, wait)
        self._operate(
            job,
            "renew",
            lambda key: self.jobs.renew(
                self.customer_id, job, budget, wait=wait, idempotency_key=key
            ),
            wait=wait,
            faults=faults,
            crash=crash,
        )

    @precondition(has_open_job)
    @rule(data=st.data(), wait=st.booleans(), faults=FAULT_LISTS, crash=CRASHES)
    def close(
        self, data: st.DataObject, wait: bool, faults: list[str], crash: float | str | None
    ) -> None:
        job = self._pick(data, self._open())
        wait = self._waits(job, wait)
        self._operate(
            job,
            "close",
            lambda key: self.jobs.close(self.customer_id, job, wait=wait, idempotency_key=key),
            wait=wait,
            faults=faults,
            crash=crash,
        )

    @precondition(has_unposted_job)
    @rule(data=st.data())
    def discard(self, data: st.DataObject) -> None:
        """Give up a job whose CREATE failed or is parked (refused while it may have
        reached LinkedIn)."""
        job = self._pick(data, self._unposted())
        self._operate(
            job,
            "discard",
            lambda key: self.jobs.discard(self.customer_id, job, idempotency_key=key),
            wait=False,
            faults=[],
            crash=None,
        )

    @precondition(has_ended_job)
    @rule(data=st.data(), what=st.sampled_from(["close", "renew", "put"]))
    def after_the_end(self, data: st.DataObject, what: str) -> None:
        """A closed or discarded job answers for itself: a close with the first close, the
        rest with a conflict; nothing reaches LinkedIn (the checks count its tasks)."""
        job = self._pick(data, self._ended())
        body = self._job(job)
        calls: dict[str, Callable[[str], Awaitable[Operation]]] = {
            "close": lambda key: self.jobs.close(self.customer_id, job, idempotency_key=key),
            "renew": lambda key: self.jobs.renew(self.customer_id, job, idempotency_key=key),
            "put": lambda key: self.jobs.put(self.customer_id, body, idempotency_key=key),
        }
        self._operate(job, f"{what} after the end", calls[what], wait=False, faults=[], crash=None)

    @precondition(has_parked_operation)
    @rule(data=st.data(), cancel=st.booleans(), every=st.booleans(), faults=FAULT_LISTS)
    def operator(self, data: st.DataObject, cancel: bool, every: bool, faults: list[str]) -> None:
        """An operator retries or cancels the parked operation, or every parked one. A
        cancel of one that may have reached LinkedIn is refused: only a retry can tell."""
        job = self._pick(data, self._with(OperationOutcome.NEEDS_ATTENTION))
        view = self.views[job]
        assert view is not None
        parked = next(
            op for op in view.operations if op.outcome == OperationOutcome.NEEDS_ATTENTION
        )
        operation_id = None if every else parked.id
        act = self.jobs.cancel if cancel else self.jobs.retry
        self.harness.stats["cancel" if cancel else "retry"] += 1

        async def signal() -> None:
            await self._arm(faults)
            try:
                await asyncio.wait_for(act(self.customer_id, job, operation_id), MARGIN_SECONDS)
            except Refused as refusal:
                assert cancel and parked.may_have_reached_linkedin, refusal.message
                self.harness.stats["cancel refused: may have reached LinkedIn"] += 1
            await self._settle(job)
            await self._disarm()

        self.harness.run(signal())

    @precondition(has_posted_job)
    @rule(data=st.data(), change=LINKEDIN_CHANGES, faults=FAULT_LISTS, crash=CRASHES)
    def linkedin_changes_the_job(
        self, data: st.DataObject, change: dict[str, str], faults: list[str], crash: Any
    ) -> None:
        """LinkedIn changes the job on its side and says so (its webhook's routing is a
        `check_status` signal): the job reads LinkedIn and shows what it now says."""
        job = self._pick(data, self._posted())
        self.harness.stats[f"linkedin: {next(iter(change))}"] += 1

        async def linkedin() -> None:
            await self.control.change_at_linkedin(self.customer_id, job, **change)
            await self._arm(faults)
            if crash == "before":
                await self._restart_worker()
            await self._handle(job).signal(JobSignal.CHECK_STATUS)
            if isinstance(crash, float):
                await asyncio.sleep(crash)
                await self._restart_worker()
            await self._settle(job)
            await self._disarm()

        self.harness.run(linkedin())

    @precondition(has_posted_job)
    @rule(data=st.data(), again=st.booleans(), faults=FAULT_LISTS, crash=CRASHES)
    def linkedin_asks_for_a_resync(
        self, data: st.DataObject, again: bool, faults: list[str], crash: Any
    ) -> None:
        """LinkedIn asks for the job again (maybe twice, as a redelivery): it is resent as
        one UPDATE per request."""
        job = self._pick(data, self._posted())
        request = ResyncJob(request_id=f"rs-{self._next()}")
        self.harness.stats["linkedin: resync"] += 1

        async def resync() -> None:
            await self._arm(faults)
            if crash == "before":
                await self._restart_worker()
            for _ in range(2 if again else 1):
                await self._handle(job).signal(JobSignal.RESYNC, request)
            if isinstance(crash, float):
                await asyncio.sleep(crash)
                await self._restart_worker()
            state = await self._settle(job)
            await self._disarm()
            assert state is not None
            resent = [
                op for op in state.operations if op.id == rules.RESYNC_PREFIX + request.request_id
            ]
            assert len(resent) <= 1 and (
                state.status in FINAL or resent or state.has(OperationKind.CLOSE)
            )

        self.harness.run(resync())

    def _handle(self, job: str) -> Any:
        return self.harness.temporal.get_workflow_handle(job_workflow_id(self.customer_id, job))

    @precondition(has_sent_a_request)
    @rule()
    def send_again(self) -> None:
        """The last request again under its idempotency key (a client retry after a timeout)
        answers the operation it created, and creates nothing."""
        last = self.last
        assert last is not None
        self.harness.stats["sent again"] += 1

        async def again() -> Operation:
            answer = await asyncio.wait_for(last.send(last.key), WAIT_SECONDS + MARGIN_SECONDS)
            await self._settle(last.job)
            return answer

        answer = self.harness.run(again())
        assert answer.id == last.answer, (
            f"the same request under key {last.key} answered {answer.id}, not {last.answer}"
        )

    # -- what must hold after every step --------------------------------------------------

    @invariant()
    def linkedin_agrees_with_the_workflows(self) -> None:
        self.harness.run(self._check())

    async def _check(self) -> None:
        ended = {job: view is not None and view.status in FINAL for job, view in self.views.items()}
        for job in self.views:
            if not ended[job]:  # an ended job cannot change
                self.views[job] = await self._settle(job)
        # LinkedIn is read once every job settled: an operation still running when it was
        # read before made tasks the check never saw (the soak's "SUCCEEDED, no task").
        world = await self.control.state()
        linkedin_jobs = {
            j["external_id"]: j for j in world["jobs"] if j["client_id"] == self.client_id
        }
        tasks = [t for t in world["tasks"] if t["client_id"] == self.client_id]
        for job in set(linkedin_jobs) | {t["external_id"] for t in tasks}:
            assert job in self.views, f"LinkedIn has {job}, which the machine never sent"
        for job, state in self.views.items():
            job_tasks = sorted(
                (t for t in tasks if t["external_id"] == job), key=lambda t: t["created_at_ms"]
            )
            if state is None:
                assert job not in linkedin_jobs, f"LinkedIn has {job}, we have no workflow"
                assert not job_tasks, f"{job}: tasks at LinkedIn without a workflow"
                continue
            if not ended[job]:
                await self._check_workflow(job, state)
            ledger = self.ledgers.setdefault(job, Ledger())
            ledger.record(state)
            _check_failures(job, ledger)
            if not any(op.outcome in LIVE for op in state.operations):
                _check_same_view(job, state, linkedin_jobs.get(job))
                _check_linkedin_changes(job, state, linkedin_jobs.get(job))
            _check_exactly_once(job, ledger, job_tasks)

    async def _check_workflow(self, job: str, state: JobState) -> None:
        status = await self._workflow_status(job)
        assert status in (WorkflowExecutionStatus.RUNNING, WorkflowExecutionStatus.COMPLETED), (
            f"{job}: workflow {status}"
        )
        if status == WorkflowExecutionStatus.COMPLETED:
            assert state.status in FINAL, state.status


# -- the checks -----------------------------------------------------------------------------


def _ms(when: datetime | None) -> int | None:
    return None if when is None else round(when.timestamp() * 1000)


def _check_same_view(job: str, state: JobState, linkedin: dict[str, Any] | None) -> None:
    """With nothing unfinished, LinkedIn's job is what the workflow says it is."""
    ours: dict[str, Any] | None = None
    if state.posting is not None:
        ours = {
            "listing_type": str(state.listing_type or "BASIC"),
            "closed": state.status == JobStatus.CLOSED,
            "job_id": state.job_id,
            "expire_at": _ms(state.expire_at),
        }
    theirs: dict[str, Any] | None = None
    if linkedin is not None:
        theirs = {
            "listing_type": linkedin["listing_type"],
            "closed": linkedin["closed"],
            "job_id": str(linkedin["job_id"]),
            "expire_at": linkedin["expire_at"],
        }
    assert ours == theirs, (
        f"{job}: LinkedIn has {theirs}, the workflow says {ours} "
        f"(status {state.status}, operations {_summary(state.operations)})"
    )


def _check_linkedin_changes(job: str, state: JobState, linkedin: dict[str, Any] | None) -> None:
    """What LinkedIn changed on its side, the job shows once it has read it; a job LinkedIn
    took down is told apart from one we closed."""
    if linkedin is None or linkedin["closed"] or not state.status_read_at:
        return
    changes = linkedin.get("linkedin_changes") or {}
    for name, ours in CHANGED.items():
        if name in changes:
            assert str(getattr(state, ours)) == changes[name], (
                f"{job}: LinkedIn set {name} {changes[name]}; the job shows {getattr(state, ours)}"
            )
    if changes.get("listingStatus") == "NOT_LISTED" and not state.expired:
        assert state.status == JobStatus.UNLISTED_BY_LINKEDIN, f"{job}: {state.status}"


def _check_failures(job: str, ledger: Ledger) -> None:
    """Only what the machine injected or asked for may fail or park an operation."""
    for op in ledger.operations.values():
        error = op.error or ""
        if op.outcome == OperationOutcome.FAILED:
            assert INJECTED in error or op.attempts == 0, f"{job}: {op.kind} failed: {error}"
        if op.outcome == OperationOutcome.NEEDS_ATTENTION:
            assert "(injected)" in error or NOT_AUTHORISED in error, (
                f"{job}: {op.kind} parked: {error}"
            )


def _check_exactly_once(job: str, ledger: Ledger, tasks: list[dict[str, Any]]) -> None:
    """Each task LinkedIn created belongs to one operation; count them per operation."""
    owners = _attribute(ledger, tasks)
    for op in ledger.operations.values():
        mine = [t for t in tasks if owners.get(t["urn"]) == op.id]
        for task in mine:
            assert task["operation"] == LINKEDIN_OPERATION[op.kind], (
                f"{job}: a {task['operation']} task attributed to {op.kind} {op.id}"
            )
        applied = [t for t in mine if t["status"] != "FAILED"]
        refused = [t for t in mine if t["status"] == "FAILED" and INJECTED not in _error(t)]
        if op.kind in SENT_ONCE:
            assert len(applied) + len(refused) <= 1, (
                f"{job}: {op.kind} {op.id} reached LinkedIn {len(applied) + len(refused)} "
                f"times: {_tasks(mine)}"
            )
        if op.outcome == OperationOutcome.SUCCEEDED and op.kind in LINKEDIN_OPERATION:
            assert applied, (
                f"{job}: {op.kind} {op.id} SUCCEEDED, LinkedIn has no task; "
                f"{_attribution(ledger, tasks, owners)}"
            )
        if op.outcome in (OperationOutcome.FAILED, OperationOutcome.CANCELLED):
            assert not applied, (
                f"{job}: {op.kind} {op.id} is {op.outcome} ({op.error}) but LinkedIn "
                f"applied it: {_tasks(mine)}"
            )


def _attribute(ledger: Ledger, tasks: list[dict[str, Any]]) -> dict[str, str]:
    """Task urn → operation id: by the task ids an operation knows; else by time.

    A job's operations run one at a time, and an operation's end (`finished_at`, the
    workflow's clock on the same host) comes after every task it created and before the
    next operation starts; a task whose answer was lost is the next operation to finish's.
    Tasks after the last finished operation belong to the unfinished one.

    Except after a worker restart: an operation whose answer was lost and which the new
    worker's attempt reconciled showed `finished_at` as early as its start (the soak saw a
    CREATE "finished" 26 ms before its only task). A task the rule above gives to an
    operation of another kind, or to none, is the latest operation's of its own kind that
    finished before it.
    """
    owners = {t: op.id for op in ledger.operations.values() for t in op.task_ids}
    ran = sorted(
        (op for op in ledger.operations.values() if op.attempts and op.finished_at),
        key=lambda op: op.finished_at or datetime.min.replace(tzinfo=UTC),
    )
    unfinished = [op for op in ledger.operations.values() if op.outcome in LIVE]
    for task in tasks:
        if task["urn"] in owners:
            continue
        created = task["created_at_ms"]
        owner = next(
            (op for op in ran if (_ms(op.finished_at) or 0) >= created),
            unfinished[0] if unfinished else None,
        )
        if owner is None or LINKEDIN_OPERATION.get(owner.kind) != task["operation"]:
            earlier = [
                op
                for op in ran
                if (_ms(op.finished_at) or 0) < created
                and LINKEDIN_OPERATION.get(op.kind) == task["operation"]
            ]
            owner = earlier[-1] if earlier else owner
        owners[task["urn"]] = owner.id if owner is not None else "nobody"
    return owners


def _attribution(ledger: Ledger, tasks: list[dict[str, Any]], owners: dict[str, str]) -> str:
    """What the exactly-once check saw, for its message: each task and each operation."""
    seen = [
        f"{t['operation']} {t['status']} at {t['created_at_ms']} -> {owners.get(t['urn'])}"
        for t in tasks
    ]
    ran = [
        f"{op.id} {op.kind} {op.outcome} attempts={op.attempts} "
        f"finished={_ms(op.finished_at)} tasks={len(op.task_ids)}"
        for op in ledger.operations.values()
    ]
    return f"tasks {seen}; operations {ran}"


def _error(task: dict[str, Any]) -> str:
    return str(task.get("error_message") or "")


def _tasks(tasks: list[dict[str, Any]]) -> list[str]:
    return [f"{t['operation']} {t['status']} {_error(t)}".strip() for t in tasks]


def _summary(operations: list[Operation]) -> list[str]:
    return [f"{op.kind} {op.outcome} {op.note or ''} {op.error or ''}".strip() for op in operations]


# -- what the machine found, kept as plain examples -----------------------------------------


def _listed_after_updates(updates: int) -> JobState:
    """A job LinkedIn has, after `updates` more operations than the state keeps in full."""
    now = datetime.now(UTC)
    state = rules.new_state("cust-1", "job-1")
    for n in range(updates + 1):
        kind = OperationKind.UPDATE if n else OperationKind.CREATE
        fields = job_fields("job-1", title=f"v{n}", job_posting_operation_type=kind)
        params = OperationParams(job=JobPosting.model_validate(fields))
        rules.evolve(state, rules.OperationRequested(f"op-{n}", kind, params, now))
        command = rules.decide(state, now)
        assert isinstance(command, rules.StartOperation)
        rules.evolve(state, rules.OperationStarted(command.operation_id, command.posting, now))
        result = JobOperationResult(
            succeeded=True,
            status=JobPostingStatus.model_validate(
                {"externalJobPostingId": "job-1", "listingStatus": "LISTED"}
            ),
        )
        rules.evolve(state, rules.OperationAnswered(f"op-{n}", result, now))
    return state


def test_a_task_is_its_operations_when_a_restart_left_finished_at_early() -> None:
    """Found by the soak: a CREATE reconciled by the new worker's attempt showed
    `finished_at` 26 ms before its only task; that task is still the CREATE's."""
    finished = datetime(2026, 12, 3, 14, 21, 16, 81000, tzinfo=UTC)
    create = Operation(
        id="put-45",
        kind=OperationKind.CREATE,
        requested_at=finished,
        outcome=OperationOutcome.SUCCEEDED,
        attempts=1,
        finished_at=finished,
    )
    task = {"urn": "t-1", "operation": "CREATE", "created_at_ms": _ms(finished) + 26}
    assert _attribute(Ledger({"put-45": create}), [task]) == {"t-1": "put-45"}


def test_a_put_after_many_operations_is_still_an_update() -> None:
    """Found by the machine: once the CREATE was trimmed from the state, a PUT became a
    CREATE, which LinkedIn refuses for a job it has (or fails as a duplicate)."""
    state = _listed_after_updates(rules.KEEP_FINISHED)
    assert all(op.kind != OperationKind.CREATE for op in state.operations)
    assert rules.put_kind(state) == OperationKind.UPDATE
    with pytest.raises(rules.OperationRefused, match="already exists"):
        rules.check_request(
            state,
            OperationKind.CREATE,
            OperationParams(),
            "again",
            state.operations[-1].requested_at,
        )


def test_a_job_linkedin_has_cannot_be_discarded_after_many_operations() -> None:
    """Found with the above: a discard ended the workflow of a job still listed at LinkedIn."""
    state = _listed_after_updates(rules.KEEP_FINISHED)
    with pytest.raises(rules.OperationRefused, match="close it instead"):
        rules.check_request(state, OperationKind.DISCARD, OperationParams(), "d", datetime.now(UTC))


def test_a_renew_that_brought_a_premium_expiry_forward_was_applied() -> None:
    """Found by the machine: RENEW resets a job to 30 days from now (seed 002), which is
    earlier than a premium job's expireAt of up to 90 days. Read after a lost answer, that
    expiry was taken for "not renewed", and the RENEW was sent again, and again."""
    now = datetime.now(UTC)
    before = ListingSnapshot(
        job_id="1",
        listing_status="LISTED",
        promotion_status="PROMOTED",
        expire_at_ms=_ms(now) + 80 * DAY_MS,
    )
    renewed = JobPostingStatus.model_validate(
        {
            "externalJobPostingId": "job-1",
            "listingStatus": "LISTED",
            "promotionStatus": "PROMOTED",
            "jobPostingInfo": {"expireAt": _ms(now) + 30 * DAY_MS},
        }
    )
    assert rules.already_applied(OperationKind.RENEW, before, renewed)


@pytest.mark.usefixtures("worker")
async def test_an_upgrade_linkedin_applied_is_not_reported_cancelled(
    sandbox: SandboxControl,
    linkedin: LinkedInClient,
    settings: Settings,
    temporal_env: WorkflowEnvironment,
) -> None:
    """The upgrade's task SUCCEEDED, the status reads after it were refused (403). Found
    here first: the upgrade parked, an operator's cancel recorded it CANCELLED and the job
    BASIC while LinkedIn listed it PREMIUM. Then the cancel was refused (only a retry could
    tell). Now the 403 is tried again, and if it stays, the upgrade succeeds all the same
    (LinkedIn did it) and the job reads its status later (issue 18)."""
    customer_id = f"cust-{uuid.uuid4().hex[:8]}"
    await onboard_with_contract(
        linkedin, sandbox, settings, temporal_env.client, customer_id, CONTRACT
    )
    jobs = JobsClient(temporal_env.client, task_queue=settings.task_queue)
    body = JobPosting.model_validate(job_fields("job-1")).to_wire()
    await jobs.create(customer_id, body, wait=True)
    refused = FORBIDDEN_READ_ATTEMPTS  # every read of the upgrade's own run
    await sandbox.fault("jobPostingStatus", failNext=refused, status=403, message=STATUS_REFUSED)
    done = await jobs.upgrade(customer_id, "job-1", CONTRACT, wait=True)
    assert done.outcome == OperationOutcome.SUCCEEDED and done.task_ids
    assert "read again" in (done.note or "")
    state = await jobs.state(customer_id, "job-1")
    (at_linkedin,) = (await sandbox.state())["jobs"]
    assert at_linkedin["listing_type"] == "PREMIUM"
    assert state.listing_type == at_linkedin["listing_type"], _summary(state.operations)


@pytest.mark.usefixtures("worker")
async def test_an_upgrade_whose_answer_was_lost_is_not_sent_again_after_a_retry(
    sandbox: SandboxControl,
    linkedin: LinkedInClient,
    settings: Settings,
    temporal_env: WorkflowEnvironment,
) -> None:
    """The upgrade's answer is lost (LinkedIn applied it); the status read that should tell
    is refused (403): the upgrade parks, rightly, but its record does not say it may have
    reached LinkedIn (`may_have_reached_linkedin` is set only when the activity fails). An
    operator's retry then sends it without reading LinkedIn's state: applied twice."""
    customer_id = f"cust-{uuid.uuid4().hex[:8]}"
    await onboard_with_contract(
        linkedin, sandbox, settings, temporal_env.client, customer_id, CONTRACT
    )
    jobs = JobsClient(temporal_env.client, task_queue=settings.task_queue)
    body = JobPosting.model_validate(job_fields("job-1")).to_wire()
    await jobs.create(customer_id, body, wait=True)
    await sandbox.fault("simpleJobPostings", dropNext=1)
    refused = FORBIDDEN_READ_ATTEMPTS  # a 403 is believed once it is tried this often
    await sandbox.fault("jobPostingStatus", failNext=refused, status=403, message=STATUS_REFUSED)
    parked = await jobs.upgrade(customer_id, "job-1", CONTRACT, wait=True)
    assert parked.outcome == OperationOutcome.NEEDS_ATTENTION and not parked.task_ids
    await jobs.retry(customer_id, "job-1", parked.id)
    done = await jobs.await_operation(customer_id, "job-1", parked.id)
    assert done.outcome == OperationOutcome.SUCCEEDED
    tasks = (await sandbox.state())["tasks"]
    upgrades = [t for t in tasks if t["operation"] == "UPDATE"]
    assert len(upgrades) == 1, f"the upgrade reached LinkedIn {len(upgrades)} times"


@pytest.mark.usefixtures("worker")
async def test_a_close_does_not_abandon_an_upgrade_linkedin_may_have_applied(
    sandbox: SandboxControl,
    linkedin: LinkedInClient,
    settings: Settings,
    temporal_env: WorkflowEnvironment,
) -> None:
    """Found by the machine: a close abandoned the parked operations, this upgrade too,
    which LinkedIn had applied (its answer lost, the status reads that should tell refused):
    CANCELLED in our record, PREMIUM at LinkedIn. The close now waits behind it; a retry
    reads LinkedIn, and the close follows."""
    customer_id = f"cust-{uuid.uuid4().hex[:8]}"
    await onboard_with_contract(
        linkedin, sandbox, settings, temporal_env.client, customer_id, CONTRACT
    )
    jobs = JobsClient(temporal_env.client, task_queue=settings.task_queue)
    body = JobPosting.model_validate(job_fields("job-1")).to_wire()
    await jobs.create(customer_id, body, wait=True)
    await sandbox.fault("simpleJobPostings", dropNext=1)
    refused = FORBIDDEN_READ_ATTEMPTS
    await sandbox.fault("jobPostingStatus", failNext=refused, status=403, message=STATUS_REFUSED)
    parked = await jobs.upgrade(customer_id, "job-1", CONTRACT, wait=True)
    assert parked.outcome == OperationOutcome.NEEDS_ATTENTION and parked.may_have_reached_linkedin
    close = await jobs.close(customer_id, "job-1")
    state = await jobs.state(customer_id, "job-1")
    assert state.operation(parked.id).outcome == OperationOutcome.NEEDS_ATTENTION  # type: ignore[union-attr]
    await jobs.retry(customer_id, "job-1", parked.id)
    assert (await jobs.await_operation(customer_id, "job-1", close.id)).outcome == "SUCCEEDED"
    state = await jobs.state(customer_id, "job-1")
    assert state.operation(parked.id).outcome == OperationOutcome.SUCCEEDED  # type: ignore[union-attr]
    assert (state.status, state.listing_type) == (JobStatus.CLOSED, "PREMIUM")


# -- running it -----------------------------------------------------------------------------

_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]

BOUNDED = settings(
    max_examples=2,
    stateful_step_count=12,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=_QUIET,
)
"""`make test`: short, and the same examples every run."""

SOAK = settings(
    max_examples=5,
    stateful_step_count=40,
    derandomize=False,
    database=None,
    deadline=None,
    print_blob=True,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    suppress_health_check=_QUIET,
)
"""`make soak`: random rounds of longer sequences until JOB_SOAK_SECONDS have passed."""


def test_job_lifecycle_under_random_operations_faults_and_restarts(
    temporal_env: WorkflowEnvironment, capsys: pytest.CaptureFixture[str]
) -> None:
    class Machine(JobLifecycleMachine):
        pass

    # Built before any thread starts: building reads the machine's source with `ast`
    # (hypothesis's database digest), which must not race a worker thread's compile
    # (python/cpython#106905). Each round then runs the built test.
    bounded = get_state_machine_test(Machine, settings=BOUNDED)
    soak = get_state_machine_test(Machine, settings=SOAK)
    config = temporal_env.client.service_client.config
    harness = Harness(config.target_host, temporal_env.client.namespace)
    Machine.harness = harness
    started = time.monotonic()
    rounds = 0
    try:
        if not SOAK_SECONDS:
            bounded()
        while time.monotonic() - started < SOAK_SECONDS:
            soak()
            rounds += 1
        runs = harness.run(every_run(harness.temporal, 'CustomerId STARTS_WITH "prop-"'))
        tally = harness.run(replay(runs, harness.temporal.data_converter))
        with capsys.disabled():
            print(f"\nproperty test: {tally.line()}")
        assert tally.total > 0
        assert (tally.healed, tally.failed) == ([], {}), "every run replays at once"
    finally:
        harness.close()
        if SOAK_SECONDS:
            with capsys.disabled():
                minutes = (time.monotonic() - started) / 60
                print(f"\nsoak: {rounds} rounds of {SOAK.max_examples} in {minutes:.1f} min")
                for what, count in sorted(harness.stats.items()):
                    print(f"  {what}: {count}")
