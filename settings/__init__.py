"""Every process's settings (worker, API, CLI, `up`), from LINKEDIN_ATS_* environment
variables; Temporal's own come from TEMPORAL_*.

The defaults run the dev stack against the sandbox with no configuration at all.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from client.codec import PayloadKeys, load_payload_keys
from domain.provisioning import ApplicationProfile, CallbackUrl, JsSdkDomain
from domain.validation import LINKEDIN_VERSION

_BUDGETS = "LINKEDIN_ATS_LINKEDIN_BATCH_BUDGET_SECONDS and …_PATIENCE"
_READ_BUDGETS = "LINKEDIN_ATS_LINKEDIN_BATCH_READ_BUDGET_SECONDS and …_PATIENCE"
RETIRED_SETTINGS = {
    "LINKEDIN_ATS_LINKEDIN_BATCH_WINDOW_SECONDS": _BUDGETS,
    "LINKEDIN_ATS_LINKEDIN_BATCH_READ_WINDOW_SECONDS": _READ_BUDGETS,
    "LINKEDIN_ATS_LINKEDIN_BATCH_QUIET_SECONDS": _BUDGETS,
    "LINKEDIN_ATS_LINKEDIN_BATCH_READ_QUIET_SECONDS": _READ_BUDGETS,
    "LINKEDIN_ATS_LINKEDIN_BATCH_LONGEST_WAIT_SECONDS": _BUDGETS,
}
"""Settings that no longer exist, with what replaced them: set, they would be ignored."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LINKEDIN_ATS_", env_file=None)

    @model_validator(mode="after")
    def _no_retired_settings(self) -> Settings:
        for name, replacement in RETIRED_SETTINGS.items():
            if name in os.environ:
                raise ValueError(f"{name}: no longer read; set {replacement} instead")
        return self

    linkedin_api_url: str = "http://127.0.0.1:8090"
    """LinkedIn's API host; https://api.linkedin.com in production."""
    linkedin_oauth_url: str = "http://127.0.0.1:8090"
    """LinkedIn's OAuth host; https://www.linkedin.com in production."""
    linkedin_timeout_seconds: float = 30.0
    linkedin_api_version: str = Field(default="202504", pattern=LINKEDIN_VERSION.pattern)
    """LinkedIn-Version (YYYYMM) sent on every versioned (/rest/) call: the one place to
    move LinkedIn's API version. 202504 is what LinkedIn's own SDK sends."""
    linkedin_versioned_endpoints: bool = True
    """simpleJobPostings and simpleJobPostingTasks on /rest/ with LinkedIn-Version, where
    LinkedIn's SDK calls them; false sends them to /v2/, the seeds' paths, until LinkedIn's
    /v2 sunset. See docs/operations.md."""

    @field_validator("linkedin_versioned_endpoints", mode="before")
    @classmethod
    def _not_a_list(cls, value: object) -> object:
        if isinstance(value, list) or (isinstance(value, str) and value.lstrip().startswith("[")):
            raise ValueError(
                "true or false, no longer a list: true (the default) calls simpleJobPostings "
                "and simpleJobPostingTasks on /rest/, false on /v2/; jobPostingStatus is "
                "always on /v2/"
            )
        return value

    partner_client_id: str = "sandbox-partner"
    """The partner's (parent) developer application, used for provisioning."""
    partner_client_secret: SecretStr = SecretStr("sandbox-partner-secret")
    ats_name: str = Field(default="Acme ATS", max_length=30)
    """Shown in child application names as '{ATS} - {Customer}'."""
    valid_js_sdk_domains: list[JsSdkDomain] = Field(default_factory=list)
    """Origins of the ATS pages that embed LinkedIn's widget (`https://ats.example.com`, no
    trailing slash). Every customer app carries them; without them the widget won't load."""
    oauth2_authorized_callback_urls: list[CallbackUrl] = Field(default_factory=list)
    """OAuth callback URLs every customer app carries."""
    api_token: SecretStr = SecretStr("dev-token")
    """Bearer token the ATS back end presents to our HTTP API; refused off loopback."""
    max_request_bytes: int = Field(default=1_048_576, gt=0)
    """Largest HTTP request body the API reads; a larger one is answered 413."""
    task_queue: str = "linkedin-ats"
    data_dir: Path = Path(".data")
    credential_store_url: SecretStr | None = None
    """postgresql://user:password@host:port/database: one store for several workers.

    Unset, each worker keeps credentials in the SQLite file `credentials_path`."""
    credential_store_pool_size: int = Field(default=5, ge=1, le=100)
    """Connections each worker keeps to the PostgreSQL credential store, at most."""
    credential_store_path: Path | None = None
    """SQLite file of customers' client credentials; default <data_dir>/credentials.sqlite."""
    credential_key: SecretStr | None = None
    """Fernet keys that encrypt stored client secrets, comma-separated, oldest first."""
    credential_key_file: Path | None = None
    """Else a file of such keys, one a line, mode 0600; default <data_dir>/credential.key,
    generated on first start when the store is SQLite."""
    payload_keys: SecretStr | None = None
    """AES-256 keys for Temporal payloads, `id:base64` comma-separated, newest (encrypting) last."""
    payload_key_file: Path | None = None
    """Key file used without payload_keys; default <data_dir>/keys/payload.keys, mode 0600."""
    codec_token: SecretStr | None = None
    """Bearer token of `linkedin-ats codec-server`; `up` makes a fresh one each start."""
    codec_port: int = 8234
    """Where `linkedin-ats up` serves the codec endpoint for the Temporal UI."""
    verify_interval_seconds: float = 24 * 3600
    """How often an enabled integration is verified at LinkedIn to catch drift."""
    job_wakeup_interval_seconds: int = Field(default=900, ge=10)
    """How often the wake-up sweep renews and expires the jobs due (JobWakeAt passed)."""
    linkedin_event_dedupe_seconds: int = Field(default=600, ge=1, le=86_400)
    """How long the same bytes from LinkedIn count as a redelivery, not a new event."""
    status_check_interval_seconds: int = Field(default=6 * 3600, ge=60)
    """How often every live job reads its status at LinkedIn (LinkedIn asks partners to
    check at regular intervals; 100 jobs a call, so 10,000 jobs cost 400 calls a day)."""
    job_task_poll_seconds: float = Field(default=3.0, gt=0)
    """Between two reads of a LinkedIn job task still IN_PROGRESS."""
    job_settle_seconds: float = Field(default=300.0, ge=0)
    """After a lost answer, how long LinkedIn may take to show an operation's effect before
    it is sent again (LinkedIn: most tasks finish within 5 minutes)."""
    job_credentials_wait_seconds: float = Field(default=600.0, ge=0)
    """How long a job sent while its customer is being onboarded waits for credentials."""
    job_import_concurrency: int = Field(default=16, ge=1, le=256)
    """Job workflows a batch import starts at once (POST …/jobs/batch, `job import`): the
    rest wait their turn, so a thousand jobs never hit Temporal in one burst."""
    webhooks: bool = True
    """Job workflows hand their events to webhook delivery (one child workflow per event)."""
    webhook_signing_key: SecretStr | None = None
    """Derives each webhook endpoint's secret; default a key file in data_dir."""
    linkedin_batch_gather_seconds: float = Field(default=0.002, ge=0)
    """How long a job call that meets no other of its application waits for company."""
    linkedin_batch_budget_seconds: float = Field(default=2.0, ge=0)
    """A busy application's job submission waits at most this long for others to share
    its call (its latency budget); less when none is expected in time or a burst ended."""
    linkedin_batch_read_budget_seconds: float = Field(default=0.25, ge=0)
    """The same for a busy application's task and status reads."""
    linkedin_batch_patience: float = Field(default=10.0, gt=0)
    """A busy application's burst has ended once no call came for this many usual gaps."""
    linkedin_batch_busy_seconds: float = Field(default=10.0, ge=0)
    """How long an application's endpoint stays busy after two of its calls met."""
    linkedin_calls_per_second: float | None = Field(default=100.0, gt=0)
    """Job calls per second per application, over all endpoints (ours: LinkedIn publishes
    none); None is unlimited."""
    linkedin_job_records_per_minute: int | None = Field(default=2000, ge=100)
    """Jobs per application in any minute of simpleJobPostings calls (LinkedIn's premium
    job posting limit, 2,000 records a minute, kept for every job); None is unlimited."""
    linkedin_daily_job_submissions: int | None = Field(default=None, ge=0)
    """simpleJobPostings calls per application per UTC day (LinkedIn publishes none)."""
    linkedin_daily_task_reads: int | None = Field(default=300_000, ge=0)
    """simpleJobPostingTasks calls per application per UTC day (LinkedIn's throttle)."""
    linkedin_daily_status_reads: int | None = Field(default=1_000_000, ge=0)
    """jobPostingStatus calls per application per UTC day (LinkedIn's throttle)."""
    api_host: str = "127.0.0.1"
    api_port: int = 8080
    public_url: str | None = Field(default=None, pattern=r"^https?://[^\s/]+(/[^\s]*)?$")
    """Our API as LinkedIn reaches it (https://ats-connector.example.com): Apply Connect
    jobs carry {public_url}/linkedin/customers/{id}/applications as their
    jobApplicationWebhookUrl, and a ONE_CLICK_EXPORT enable registers .../events as the
    customer's CALLBACK_URL. Default http://{api_host}:{api_port}."""
    application_retention_days: int = Field(default=30, ge=1, le=3650)
    """How long an application's documents and personal data are kept (LinkedIn keeps its
    media 30 days); then they are erased."""
    document_dir: Path | None = None
    """Where application documents are kept, encrypted with the payload keys; default
    <data_dir>/documents."""
    document_store_url: SecretStr | None = None
    """postgresql://user:password@host:port/database: application documents in one table
    that every worker and the API share (still sealed with the payload keys). Unset, they
    are files under document_dir."""
    sandbox_port: int = 8090
    """Where `linkedin-ats up` serves the sandbox."""
    temporal_port: int = 7233
    """Where `linkedin-ats up` serves the Temporal dev server's gRPC."""
    temporal_ui_port: int = 8233
    metrics_address: str = "127.0.0.1:9464"
    """Where the worker serves Prometheus metrics (Temporal's and ours)."""

    def webhook_key(self) -> bytes:
        """The webhook signing key: the setting, or a key file made once (owner-only)."""
        if self.webhook_signing_key is not None:
            return self.webhook_signing_key.get_secret_value().encode()
        path = self.data_dir / "webhook-signing.key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileExistsError):
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as handle:
                    handle.write(secrets.token_urlsafe(32))
        return path.read_text().strip().encode()

    @field_validator("credential_store_url", "document_store_url")
    @classmethod
    def _postgresql_url(cls, url: SecretStr | None) -> SecretStr | None:
        if url is not None and not url.get_secret_value().startswith(
            ("postgresql://", "postgres://")
        ):
            raise ValueError("must be a postgresql://user:password@host:port/database URL")
        return url

    @property
    def credentials_path(self) -> Path:
        return self.credential_store_path or self.data_dir / "credentials.sqlite"

    @property
    def intake_base_url(self) -> str:
        """The base of the URLs LinkedIn delivers to (public_url or the API's address)."""
        return (self.public_url or f"http://{self.api_host}:{self.api_port}").rstrip("/")

    @property
    def documents_path(self) -> Path:
        return self.document_dir or self.data_dir / "documents"

    @property
    def payload_key_path(self) -> Path:
        return self.payload_key_file or self.data_dir / "keys" / "payload.keys"

    def load_payload_keys(self) -> PayloadKeys:
        """The payload keys: the setting's when given, else the key file's (0600 or refused)."""
        keys = self.payload_keys.get_secret_value() if self.payload_keys else None
        return load_payload_keys(keys, self.payload_key_path)

    @property
    def application_profile(self) -> ApplicationProfile:
        """What every customer app should carry; `apps sync` brings existing ones in line."""
        return ApplicationProfile(
            valid_js_sdk_domains=self.valid_js_sdk_domains,
            oauth2_authorized_callback_urls=self.oauth2_authorized_callback_urls,
        )

    @property
    def key_file_path(self) -> Path:
        return self.credential_key_file or self.data_dir / "credential.key"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
