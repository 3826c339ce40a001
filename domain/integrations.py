"""Customer integrations: types, onboarding status, LinkedIn's entity key, the widget callback."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Literal
from urllib.parse import quote, unquote

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from domain.urns import IntegrationContextUrn, parse_urn


class IntegrationType(StrEnum):
    """The integration types LinkedIn keys atsIntegrations records by (seeds 000, 001, RSC)."""

    PREMIUM_JOB_POSTING = "PREMIUM_JOB_POSTING"
    APPLY_WITH_LINKEDIN = "APPLY_WITH_LINKEDIN"
    APPLY_CONNECT = "APPLY_CONNECT"
    ONE_CLICK_EXPORT = "ONE_CLICK_EXPORT"
    """Recruiter System Connect: export a profile from Recruiter to the ATS."""
    IN_ATS_INDICATOR = "IN_ATS_INDICATOR"
    """Recruiter System Connect: Recruiter shows who is in the ATS already."""
    PROFILE_PLUGIN = "PROFILE_PLUGIN"
    """Recruiter System Connect: LinkedIn's profile plugin inside the ATS."""
    CSA_API = "CSA_API"
    """Recruiter System Connect: the contract-level sync (CSA) APIs."""


class IntegrationBundle(StrEnum):
    """What the configuration plugin offers (`data-supported-bundled-integration-types`).

    Not keys LinkedIn accepts in atsIntegrations: each enables the types in BUNDLE_TYPES,
    and the plugin's callback hands back those individual types.
    """

    APPLY_WITH_LINKEDIN = "APPLY_WITH_LINKEDIN"
    APPLY_CONNECT = "APPLY_CONNECT"
    RECRUITER_SYSTEM_CONNECT_COMPANY = "RECRUITER_SYSTEM_CONNECT_COMPANY"
    RECRUITER_SYSTEM_CONNECT_CONTRACT = "RECRUITER_SYSTEM_CONNECT_CONTRACT"


BUNDLE_TYPES: dict[IntegrationBundle, tuple[IntegrationType, ...]] = {
    IntegrationBundle.APPLY_WITH_LINKEDIN: (IntegrationType.APPLY_WITH_LINKEDIN,),
    IntegrationBundle.APPLY_CONNECT: (IntegrationType.APPLY_CONNECT,),
    IntegrationBundle.RECRUITER_SYSTEM_CONNECT_COMPANY: (
        IntegrationType.ONE_CLICK_EXPORT,
        IntegrationType.IN_ATS_INDICATOR,
        IntegrationType.PROFILE_PLUGIN,
    ),
    IntegrationBundle.RECRUITER_SYSTEM_CONNECT_CONTRACT: (IntegrationType.CSA_API,),
}
"""The atsIntegrations key types each plugin bundle enables (LinkedIn's RSC collection)."""


CALLBACK_URL_TYPES = frozenset({IntegrationType.ONE_CLICK_EXPORT})
"""Types that take the customer's CALLBACK_URL configuration at enable: where LinkedIn
pushes the customer's events (linkedin-inbound.md §5: PM-RSC registers it on a
ONE_CLICK_EXPORT key; no other type's is documented)."""


def customer_door_url(public_base_url: str, customer_id: str, leaf: str) -> str:
    """Where LinkedIn delivers one customer's `leaf` (events, applications) to our door."""
    customer = quote(customer_id, safe="")
    return f"{public_base_url.rstrip('/')}/linkedin/customers/{customer}/{leaf}"


def events_url(public_base_url: str, customer_id: str) -> str:
    """The customer's callback URL: our door for its push events, one URL a customer."""
    return customer_door_url(public_base_url, customer_id, "events")


def integration_types(names: Iterable[str]) -> list[IntegrationType]:
    """Key types for names that are key types or bundle names, in order, each once."""
    types: list[IntegrationType] = []
    for name in names:
        if name in IntegrationType.__members__:
            expanded: tuple[IntegrationType, ...] = (IntegrationType(name),)
        elif name in IntegrationBundle.__members__:
            expanded = BUNDLE_TYPES[IntegrationBundle(name)]
        else:
            known = sorted({*IntegrationType.__members__, *IntegrationBundle.__members__})
            raise ValueError(f"{name!r} is not an integration type or bundle: one of {known}")
        types.extend(t for t in expanded if t not in types)
    return types


class TenantType(StrEnum):
    JOBS = "JOBS"
    RECRUITER = "RECRUITER"


class OnboardingStatus(StrEnum):
    """What LinkedIn reports; NOT_CONNECTED is the widget's word for 'no record yet'."""

    NOT_CONNECTED = "NOT_CONNECTED"
    REQUESTED = "REQUESTED"
    PARTNER_READY = "PARTNER_READY"
    ENABLED = "ENABLED"


