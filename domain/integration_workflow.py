"""The customer-integration workflow's input, state and the activities it calls."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated
from urllib.parse import quote

from pydantic import AfterValidator, BaseModel, Field, field_validator

from domain.documents import Document
from domain.integrations import (
    MAX_CONTEXT_LENGTH,
    IntegrationKey,
    IntegrationType,
    OnboardingStatus,
)
from domain.validation import printable_id

INTEGRATION_WORKFLOW_TYPE = "CustomerIntegrationWorkflow"
STATUS_PUSHED = "status_pushed"
"""The signal a customer's INTEGRATION_STATUS_CHANGE push sends its integration workflows."""

PROVISION_CUSTOMER = "provision_customer"
ENABLE_INTEGRATION = "enable_integration"
VERIFY_INTEGRATIONS = "verify_integrations"
SETUP_HIRING_CONTRACT = "setup_hiring_contract"
SYNC_APPLICATION = "sync_application"
RETIRE_APPLICATION = "retire_application"

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


# -- limits: what LinkedIn accepts, and what keeps the workflow's state small -------------

MAX_CUSTOMER_ID = 100
MAX_CUSTOMER_NAME = 200
"""LinkedIn shows '{ATS} - {Customer}' (at most 50 characters) as the app's name and takes
the description without a published limit: 200 characters name any customer, and keep the
description and the integration name we send short."""
MAX_ATS_NAME = 40
"""'{ATS} - ' must leave room for the customer in the app's 50-character name."""
MAX_CONTEXTS = 100
"""Integration contexts per callback and per integration. Each costs at least two
atsIntegrations calls (enable, verify) on every save, and LinkedIn allows an app 5,000 a
day: 100 contexts re-saved a few times a day stay well inside it."""
KEPT_TRANSITIONS = 20
"""Transitions kept in full per context; older ones are only counted."""
KEPT_REJECTED_CALLBACKS = 20
"""Rejected callback values kept in full; older ones are only counted."""

MAX_APP_ATTEMPTS = 20
"""Apps created for one customer at most (each replacing one whose secret a crash lost)."""

_RESERVED_SUFFIX = re.compile(r"#\d+$")


def _customer_id(value: str) -> str:
    printable_id(value)
    if _RESERVED_SUFFIX.search(value):
        raise ValueError(
            "must not end in '#' and digits: that suffix names a replacement LinkedIn app"
        )
    return value


CustomerId = Annotated[
    str, AfterValidator(_customer_id), Field(min_length=1, max_length=MAX_CUSTOMER_ID)
]
"""The ATS's id of a customer: any printable text, `"`, `\\`, `/` and unicode included."""


def integration_workflow_id(customer_id: str, integration_type: IntegrationType) -> str:
    """`integration/{customer}/{type}`, the customer percent-encoded as job ids are.

    Encoding keeps the mapping one-to-one (customer `a/b` is `integration/a%2Fb/...`);
    plain ids (letters, digits, `-_.~`) read as typed.
    """
    return f"integration/{quote(customer_id, safe='')}/{integration_type}"


def application_foreign_id(customer_id: str, attempt: int) -> str:
    """The uniqueForeignId of the customer's app: the id, then `#2`, `#3`... for replacements.

    Customer ids never end in '#' and digits, so no two (customer, attempt) pairs share one.
    """
    return customer_id if attempt <= 1 else f"{customer_id}#{attempt}"


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


class Transition(Document):
    status: ContextStatus
    at: datetime
    reason: str


class ContextState(Document):
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
    """The latest KEPT_TRANSITIONS, oldest first."""
    earlier_transitions: int = 0
    """Transitions before those, counted only."""

    def record(self, transition: Transition) -> None:
        self.transitions.append(transition)
        dropped = len(self.transitions) - KEPT_TRANSITIONS
        if dropped > 0:
            del self.transitions[:dropped]
            self.earlier_transitions += dropped


