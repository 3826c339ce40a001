"""The sandbox's world: applications, tokens, integrations, contracts, jobs and tasks, and
the parent application's webhook with the resyncs LinkedIn asked it for.

Every change to the world calls `World.changed()`; the store writes the world after a
request only then, so reads cost no serialisation and no write.
"""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Any, Literal

from pydantic import BaseModel, Field, PrivateAttr, field_validator

DAY_MS = 24 * 3600 * 1000


class App(BaseModel):
    key: str
    client_id: str
    client_secret: str
    unique_foreign_id: str
    name: str = ""
    description: str = ""
    valid_js_sdk_domains: list[str] = Field(default_factory=list)
    oauth2_authorized_callback_urls: list[str] = Field(default_factory=list)


class Token(BaseModel):
    client_id: str
    expires_at_ms: int


class Integration(BaseModel):
    client_id: str
    integration_context: str
    integration_type: str
    tenant_type: str
    status: str
    integration_name: str | None = None
    job_poster_email: str | None = None
    callback_url: str | None = None
    """The customer's CALLBACK_URL configuration (linkedin-inbound.md §5), where LinkedIn
    pushes the customer's events."""


class StatusPush(BaseModel):
    """An INTEGRATION_STATUS_CHANGE pushed to a customer (§5), as its follow-up reads it."""

    request_id: str
    client_id: str
    integrations: list[Integration]
    """The app's integrations as they stood when LinkedIn pushed."""


MAX_STATUS_PUSHES = 500
"""Pushes whose follow-up the sandbox still answers; older ones are forgotten (404)."""


class Contract(BaseModel):
    urn: str
    kind: Literal["SLOTS", "RECOMMENDED_BUDGET", "P4P"] = "SLOTS"
    currency: str | None = "USD"
    budget_remaining: float | None = None
    slots_remaining: int | None = None
    owner_client_id: str | None = None
    """For P4P contracts set up through provisionedHiringContracts: the app that owns it."""
    set_up_at_ms: int | None = None
    """When it was set up: its service term (partnerBudgetReports) starts then."""
    service_term_budget_limit: str = "100000"
    """The P4P service term's budget limit, in the contract's currency."""


class Campaign(BaseModel):
    id: str
    client_id: str
    active: bool = True


class Job(BaseModel):
    client_id: str
    external_id: str
    job_id: int
    listing_type: str
    contract: str | None = None
    budget: dict[str, Any] | None = None
    listed_at: int
    expire_at: int
    closed: bool = False
    closed_at_ms: int | None = None
    payload: dict[str, Any]
    previous_job_ids: list[int] = Field(default_factory=list)
    linkedin_changes: dict[str, Any] = Field(default_factory=dict)
    """What LinkedIn changed on its own side (/sandbox/jobs/{id}/change), as the
    jobPostingStatus fields it now answers: listingStatus, linkedInApplyStatus, ... ."""


class Task(BaseModel):
    urn: str
    client_id: str
    external_id: str
    operation: str
    payload: dict[str, Any]
    created_at_ms: int
    ready_at_ms: int
    status: Literal["IN_PROGRESS", "SUCCEEDED", "FAILED", "PROCESSED"] = "IN_PROGRESS"
    job_posting: str | None = None
    error_message: str | None = None


class TaskEnding(BaseModel):
    """How one of the next tasks ends instead of being applied."""

    status: Literal["FAILED", "PROCESSED"] = "FAILED"
    """PROCESSED: LinkedIn's fourth status, for jobs it still takes from an XML feed or the
    career site (linkedin-inbound.md §8); the post changes no job."""
    error_message: str | None = None


class Validation(BaseModel):
    at_ms: int
    kind: Literal["REGISTRATION", "REVALIDATION"]
    ok: bool
    reason: str | None = None
    """Why the challenge failed."""


class Webhook(BaseModel):
    """The parent application's webhook, one per parent app, as the portal shows it."""

    url: str
    status: Literal["ACTIVE", "BLOCKED"] = "ACTIVE"
    misses: int = 0
    """Failed re-validations in a row; three block the webhook."""
    registered_at_ms: int
    next_validation_ms: int
    validations: int = 1
    last_validation: Validation


class Resync(BaseModel):
    """A RESYNC_JOBS request and the UPDATEs that answered it."""

    id: str
    client_id: str
    customer_id: str
    app_urn: str
    requested_at_ms: int
    deadline_ms: int
    sync_all_open_jobs: bool
    requested: list[str]
    arrived: dict[str, int] = Field(default_factory=dict)
    """externalJobPostingId -> when its first UPDATE after the request was accepted."""


class Media(BaseModel):
    """A resume or cover letter LinkedIn keeps for download (ambry), for a while."""

    key: str
    client_id: str
    content_b64: str
    content_type: str = "application/pdf"
    expires_at_ms: int


