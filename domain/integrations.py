"""Customer integrations: types, onboarding status, LinkedIn's entity key, the widget callback."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal
from urllib.parse import quote, unquote

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from domain.urns import IntegrationContextUrn, parse_urn


class IntegrationType(StrEnum):
    PREMIUM_JOB_POSTING = "PREMIUM_JOB_POSTING"
    APPLY_WITH_LINKEDIN = "APPLY_WITH_LINKEDIN"
    RECRUITER_SYSTEM_CONNECT_COMPANY = "RECRUITER_SYSTEM_CONNECT_COMPANY"
    RECRUITER_SYSTEM_CONNECT_CONTRACT = "RECRUITER_SYSTEM_CONNECT_CONTRACT"
    APPLY_CONNECT = "APPLY_CONNECT"


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
    IntegrationType.RECRUITER_SYSTEM_CONNECT_COMPANY: TenantType.RECRUITER,
    IntegrationType.RECRUITER_SYSTEM_CONNECT_CONTRACT: TenantType.RECRUITER,
}
"""The tenant each integration type lives in (PJP: seed 000; RSC: the wire contract)."""

CONTEXT_KINDS: dict[IntegrationType, tuple[str, ...]] = {
    IntegrationType.PREMIUM_JOB_POSTING: ("contract",),
    IntegrationType.RECRUITER_SYSTEM_CONNECT_CONTRACT: ("contract",),
    IntegrationType.APPLY_WITH_LINKEDIN: ("organization", "company"),
    IntegrationType.APPLY_CONNECT: ("organization", "company"),
    IntegrationType.RECRUITER_SYSTEM_CONNECT_COMPANY: ("organization", "company"),
}
"""URN kinds an integration context may have, per integration type."""

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
    integration_context: IntegrationContextUrn = Field(min_length=1)

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
