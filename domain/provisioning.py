"""Customer (child) developer applications created through LinkedIn's Provisioning API."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic.alias_generators import to_camel

from domain.integrations import OnboardingStatus
from domain.urns import ContractUrn, DeveloperApplicationUrn

_DOMAIN = re.compile(r"^https?://[^\s/]+$")
_CALLBACK_URL = re.compile(r"^https?://[^\s/]+(/\S*)?$")


def _origin(value: str) -> str:
    if not _DOMAIN.match(value):
        raise ValueError(
            f"{value!r}: must be a complete http(s) origin with no trailing slash or path"
        )
    return value


def _callback_url(value: str) -> str:
    if not _CALLBACK_URL.match(value):
        raise ValueError(f"{value!r}: must be an absolute http(s) URL")
    return value


JsSdkDomain = Annotated[str, AfterValidator(_origin)]
"""Where the widget is embedded, as LinkedIn checks it (seed 001: no trailing slash)."""
CallbackUrl = Annotated[str, AfterValidator(_callback_url)]


class ApplicationProfile(BaseModel):
    """What every customer app should carry, from settings: the ATS's widget pages.

    Without its page's origin in validJsSdkDomains LinkedIn refuses to load the widget
    ("Domain validation failed for the api key", seed 001).
    """

    model_config = ConfigDict(frozen=True)

    valid_js_sdk_domains: list[JsSdkDomain] = Field(default_factory=list)
    oauth2_authorized_callback_urls: list[CallbackUrl] = Field(default_factory=list)

    def changes_for(self, app: ProvisionedApplication) -> dict[str, list[str]]:
        """The provisioning `$set` that brings an app in line; empty when it is.

        A setting left empty leaves LinkedIn's value alone rather than wiping it.
        """
        changes: dict[str, list[str]] = {}
        if self.valid_js_sdk_domains and set(self.valid_js_sdk_domains) != set(
            app.valid_js_sdk_domains
        ):
            changes["validJsSdkDomains"] = list(self.valid_js_sdk_domains)
        if self.oauth2_authorized_callback_urls and set(
            self.oauth2_authorized_callback_urls
        ) != set(app.oauth2_authorized_callback_urls):
            changes["oauth2AuthorizedCallbackUrls"] = list(self.oauth2_authorized_callback_urls)
        return changes


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
    valid_js_sdk_domains: list[JsSdkDomain] = Field(default_factory=list)
    oauth2_authorized_callback_urls: list[CallbackUrl] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _no_linkedin(cls, value: str) -> str:
        if "linkedin" in value.lower():
            raise ValueError("must not contain 'LinkedIn' (use '{ATS} - {Customer}')")
        return value


class ProvisionedApplication(BaseModel):
    """A child application: its URN key and public client id (the secret is kept apart)."""

    model_config = ConfigDict(frozen=True, alias_generator=to_camel, populate_by_name=True)

    key: DeveloperApplicationUrn
    client_id: str
    unique_foreign_id: str | None = None
    name: str | None = None
    valid_js_sdk_domains: list[str] = Field(default_factory=list)
    oauth2_authorized_callback_urls: list[str] = Field(default_factory=list)


class HiringContract(BaseModel):
    """The answer of provisionedHiringContracts?action=setup (P4P)."""

    model_config = ConfigDict(frozen=True)

    application: DeveloperApplicationUrn
    contract: ContractUrn


class VerifiedIntegration(BaseModel):
    """What atsIntegrations' verify call says of one integration."""

    model_config = ConfigDict(frozen=True, alias_generator=to_camel, populate_by_name=True)

    integration_name: str | None = None
    onboarding_status: OnboardingStatus