TENANT_TYPE: dict[IntegrationType, TenantType] = {
    IntegrationType.PREMIUM_JOB_POSTING: TenantType.JOBS,
    IntegrationType.APPLY_WITH_LINKEDIN: TenantType.JOBS,
    IntegrationType.APPLY_CONNECT: TenantType.JOBS,
    IntegrationType.ONE_CLICK_EXPORT: TenantType.RECRUITER,
    IntegrationType.IN_ATS_INDICATOR: TenantType.RECRUITER,
    IntegrationType.PROFILE_PLUGIN: TenantType.RECRUITER,
    IntegrationType.CSA_API: TenantType.RECRUITER,
}
"""The tenant each integration type lives in (PJP: seed 000; RSC: LinkedIn's RSC collection)."""

_ORGANIZATION = ("organization", "company")
CONTEXT_KINDS: dict[IntegrationType, tuple[str, ...]] = {
    IntegrationType.PREMIUM_JOB_POSTING: ("contract",),
    IntegrationType.CSA_API: ("contract",),
    IntegrationType.APPLY_WITH_LINKEDIN: _ORGANIZATION,
    IntegrationType.APPLY_CONNECT: _ORGANIZATION,
    IntegrationType.ONE_CLICK_EXPORT: _ORGANIZATION,
    IntegrationType.IN_ATS_INDICATOR: _ORGANIZATION,
    IntegrationType.PROFILE_PLUGIN: _ORGANIZATION,
}
"""URN kinds an integration context may have, per integration type."""

MAX_CONTEXT_LENGTH = 100
"""`urn:li:contract:<digits>` or `urn:li:organization:<digits>`: far shorter in practice."""

_KEY_PARTS = ("integrationContext", "integrationType", "tenantType", "dataProvider")


class IntegrationKeyError(ValueError):
    """An entity-key string LinkedIn would call incomplete or malformed."""


class IntegrationKey(BaseModel):
    """The four parts that name one integration at LinkedIn."""

    model_config = ConfigDict(frozen=True, alias_generator=to_camel, populate_by_name=True)

    integration_context: IntegrationContextUrn
    integration_type: IntegrationType
    tenant_type: TenantType
    data_provider: Literal["ATS"] = "ATS"

    @model_validator(mode="after")
    def _consistent(self) -> IntegrationKey:
        expected_tenant = TENANT_TYPE[self.integration_type]
        if self.tenant_type != expected_tenant:
            raise ValueError(
                f"tenantType: must be {expected_tenant} for {self.integration_type}, "
                f"got {self.tenant_type}"
            )
        kinds = CONTEXT_KINDS[self.integration_type]
        parse_urn(self.integration_context, *kinds)
        return self

    @classmethod
    def for_type(cls, context: str, integration_type: IntegrationType) -> IntegrationKey:
        return cls(
            integration_context=context,
            integration_type=integration_type,
            tenant_type=TENANT_TYPE[integration_type],
        )

    def render(self, *, encode_context: bool = False) -> str:
        """LinkedIn's entity-key string, parts in the documented order."""
        context = (
            quote(self.integration_context, safe="")
            if encode_context
            else (self.integration_context)
        )
        return (
            f"integrationContext={context}&integrationType={self.integration_type}"
            f"&tenantType={self.tenant_type}&dataProvider={self.data_provider}"
        )

    @classmethod
    def parse(cls, key: str) -> IntegrationKey:
        """Parse an entity key in any part order, percent-encoded or not."""
        parts: dict[str, str] = {}
        for piece in key.split("&"):
            name, sep, value = piece.partition("=")
            if not sep or name not in _KEY_PARTS or name in parts:
                raise IntegrationKeyError(f"integration key {key!r}: unexpected part {piece!r}")
            parts[name] = unquote(value)
        missing = [name for name in _KEY_PARTS if name not in parts]
        if missing:
            raise IntegrationKeyError(f"integration key {key!r}: missing {', '.join(missing)}")
        return cls.model_validate(parts)

    def query_params(self, index: int) -> list[tuple[str, str]]:
        """The `ids[i].*` query parameters that name this key in a batch call."""
        return [
            (f"ids[{index}].integrationContext", self.integration_context),
            (f"ids[{index}].integrationType", str(self.integration_type)),
            (f"ids[{index}].tenantType", str(self.tenant_type)),
            (f"ids[{index}].dataProvider", self.data_provider),
        ]


class WidgetCallback(BaseModel):
    """One element of the array the widget hands `confirmJobPoster` / `handleIntegrations`.

    The PJP widget gives all four values; the ATS configuration plugin omits
    onboardingStatus, which then means REQUESTED.
    """

    model_config = ConfigDict(frozen=True, alias_generator=to_camel, populate_by_name=True)

    tenant_type: TenantType
    onboarding_status: OnboardingStatus = OnboardingStatus.REQUESTED
    integration_type: IntegrationType
    integration_context: IntegrationContextUrn = Field(min_length=1, max_length=MAX_CONTEXT_LENGTH)

    @model_validator(mode="after")
    def _fits_together(self) -> WidgetCallback:
        self.key  # noqa: B018 - building the key checks tenantType and context kind
        return self

    @property
    def key(self) -> IntegrationKey:
        """The integration key these values name."""
        return IntegrationKey(
            integration_context=self.integration_context,
            integration_type=self.integration_type,
            tenant_type=self.tenant_type,
        )
