"""The customer-integration workflow's input, state and the activities it calls."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, Field, field_validator

from domain.integrations import IntegrationKey, IntegrationType, OnboardingStatus

WORKFLOW_TYPE = "CustomerIntegrationWorkflow"

PROVISION_CUSTOMER = "provision_customer"
ENABLE_INTEGRATION = "enable_integration"
VERIFY_INTEGRATIONS = "verify_integrations"
SETUP_HIRING_CONTRACT = "setup_hiring_contract"
SYNC_APPLICATION = "sync_application"

HIRING_CONTRACT_TYPE = IntegrationType.PREMIUM_JOB_POSTING
"""The integration workflow that records a customer's P4P hiring contracts: job posting's."""

INTEGRATION_LABEL: dict[IntegrationType, str] = {
    IntegrationType.PREMIUM_JOB_POSTING: "Premium Job Posting",
    IntegrationType.APPLY_WITH_LINKEDIN: "Apply with LinkedIn",
    IntegrationType.APPLY_CONNECT: "Apply Connect",
    IntegrationType.ONE_CLICK_EXPORT: "Recruiter System Connect One-Click Export",
    IntegrationType.IN_ATS_INDICATOR: "Recruiter System Connect In-ATS Indicator",
    IntegrationType.PROFILE_PLUGIN: "Recruiter System Connect Profile Plugin",
    IntegrationType.CSA_API: "Recruiter System Connect CSA",
}


def integration_workflow_id(customer_id: str, integration_type: IntegrationType) -> str:
    """A business key an operator can type: `integration/{customer}/{type}`."""
    return f"integration/{customer_id}/{integration_type}"


class ContextStatus(StrEnum):
    """Where one integration context stands, from our side."""

    NOT_CONNECTED = "NOT_CONNECTED"
    REQUESTED = "REQUESTED"
    NEEDS_ATTENTION = "NEEDS_ATTENTION"
    ENABLED = "ENABLED"


STATUS_RANK = {
    ContextStatus.NEEDS_ATTENTION: 0,
    ContextStatus.NOT_CONNECTED: 1,
    ContextStatus.REQUESTED: 2,
    ContextStatus.ENABLED: 3,
}
"""Least advanced first: the headline status is the lowest rank of any context."""


class Transition(BaseModel):
    status: ContextStatus
    at: datetime
    reason: str


class ContextState(BaseModel):
    """One integration context (a contract or organization URN) of one customer."""

    integration_context: str
    status: ContextStatus = ContextStatus.NOT_CONNECTED
    integration_name: str | None = None
    enable_pending: bool = False
    """A widget save (or a retry) asked for an enable that has not run yet."""
    customer_has_not_saved: bool = False
    """LinkedIn has no record: the customer has not saved the widget for this context."""
    last_error: str | None = None
    transitions: list[Transition] = Field(default_factory=list)


class RejectedCallback(BaseModel):
    at: datetime
    values: dict[str, object]
    reason: str


class HiringContractStatus(StrEnum):
    PENDING = "PENDING"
    """Asked for; LinkedIn has not confirmed it yet (retried in the background)."""
    SET_UP = "SET_UP"
    NEEDS_ATTENTION = "NEEDS_ATTENTION"
    """LinkedIn refused it; an operator fixes the cause and sends `retry`."""


class HiringContractState(BaseModel):
    """One P4P contract activated for the customer's app (provisionedHiringContracts)."""

    partner_contract_id: int
    status: HiringContractStatus = HiringContractStatus.PENDING
    contract: str | None = None
    """The `urn:li:contract:N` LinkedIn answered: P4P jobs post on it."""
    requested_at: datetime
    set_up_at: datetime | None = None
    last_error: str | None = None


class ApplicationSync(BaseModel):
    """The last check of the customer's app against our settings (widget domains, callbacks)."""

    at: datetime
    changed: list[str]
    """The fields the provisioning update call set; empty when LinkedIn had them already."""


class IntegrationState(BaseModel):
    """What the `state` query answers: everything an operator needs to read."""

    customer_id: str
    customer_name: str
    integration_type: IntegrationType
    status: ContextStatus = ContextStatus.NOT_CONNECTED
    client_id: str | None = None
    application_key: str | None = None
    contexts: dict[str, ContextState] = Field(default_factory=dict)
    rejected_callbacks: list[RejectedCallback] = Field(default_factory=list)
    last_error: str | None = None
    last_verified_at: datetime | None = None
    hiring_contracts: dict[str, HiringContractState] = Field(default_factory=dict)
    """P4P contracts by partnerContractId (on the job-posting integration's workflow)."""
    application_sync: ApplicationSync | None = None
    waiting_for: str = ""


class OnboardingInput(BaseModel):
    """The one input of CustomerIntegrationWorkflow; `state` carries over continue-as-new."""

    customer_id: str = Field(min_length=1, max_length=100)
    customer_name: str = Field(min_length=1)
    integration_type: IntegrationType = IntegrationType.PREMIUM_JOB_POSTING
    ats_name: str = "Acme ATS"
    integration_name_template: str = "{ats}-{customer} LinkedIn {integration} Integration"
    """The customer-facing integration name (seed 000's example format)."""
    verify_interval: timedelta = timedelta(hours=24)
    max_history_length: int = 10_000
    """Continue as new past this many events, or sooner when Temporal suggests it."""
    state: IntegrationState | None = None

    @field_validator("customer_name", "ats_name")
    @classmethod
    def _no_linkedin(cls, value: str) -> str:
        if "linkedin" in value.lower():
            raise ValueError("must not contain 'LinkedIn': LinkedIn refuses app names with it")
        return value


class EnableRequest(BaseModel):
    """The `enable` update: one context, or every context waiting for it."""

    integration_context: str | None = None


class WidgetSave(BaseModel):
    """The `widget_saved` signal: the callback values, checked by the workflow itself."""

    values: list[dict[str, object]]


class HiringContractRequest(BaseModel):
    """The `setup_hiring_contract` update: activate the customer's app for a P4P contract."""

    partner_contract_id: int = Field(gt=0, description="LinkedIn's partnerContractId (a long).")


# -- activities -----------------------------------------------------------------------------


class ProvisionRequest(BaseModel):
    customer_id: str
    customer_name: str
    ats_name: str


class ProvisionedCustomer(BaseModel):
    client_id: str
    application_key: str
    created: bool


class EnableIntegrationRequest(BaseModel):
    customer_id: str
    key: IntegrationKey
    integration_name: str


class VerifyIntegrationsRequest(BaseModel):
    customer_id: str
    keys: list[IntegrationKey]


class SetupHiringContractRequest(BaseModel):
    customer_id: str
    partner_contract_id: int


class SetUpHiringContract(BaseModel):
    application_key: str
    contract: str


class SyncApplicationRequest(BaseModel):
    customer_id: str


class SyncedApplication(BaseModel):
    changed: list[str]
    """Wire names of the fields updated at LinkedIn; empty when they were current."""


class VerifiedIntegrations(BaseModel):
    """LinkedIn's onboarding status per integration context; None: no record at LinkedIn."""

    statuses: dict[str, OnboardingStatus | None]
