"""Customer (child) developer applications created through LinkedIn's Provisioning API."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic.alias_generators import to_camel

from domain.integrations import OnboardingStatus
from domain.urns import ContractUrn, DeveloperApplicationUrn

_DOMAIN = re.compile(r"^https?://[^\s/]+$")


class AppCredentials(BaseModel):
    """A developer application's OAuth client credentials. The secret never prints."""

    model_config = ConfigDict(frozen=True)

    client_id: str = Field(min_length=1)
    client_secret: SecretStr


class NewApplication(BaseModel):
    """The body of a provisioning create call."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    unique_foreign_id: str = Field(min_length=1)
    name: str = Field(min_length=1, max_length=50)
    description: str = Field(min_length=1)
    valid_js_sdk_domains: list[str] = Field(default_factory=list)
    oauth2_authorized_callback_urls: list[str] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _no_linkedin(cls, value: str) -> str:
        if "linkedin" in value.lower():
            raise ValueError("must not contain 'LinkedIn' (use '{ATS} - {Customer}')")
        return value

    @field_validator("valid_js_sdk_domains")
    @classmethod
    def _domains(cls, values: list[str]) -> list[str]:
        for value in values:
            if not _DOMAIN.match(value):
                raise ValueError(
                    f"{value!r}: must be a complete http(s) origin with no trailing slash or path"
                )
        return values


class ProvisionedApplication(BaseModel):
    """A child application: its URN key and public client id (the secret is kept apart)."""

    model_config = ConfigDict(frozen=True, alias_generator=to_camel, populate_by_name=True)

    key: DeveloperApplicationUrn
    client_id: str
    unique_foreign_id: str | None = None
    name: str | None = None


class HiringContract(BaseModel):
    """The answer of provisionedHiringContracts?action=setup (P4P)."""

    model_config = ConfigDict(frozen=True)

    application: DeveloperApplicationUrn
    contract: ContractUrn


class IntegrationStatus(BaseModel):
    """What atsIntegrations' verify call says of one integration."""

    model_config = ConfigDict(frozen=True, alias_generator=to_camel, populate_by_name=True)

    integration_name: str | None = None
    onboarding_status: OnboardingStatus