class JobApplication(BaseModel):
    """An application a candidate made on LinkedIn, and its delivery to the partner."""

    id: str
    client_id: str
    customer_id: str
    external_id: str
    applied_at_ms: int
    payload: dict[str, Any]
    delivery: Literal["QUEUED", "DELIVERED", "FAILED"] = "QUEUED"
    attempts: int = 0
    first_of_job: bool = False


class World(BaseModel):
    apps: dict[str, App] = Field(default_factory=dict)
    """By client id."""
    tokens: dict[str, Token] = Field(default_factory=dict)
    integrations: list[Integration] = Field(default_factory=list)
    contracts: dict[str, Contract] = Field(default_factory=dict)
    campaigns: dict[str, Campaign] = Field(default_factory=dict)
    jobs: dict[str, Job] = Field(default_factory=dict)
    """By `client_id|externalJobPostingId`."""
    tasks: dict[str, Task] = Field(default_factory=dict)
    next_app: int = 1000
    next_job: int = 4217555213
    clock_offset_ms: int = 0
    failing_tasks: list[TaskEnding] = Field(default_factory=list)
    """How the next tasks to process end: LinkedIn failing accepted work, or PROCESSED."""
    webhook: Webhook | None = None
    resyncs: list[Resync] = Field(default_factory=list)
    next_resync: int = 0
    media: dict[str, Media] = Field(default_factory=dict)
    applications: dict[str, JobApplication] = Field(default_factory=dict)
    next_application: int = 7000000
    lifecycle_actions: list[dict[str, Any]] = Field(default_factory=list)
    """Every jobApplicationLifecycleActions call LinkedIn accepted, in order."""
    status_pushes: list[StatusPush] = Field(default_factory=list)
    """The latest integration status pushes, oldest first (at most MAX_STATUS_PUSHES)."""
    _unsaved: bool = PrivateAttr(default=False)

    @field_validator("failing_tasks", mode="before")
    @classmethod
    def _messages_are_failures(cls, value: Any) -> Any:
        """A world saved when this list held only errorMessages."""
        if isinstance(value, list):
            return [{"error_message": v} if isinstance(v, str) else v for v in value]
        return value

    def changed(self) -> None:
        """Mark the world changed: the store writes it once the request is answered."""
        self._unsaved = True

    @property
    def unsaved(self) -> bool:
        return self._unsaved

    def saved(self) -> None:
        self._unsaved = False

    def now_ms(self) -> int:
        return int(time.time() * 1000) + self.clock_offset_ms

    def app_by_foreign_id(self, foreign_id: str) -> App | None:
        return next((a for a in self.apps.values() if a.unique_foreign_id == foreign_id), None)

    def integration(
        self, client_id: str, context: str, integration_type: str, tenant_type: str
    ) -> Integration | None:
        for record in self.integrations:
            if (
                record.client_id,
                record.integration_context,
                record.integration_type,
                record.tenant_type,
            ) == (client_id, context, integration_type, tenant_type):
                return record
        return None

    def callback_url(self, client_id: str) -> str | None:
        """Where LinkedIn pushes this app's customer's events: one URL per customer (§5)."""
        urls = (r.callback_url for r in self.integrations if r.client_id == client_id)
        return next((url for url in urls if url), None)

    def job(self, client_id: str, external_id: str) -> Job | None:
        return self.jobs.get(f"{client_id}|{external_id}")

    def update_arrived(self, client_id: str, external_id: str) -> None:
        """An UPDATE of that job was accepted: it answers every resync still waiting for it."""
        now = self.now_ms()
        for resync in self.resyncs:
            if (
                resync.client_id == client_id
                and external_id in resync.requested
                and external_id not in resync.arrived
            ):
                resync.arrived[external_id] = now
                self.changed()


class Store:
    """Keeps the world in one SQLite row when a path is given, else only in memory."""

    def __init__(self, path: str | None) -> None:
        self._db: sqlite3.Connection | None = None
        if path:
            self._db = sqlite3.connect(path, check_same_thread=False)
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS world (id INTEGER PRIMARY KEY CHECK (id = 1), "
                "body TEXT NOT NULL)"
            )

    def load(self) -> World:
        if self._db is not None:
            row = self._db.execute("SELECT body FROM world WHERE id = 1").fetchone()
            if row:
                return World.model_validate(json.loads(row[0]))
        return World()

    def save(self, world: World) -> None:
        """Write the world if it changed since it was loaded or last written."""
        if self._db is None or not world.unsaved:
            return
        with self._db:
            self._db.execute(
                "INSERT INTO world (id, body) VALUES (1, ?) "
                "ON CONFLICT(id) DO UPDATE SET body = excluded.body",
                (world.model_dump_json(),),
            )
        world.saved()
