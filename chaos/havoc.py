"""LinkedIn's bad days and ours: sandbox faults, SIGKILLs, and the journal kept across them.

Everything is drawn from one seeded `random.Random`, so a run's schedule of faults and
kills can be repeated (process timing still varies).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from typing import Any

import httpx
import structlog

from chaos.ats import TASK_FAILURE, Ledger
from chaos.stack import ChaosStack

log = structlog.get_logger("chaos")

ENDPOINTS = (
    "accessToken",
    "provisionedApplications",
    "atsIntegrations",
    "simpleJobPostings",
    "simpleJobPostingTasks",
    "jobPostingStatus",
)
VICTIMS = {"worker": 4, "sandbox": 3, "temporal": 2, "api": 1}
"""How often each process is picked to be killed, relative to the others."""


class Journal:
    """The sandbox's request journal, collected before it dies with the sandbox."""

    def __init__(self, sandbox_url: str) -> None:
        self.http = httpx.AsyncClient(base_url=sandbox_url, timeout=30)
        self.entries: list[dict[str, Any]] = []
        self._last_at = 0.0

    async def collect(self) -> None:
        """Append the entries not seen yet (the journal is in time order)."""
        try:
            answer = await self.http.get("/sandbox/requests")
            answer.raise_for_status()
        except httpx.HTTPError:
            return
        fresh = [e for e in answer.json() if e["at"] > self._last_at]
        if fresh:
            self.entries.extend(fresh)
            self._last_at = fresh[-1]["at"]


class Havoc:
    """Injects faults and kills processes until told to stop; counts what it did."""

    def __init__(
        self,
        stack: ChaosStack,
        journal: Journal,
        rng: random.Random,
        kill_every: float,
        ledger: Ledger,
    ) -> None:
        self.stack = stack
        self.ledger = ledger
        self.journal = journal
        self.rng = rng
        self.kill_every = kill_every
        self.sandbox = httpx.AsyncClient(base_url=stack.sandbox_url, timeout=10)
        self.faults: Counter[str] = Counter()
        self.linkedin: Counter[str] = Counter()
        """What LinkedIn did on its own side: jobs changed, resyncs requested."""
        self.lock = asyncio.Lock()
        """Held while a process is down, so faults and the journal wait for the sandbox."""

    async def faults_until(self, until: float) -> None:
        while time.monotonic() < until:
            await asyncio.sleep(self.rng.uniform(0.5, 3.0))
            async with self.lock:
                await self._inject()

    async def _inject(self) -> None:
        if self.ledger.jobs and self.rng.random() < 0.2:
            await self._linkedin_acts()
            return
        endpoint = self.rng.choice(ENDPOINTS)
        kind = self.rng.choice(("5xx", "429", "drop", "error rate", "task", "token", "latency"))
        fault: dict[str, Any] | None = None
        if kind == "5xx":
            fault = {"failNext": self.rng.randint(1, 3), "status": self.rng.choice((500, 502, 503))}
        elif kind == "429":
            fault = {"failNext": self.rng.randint(1, 2), "status": 429, "retryAfter": 1}
        elif kind == "drop":
            fault = {"dropNext": 1}
        elif kind == "error rate":
            fault = {"errorRate": 0.3, "seed": self.rng.randrange(2**31), "status": 503}
        elif kind == "latency":
            fault = {"latencyMs": self.rng.randint(200, 2000)}
        try:
            if fault is not None:
                await self.sandbox.put(f"/sandbox/faults/{endpoint}", json=fault)
                kind = f"{kind} on {endpoint}"
            elif kind == "task":
                await self.sandbox.post(
                    "/sandbox/tasks/fail-next", json={"errorMessage": TASK_FAILURE, "count": 1}
                )
                kind = "failing task"
            else:
                await self.sandbox.patch("/sandbox/settings", json={"tokenTtlSeconds": 2})
                kind = "expiring tokens"
        except httpx.HTTPError:
            return
        self.faults[kind.split(" on ")[0]] += 1
        log.info("chaos.fault", fault=kind)

    async def _linkedin_acts(self) -> None:
        """LinkedIn changes a job on its side, or asks for a customer's jobs again."""
        job, customer = self.rng.choice(sorted(self.ledger.jobs.items()))
        if self.rng.random() < 0.25:
            body: dict[str, Any] = {"customerId": customer}
            if self.rng.random() < 0.5:
                body["syncAllOpenJobs"] = True
            else:
                body["externalJobPostingIds"] = [job]
            path, kind = "/sandbox/resync", "resync"
        else:
            field, values = self.rng.choice(
                (
                    ("listingStatus", ("NOT_LISTED", "LISTED")),
                    ("linkedInApplyStatus", ("NOT_ENABLED", "ENABLED")),
                    ("promotionStatus", ("NOT_PROMOTED", "PROMOTED")),
                )
            )
            body = {"customerId": customer, field: self.rng.choice(values), "reason": "chaos"}
            path, kind = f"/sandbox/jobs/{job}/change", "job changed"
        try:
            answer = await self.sandbox.post(path, json=body)
        except httpx.HTTPError:
            return
        if answer.status_code == 202:
            self.linkedin[kind] += 1
            log.info("chaos.linkedin", action=kind, job=job, body=body)

    async def register_webhook(self, url: str) -> None:
        """LinkedIn's webhook for the parent app points at our API (validated by challenge)."""
        for _ in range(60):
            try:
                if (await self.sandbox.post("/sandbox/webhooks", json={"url": url})).is_success:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(1)
        raise RuntimeError(f"the sandbox could not register {url} as LinkedIn's webhook")

    async def calm(self) -> None:
        """No fault any more: what LinkedIn does on a good day."""
        await self.sandbox.delete("/sandbox/faults")
        await self.sandbox.patch("/sandbox/settings", json={"tokenTtlSeconds": 1800})

    async def kills_until(self, until: float) -> None:
        names, weights = list(VICTIMS), list(VICTIMS.values())
        while time.monotonic() < until:
            await asyncio.sleep(self.rng.uniform(0.5, 1.5) * self.kill_every)
            if time.monotonic() >= until:
                return
            victim = self.rng.choices(names, weights)[0]
            async with self.lock:
                if victim == "sandbox":
                    await self.journal.collect()
                self.stack.kill(victim)
                await asyncio.sleep(self.rng.uniform(0.2, 3.0))
                await self.stack.restart(victim)

    async def collect_until(self, until: float) -> None:
        while time.monotonic() < until:
            async with self.lock:
                await self.journal.collect()
                await self.stack.revive()
            await asyncio.sleep(2)
