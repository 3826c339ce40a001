"""Sandbox settings, from LINKEDIN_SANDBOX_* environment variables or arguments."""

from __future__ import annotations

from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict


class SandboxSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LINKEDIN_SANDBOX_")

    partner_client_id: str = "sandbox-partner"
    partner_client_secret: str = "sandbox-partner-secret"
    partner_id: int = 1234
    """The parent application's id, as LinkedIn quotes it in `urn:li:partner:<id>`."""
    token_ttl_seconds: int = 1800
    token_expires_in_as_string: bool = False
    """The docs show expires_in as a string, LinkedIn's SDK fixture as a number."""
    task_delay_seconds: float = 2.0
    """How long each job task stays IN_PROGRESS before it is processed."""
    task_ttl_seconds: int = 24 * 3600
    encode_response_keys: bool = True
    """Answer atsIntegrations enable keys reordered and percent-encoded, as seed 001 shows."""
    state_path: str | None = None
    """A SQLite file that keeps the state across restarts; in memory when unset."""
    job_url_base: str = "https://www.linkedin.com/jobs/view/"
    listed_at_skew_seconds: float = 10.0
    """How far in the future listedAt may lie: client clocks run seconds ahead, not minutes."""
    webhook_signature_form: Literal["a", "b"] = "a"
    """How X-LI-Signature is written (linkedin-inbound.md §2): "a" = hex(HMAC(secret,
    "hmacsha256=" + body)), "b" = "hmacsha256=" + hex(HMAC(secret, body))."""
    webhook_retries: int = 6
    """Resends after a non-2xx answer or a connection error; LinkedIn documents 6 for
    applications and nothing for job events."""
    webhook_retry_seconds: float = 1.0
    """The wait before the first resend, doubled before each next one (real seconds)."""
    webhook_timeout_seconds: float = 10.0
    """How long a delivery waits for the receiver's answer; LinkedIn does not document it."""
    media_ttl_seconds: float = 30 * 24 * 3600
    """How long a resume or cover letter can be downloaded (30 days, [SEC])."""
    application_names_job: bool = True
    """Applications carry externalJobPostingId (assumed: the secondary list shows no job
    field); false sends only what that list shows."""
    webhook_challenge_timeout_seconds: float = 3.0
    """How long the validation GET waits for the challenge answer: LinkedIn's 3 s."""