class RejectedCallback(Document):
    at: datetime
    values: dict[str, object]
    """The values as sent, each cut to MAX_CONTEXT_LENGTH characters (at most 8 of them)."""
    reason: str

    @classmethod
    def of(cls, at: datetime, values: object, reason: str) -> RejectedCallback:
        shown: dict[str, object] = {}
        if isinstance(values, dict):
            for name, value in list(values.items())[:8]:
                text = value if isinstance(value, str) else repr(value)
                shown[str(name)[:MAX_CONTEXT_LENGTH]] = text[:MAX_CONTEXT_LENGTH]
        return cls(at=at, values=shown, reason=reason[:500])


class HiringContractStatus(StrEnum):
    PENDING = "PENDING"
    """Asked for; LinkedIn has not confirmed it yet (retried in the background)."""
    SET_UP = "SET_UP"
    NEEDS_ATTENTION = "NEEDS_ATTENTION"
    """LinkedIn refused it; an operator fixes the cause and sends `retry`."""


class HiringContractState(Document):
    """One P4P contract activated for the customer's app (provisionedHiringContracts)."""

    partner_contract_id: int
    status: HiringContractStatus = HiringContractStatus.PENDING
    contract: str | None = None
    """The `urn:li:contract:N` LinkedIn answered: P4P jobs post on it."""
    requested_at: datetime
    set_up_at: datetime | None = None
    last_error: str | None = None


class AppStep(StrEnum):
    """The next step of the search for the customer's app (`Provisioning.next`)."""

    LOOK = "LOOK"
    """A step's first look under the current uniqueForeignId: our store, then LinkedIn."""
    CREATE = "CREATE"
    """LinkedIn has none: record that we create it, then create it."""
    WAIT_FOR_SECRET = "WAIT_FOR_SECRET"
    """Found without a stored secret: whoever created it gets `provision_grace` to store it."""
    LOOK_AGAIN = "LOOK_AGAIN"
    """A wait for the secret passed: look again."""


class Provisioning(Document):
    """How the search for the customer's app stands, saved: every decision on it reads this."""

    next: AppStep = AppStep.LOOK
    unstored_key: str | None = None
    """The app found under the current uniqueForeignId with no secret in our store."""
    waited: timedelta = timedelta(0)
    """How long it has been given so far (`provision_grace` at most)."""
    problem: str | None = None
    """Why provisioning waits for a person: a failed call, an app we did not create, too many
    lost secrets. `retry` clears it."""
    relook_at: datetime | None = None
    """When an app we did not create is looked at again, retry or not."""
    relooks: int = 0
    """Looks at an app we did not create so far: each waits twice as long, up to an hour."""


class RoundKind(StrEnum):
    """Whose work the holder of the workflow's lock does (`Round`)."""

    BACKGROUND = "BACKGROUND"
    """The run loop's pass: each context saved before it began that waits for an enable, then
    each P4P contract pending once those were done."""
    VERIFY = "VERIFY"
    """The run loop's periodic verify of the ENABLED contexts."""
    ENABLE = "ENABLE"
    """The `enable` update's contexts, whatever their status, within its deadline."""
    SETUP = "SETUP"
    """The `setup_hiring_contract` update's contract, unless set up already, within its deadline."""


class Round(Document):
    """What the holder of the lock works through, saved so the next step needs nothing else."""

    kind: RoundKind
    until: datetime | None = None
    """An update's deadline: a call LinkedIn did not answer by then is "not yet", not a refusal."""
    contexts: list[str] = Field(default_factory=list)
    """Contexts still to pass, in order."""
    contracts: list[str] | None = None
    """Contracts (partnerContractIds) still to pass; None until the contexts are done."""
    verify: list[str] | None = None
    """Contexts to verify next: the one whose enable LinkedIn answered, or the periodic verify's."""
    notify: str | None = None
    """A contract just ENABLED: the customer's job workflows parked on it are woken next."""
    current: str | None = None
    """The context or contract being worked on (an update's answer names it when late)."""


