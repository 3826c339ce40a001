"""What LinkedIn sends the partner: the webhook challenge (linkedin-inbound.md §1) and
signed event POSTs (§2), retried, journaled, and faulted on demand.

Nothing here holds the world's lock while it waits on the partner, who may call LinkedIn
back (read a status, resend jobs) before answering. Events go out one at a time in the
order they were made, each with its retries, so only the reorder fault reorders them.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import secrets
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Any

import httpx

from linkedin_sandbox.faults import DeliveryFault
from linkedin_sandbox.sandbox import Sandbox
from linkedin_sandbox.state import Validation, Webhook

REVALIDATE_MS = 2 * 3600 * 1000
"""LinkedIn checks a webhook again every 2 hours after its first validation."""
BLOCK_AFTER = 3
"""Failed re-validations in a row that block a webhook."""
TICK_SECONDS = 1.0
"""How often, in real time, due re-validations are looked for; moving the clock wakes it."""


def signature(secret: str, body: bytes, form: str) -> str:
    """X-LI-Signature in one of §2's two readings."""
    if form == "a":
        return hmac.new(secret.encode(), b"hmacsha256=" + body, hashlib.sha256).hexdigest()
    return "hmacsha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def challenge_response(secret: str, code: str) -> str:
    return hmac.new(secret.encode(), code.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    body: dict[str, Any]
    raw: bytes
    """The bytes signed and sent: JSON with non-ASCII escaped, the form [RA] says is signed."""
    callback: tuple[str, str] | None = None
    """(url, secret) of a customer's callback URL (§5) it goes to, not the parent app's
    webhook; signed with that customer's app secret (§5 shows no signature: assumed)."""


def _event(type_: str, body: dict[str, Any], callback: tuple[str, str] | None = None) -> Event:
    raw = json.dumps(body, separators=(",", ":"), ensure_ascii=True).encode()
    return Event(id=uuid.uuid4().hex, type=type_, body=body, raw=raw, callback=callback)


class Outbox:
    """The HTTP client LinkedIn uses towards the partner, and its queue of events."""

    def __init__(self, sandbox: Sandbox, transport: httpx.AsyncBaseTransport | None = None):
        self.sandbox = sandbox
        self.faults = DeliveryFault()
        self.deliveries: deque[dict[str, Any]] = deque(maxlen=10_000)
        self._transport = transport
        self._http: httpx.AsyncClient | None = None
        self._queue: asyncio.Queue[tuple[int, Event]] = asyncio.Queue()
        self._held: list[Event] = []
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._pushes: set[asyncio.Task[None]] = set()
        self._generation = 0
        """Bumped by reset: events of an earlier world are not sent any more."""
        self._seq = 0

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Run the delivery queue and the re-validation timer, once, on the running loop."""
        if not self._tasks:
            self._tasks = [
                asyncio.create_task(self._deliver_loop()),
                asyncio.create_task(self._validate_loop()),
            ]

    async def aclose(self) -> None:
        running = [*self._tasks, *self._pushes]
        for task in running:
            task.cancel()
        for task in running:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def reset(self) -> None:
        self._generation += 1
        self._held.clear()
        while not self._queue.empty():
            self._queue.get_nowait()
        self.deliveries.clear()
        self.faults = DeliveryFault()

    def wake(self) -> None:
        """The clock moved: look for due re-validations now."""
        self._wake.set()

    def clear_faults(self) -> None:
        """No more faults; events held for reordering go out in their order."""
        self.faults = DeliveryFault()
        self._release(self._held)

    @property
    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(transport=self._transport, timeout=None)
        return self._http

    # -- §1 the challenge ---------------------------------------------------------------------

    async def challenge(self, url: str) -> str | None:
        """GET url?challengeCode=…: None when answered as LinkedIn requires, else why not."""
        settings = self.sandbox.settings
        code = str(uuid.uuid4())
        deadline = settings.webhook_challenge_timeout_seconds
        try:
            async with asyncio.timeout(deadline):
                answer = await self.http.get(url, params={"challengeCode": code})
        except TimeoutError:
            return f"no answer within {deadline:g} s"
        except Exception as exc:  # whatever keeps an answer from coming is a failed check
            return f"{type(exc).__name__}: {exc}"
        if answer.status_code != 200:
            return f"answered HTTP {answer.status_code}, not 200"
        if not answer.headers.get("content-type", "").startswith("application/json"):
            return "content-type is not application/json"
        try:
            body = answer.json()
        except ValueError:
            return "the body is not JSON"
        if not isinstance(body, dict) or body.get("challengeCode") != code:
            return "challengeCode is not the one sent"
        if body.get("challengeResponse") != challenge_response(
            settings.partner_client_secret, code
        ):
            return (
                "challengeResponse is not the lowercase hex HMAC-SHA256 of the "
                "challengeCode under the client secret"
            )
        return None

    async def register(self, url: str) -> str | None:
        """Validate url, then make it the parent app's webhook; why not when it fails."""
        reason = await self.challenge(url)
        if reason is not None:
            return reason
        async with self.sandbox.lock:
            world = self.sandbox.world
            now = world.now_ms()
            world.webhook = Webhook(
                url=url,
                registered_at_ms=now,
                next_validation_ms=now + REVALIDATE_MS,
                last_validation=Validation(at_ms=now, kind="REGISTRATION", ok=True),
            )
            world.changed()
            self.sandbox.save()
        self.start()
        return None

    async def revalidate_due(self) -> None:
        """Every check whose time has come on LinkedIn's clock, one per 2 h slot passed, until
        one succeeds or the webhook is blocked."""
        while True:
            hook = self.sandbox.world.webhook
            if (
                hook is None
                or hook.status == "BLOCKED"
                or hook.next_validation_ms > self.sandbox.world.now_ms()
            ):
                return
            slot = hook.next_validation_ms
            reason = await self.challenge(hook.url)
            async with self.sandbox.lock:
                world = self.sandbox.world
                if world.webhook is not hook:  # replaced or reset meanwhile
                    continue
                now = world.now_ms()
                hook.validations += 1
                hook.last_validation = Validation(
                    at_ms=now, kind="REVALIDATION", ok=reason is None, reason=reason
                )
                if reason is None:
                    hook.misses = 0
                    hook.next_validation_ms = slot + REVALIDATE_MS * (
                        (now - slot) // REVALIDATE_MS + 1
                    )
                else:
                    hook.misses += 1
                    hook.next_validation_ms = slot + REVALIDATE_MS
                    if hook.misses >= BLOCK_AFTER:
                        hook.status = "BLOCKED"
                world.changed()
                self.sandbox.save()

    async def _validate_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), TICK_SECONDS)
            self._wake.clear()
            await self.revalidate_due()

    # -- §2 events ----------------------------------------------------------------------------

    def send(self, type_: str, body: dict[str, Any]) -> tuple[Event, str]:
        """Queue an event for the webhook: QUEUED, or NO_WEBHOOK / BLOCKED (not sent)."""
        event = _event(type_, body)
        hook = self.sandbox.world.webhook
        if hook is None or hook.status == "BLOCKED":
            state = "NO_WEBHOOK" if hook is None else "BLOCKED"
            self._skipped(event, hook, state)
            return event, state
        self.start()
        if self.faults.reorder_next > 0:
            self.faults.reorder_next -= 1
            self._held.append(event)
            if self.faults.reorder_next == 0:
                self._release(self._held[::-1])
        else:
            self._queue.put_nowait((self._generation, event))
        return event, "QUEUED"

    def push(self, url: str, secret: str, type_: str, body: dict[str, Any]) -> Event:
        """Send a push event to one customer's callback URL (§5), apart from the webhook's
        queue: a customer's URL that does not answer delays no other delivery."""
        event = _event(type_, body, callback=(url, secret))
        task = asyncio.create_task(self._deliver(event, self._generation))
        self._pushes.add(task)
        task.add_done_callback(self._pushes.discard)
        return event

    def _release(self, events: list[Event]) -> None:
        for event in events:
            self._queue.put_nowait((self._generation, event))
        self._held.clear()

    async def _deliver_loop(self) -> None:
        while True:
            generation, event = await self._queue.get()
            if generation == self._generation:
                await self._deliver(event, generation)

    async def _deliver(self, event: Event, generation: int) -> None:
        settings = self.sandbox.settings
        attempt = 0
        while generation == self._generation:
            if event.callback is not None:
                url, secret = event.callback
            else:
                hook = self.sandbox.world.webhook
                if hook is None or hook.status == "BLOCKED":
                    self._skipped(event, hook, "NO_WEBHOOK" if hook is None else "BLOCKED")
                    return
                url, secret = hook.url, settings.partner_client_secret
            form = settings.webhook_signature_form
            if attempt == 0 and self.faults.forge_next > 0:
                self.faults.forge_next -= 1
                forged = signature(secrets.token_urlsafe(12), event.raw, form)
                await self._post(event, url, "FORGED", 1, forged, form)
            attempt += 1
            signed = signature(secret, event.raw, form)
            if await self._post(event, url, "DELIVERY", attempt, signed, form):
                if self.faults.duplicate_next > 0:
                    self.faults.duplicate_next -= 1
                    await self._post(event, url, "DUPLICATE", 1, signed, form)
                return
            if attempt > settings.webhook_retries:
                return
            await asyncio.sleep(settings.webhook_retry_seconds * 2 ** (attempt - 1))

    async def _post(
        self, event: Event, url: str, kind: str, attempt: int, signed: str, form: str
    ) -> bool:
        """One POST of the event; journaled once answered; whether it was a 2xx."""
        deadline = self.sandbox.settings.webhook_timeout_seconds
        status: int | None = None
        error: str | None = None
        try:
            async with asyncio.timeout(deadline):
                answer = await self.http.post(
                    url,
                    content=event.raw,
                    headers={"content-type": "application/json", "x-li-signature": signed},
                )
            status = answer.status_code
        except TimeoutError:
            error = f"no answer within {deadline:g} s"
        except Exception as exc:  # a failed delivery, whatever failed: journaled, retried
            error = f"{type(exc).__name__}: {exc}"
        self._journal(event, url, kind, attempt, status, error, form, signed)
        return status is not None and 200 <= status < 300

    def _skipped(self, event: Event, hook: Webhook | None, state: str) -> None:
        url = hook.url if hook else None
        self._journal(event, url, "SKIPPED", 0, None, f"not sent: {state}", None, None)

    def _journal(
        self,
        event: Event,
        url: str | None,
        kind: str,
        attempt: int,
        status: int | None,
        error: str | None,
        form: str | None,
        signed: str | None,
    ) -> None:
        self._seq += 1
        self.deliveries.append(
            {
                "seq": self._seq,
                "eventId": event.id,
                "type": event.type,
                "kind": kind,
                "url": url,
                "attempt": attempt,
                "status": status,
                "error": error,
                "signatureForm": form,
                "signature": signed,
                "atMs": self.sandbox.world.now_ms(),
                "event": event.body,
            }
        )
