"""Sandbox settings, from LINKEDIN_SANDBOX_* environment variables or arguments."""

from __future__ import annotations

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