class ApplicationSync(Document):
    """The last check of the customer's app against our settings (widget domains, callbacks)."""

    at: datetime
    changed: list[str]
    """The fields the provisioning update call set; empty when LinkedIn had them already."""


class IntegrationState(Document):
    """What the `state` query answers: everything an operator needs to read."""

    customer_id: str
    customer_name: str
    integration_type: IntegrationType
    status: ContextStatus = ContextStatus.NOT_CONNECTED
    client_id: str | None = None
    application_key: str | None = None
    contexts: dict[str, ContextState] = Field(default_factory=dict)
    rejected_callbacks: list[RejectedCallback] = Field(default_factory=list)
    """The latest KEPT_REJECTED_CALLBACKS, oldest first."""
    earlier_rejected_callbacks: int = 0
    last_error: str | None = None
    last_verified_at: datetime | None = None
    verify_pushed_at: datetime | None = None
    """When LinkedIn pushed an INTEGRATION_STATUS_CHANGE not verified since (None: none)."""
    push_verified_at: datetime | None = None
    """When the last verify a push brought forward began (pushes bring one a minute)."""
    hiring_contracts: dict[str, HiringContractState] = Field(default_factory=dict)
    """P4P contracts by partnerContractId (on the job-posting integration's workflow)."""
    application_sync: ApplicationSync | None = None
    waiting_for: str = ""
    app_attempt: int = 1
    """Which uniqueForeignId the customer's app is sought under (application_foreign_id)."""
    creating_app: str | None = None
    """The uniqueForeignId we asked LinkedIn to create, recorded before the call: an app found
    under it without a stored secret was ours and lost it in a crash."""
    provisioning: Provisioning = Field(default_factory=Provisioning)
    round: Round | None = None
    """The lock holder's work, while it holds the lock; None at rest (and at continue-as-new)."""
    verify_interval: timedelta = timedelta(hours=24)
    """IntegrationInput's, copied at each run's start: the rules read only the state."""
    provision_grace: timedelta = timedelta(minutes=3)
    """IntegrationInput's, copied at each run's start."""

    def reject(self, rejected: RejectedCallback) -> None:
        self.rejected_callbacks.append(rejected)
        dropped = len(self.rejected_callbacks) - KEPT_REJECTED_CALLBACKS
        if dropped > 0:
            del self.rejected_callbacks[:dropped]
            self.earlier_rejected_callbacks += dropped


class IntegrationInput(BaseModel):
    """The one input of CustomerIntegrationWorkflow; `state` carries over continue-as-new."""

    customer_id: CustomerId
    customer_name: str = Field(min_length=1, max_length=MAX_CUSTOMER_NAME)
    integration_type: IntegrationType = IntegrationType.PREMIUM_JOB_POSTING
    ats_name: str = Field(default="Acme ATS", min_length=1, max_length=MAX_ATS_NAME)
    integration_name_template: str = "{ats}-{customer} LinkedIn {integration} Integration"
    """The customer-facing integration name (seed 000's example format)."""
    verify_interval: timedelta = timedelta(hours=24)
    max_history_length: int = 10_000
    """Continue as new past this many events, or sooner when Temporal suggests it."""
    webhooks: bool = False
    """Hand each context's status change to webhook delivery."""
    provision_grace: timedelta = timedelta(minutes=3)
    """How long an app found without its secret may still be stored by whoever created it
    (longer than one provisioning attempt may run) before it counts as orphaned."""
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
    unique_foreign_id: str | None = None
    """The app to find or create; None (workflows of before): the customer id."""
    create: bool = True
    """False: only look (the stored app, or what LinkedIn holds under the id)."""


class ProvisionedCustomer(BaseModel):
    """The customer's app; client_id None when LinkedIn has none (or none we hold a secret
    for: `unstored_key` then names it)."""

    client_id: str | None
    application_key: str | None
    unstored_key: str | None = None


class RetireApplicationRequest(BaseModel):
    customer_id: str
    customer_name: str
    ats_name: str
    application_key: str
    replaced_by: str
    """The uniqueForeignId of the app that takes its place."""


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
