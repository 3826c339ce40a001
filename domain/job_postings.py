"""Job postings as LinkedIn's simpleJobPostings takes them, with its limits checked up front.

Field names in Python are snake_case; on the wire (aliases) they are LinkedIn's camelCase.
`listedAt` must not lie in the future (beyond a few seconds of clock skew): pass the
current time as validation context (`JobPosting.model_validate(data, context={"now_ms":
...})`) so the check stays deterministic inside workflows, which pass `workflow.now()`.

Answers (`TaskStatus`, `JobPostingStatus`) are read tolerantly: an enum value LinkedIn adds
later reads as UNKNOWN, as LinkedIn's own SDK maps it, and never fails a batch.
"""

from __future__ import annotations

import re
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from domain.apply_questions import OnsiteApplyConfiguration
from domain.currencies import ISO_4217
from domain.urns import ContractUrn, IndustryUrn, OrganizationUrn
from domain.validation import printable_id

MAX_BATCH = 100
"""simpleJobPostings takes at most this many jobs in one call."""

USD_BUDGET_LIMIT = Decimal("10000")
_AMOUNT = re.compile(r"^\d+(\.\d{1,2})?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)


LISTED_AT_SKEW_MS = 5_000
"""How far ahead of our clock listedAt may be: clocks differ by seconds (LinkedIn's own
Postman requests send a timestamp up to a second ahead), never by minutes."""

REQUIRED_FIELDS = ("title", "description", "company_apply_url", "listed_at", "location")
"""Every element carries these, CLOSE included: LinkedIn closes a job re-posted whole."""


class OperationType(StrEnum):
    CREATE = "CREATE"
    UPDATE = "UPDATE"
    RENEW = "RENEW"
    CLOSE = "CLOSE"


class ListingType(StrEnum):
    BASIC = "BASIC"
    PREMIUM = "PREMIUM"


class EmploymentStatus(StrEnum):
    FULL_TIME = "FULL_TIME"
    PART_TIME = "PART_TIME"
    CONTRACT = "CONTRACT"
    INTERNSHIP = "INTERNSHIP"
    TEMPORARY = "TEMPORARY"
    VOLUNTEER = "VOLUNTEER"
    OTHER = "OTHER"


class ExperienceLevel(StrEnum):
    ENTRY_LEVEL = "ENTRY_LEVEL"
    MID_SENIOR_LEVEL = "MID_SENIOR_LEVEL"
    DIRECTOR = "DIRECTOR"
    EXECUTIVE = "EXECUTIVE"
    INTERNSHIP = "INTERNSHIP"
    ASSOCIATE = "ASSOCIATE"
    NOT_APPLICABLE = "NOT_APPLICABLE"


class WorkplaceType(StrEnum):
    ON_SITE = "On-site"
    HYBRID = "Hybrid"
    REMOTE = "Remote"


class Availability(StrEnum):
    PUBLIC = "PUBLIC"
    PRIVATE_TO_ATS_INTEGRATION = "PRIVATE_TO_ATS_INTEGRATION"


class _Wire(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )

    def to_wire(self) -> dict[str, Any]:
        """The JSON LinkedIn expects: camelCase, unset fields left out."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class Money(_Wire):
    """A P4P total budget: the amount is a decimal string, as LinkedIn wants it."""

    currency_code: str
    amount: str

    @field_validator("currency_code")
    @classmethod
    def _iso_4217(cls, value: str) -> str:
        if value not in ISO_4217:
            raise ValueError(f"must be an ISO 4217 currency code such as USD, got {value!r}")
        return value

    @field_validator("amount")
    @classmethod
    def _amount(cls, value: str) -> str:
        if not _AMOUNT.match(value):
            raise ValueError(
                f"must be a positive decimal number with at most two decimal places, "
                f"like '275.00', got {value!r}"
            )
        if Decimal(value) <= 0:
            raise ValueError(f"must be greater than zero, got {value!r}")
        return value

    @model_validator(mode="after")
    def _usd_limit(self) -> Money:
        if self.currency_code == "USD" and Decimal(self.amount) >= USD_BUDGET_LIMIT:
            raise ValueError(f"amount: must be less than 10,000 USD per job, got {self.amount!r}")
        return self


class Budget(_Wire):
    pay_for_performance_total_budget: Money


class JobPosting(_Wire):
    """One element of a simpleJobPostings batch_create."""

    external_job_posting_id: Annotated[str, AfterValidator(printable_id)] = Field(
        min_length=1, max_length=75
    )
    job_posting_operation_type: OperationType
    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, min_length=100, max_length=25_000)
    company_apply_url: str | None = None
    listed_at: int | None = Field(default=None, ge=0)
    location: str | None = Field(default=None, min_length=1)
    integration_context: OrganizationUrn | None = None
    company_name: str | None = Field(default=None, min_length=1)
    company_page_url: str | None = None
    company_job_code: str | None = Field(default=None, min_length=1)
    categories: list[str] | None = Field(default=None, max_length=3)
    industries: list[IndustryUrn] | None = None
    employment_status: EmploymentStatus | None = None
    experience_level: ExperienceLevel | None = None
    skills_description: str | None = None
    workplace_types: list[WorkplaceType] | None = Field(default=None, max_length=1)
    work_remote_allowed: bool | None = None
    expire_at: int | None = Field(default=None, ge=0)
    listing_type: ListingType | None = None
    contract: ContractUrn | None = None
    poster_email: str | None = None
    show_poster_info: bool | None = None
    availability: Availability | None = None
    budget: Budget | None = None
    partner_job_campaign_id: str | None = Field(default=None, min_length=1)
    company_description: str | None = Field(default=None, min_length=1, max_length=25_000)
    """A short description of the company (job_posting_v2.yaml)."""
    tracking_pixel_url: str | None = Field(default=None, max_length=2000)
    requisition_owner_email: str | None = None
    """RSC: the requisition owner (job_posting_v2.yaml's Recruiter System Connect schema)."""
    requisition_owner_first_name: str | None = Field(default=None, min_length=1, max_length=200)
    requisition_owner_last_name: str | None = Field(default=None, min_length=1, max_length=200)
    onsite_apply_configuration: OnsiteApplyConfiguration | None = None
    """Apply Connect: the questions LinkedIn asks; its webhook URL is ours, set for the ATS."""

    @field_validator("company_apply_url", "company_page_url", "tracking_pixel_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not _URL.match(value):
            raise ValueError(f"must be an absolute http(s) URL, got {value!r}")
        return value

    @field_validator("poster_email", "requisition_owner_email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not _EMAIL.match(value):
            raise ValueError(f"must be an email address, got {value!r}")
        return value

    @property
    def effective_listing_type(self) -> ListingType:
        return self.listing_type or ListingType.BASIC

    @property
    def is_raa(self) -> bool:
        """Recruitment Advertising Agency jobs carry a campaign id instead of a contract."""
        return self.partner_job_campaign_id is not None

    @property
    def is_p4p(self) -> bool:
        return self.budget is not None

    @model_validator(mode="after")
    def _rules(self, info: ValidationInfo) -> JobPosting:
        operation = self.job_posting_operation_type
        for name in REQUIRED_FIELDS:
            if getattr(self, name) is None:
                why = " (LinkedIn closes a job posted again whole)" if operation == "CLOSE" else ""
                raise ValueError(f"{to_camel(name)}: required for {operation}{why}")
        if self.integration_context is None and (
            self.company_name is None and self.company_page_url is None
        ):
            raise ValueError(
                "integrationContext: required (or companyName / companyPageUrl) "
                "to say which company posts the job"
            )
        now_ms = (info.context or {}).get("now_ms") if info else None
        if (
            now_ms is not None
            and self.listed_at is not None
            and self.listed_at > now_ms + LISTED_AT_SKEW_MS
        ):
            raise ValueError(f"listedAt: must not be in the future, got {self.listed_at}")
        if (
            self.expire_at is not None
            and self.listed_at is not None
            and self.expire_at <= self.listed_at
        ):
            raise ValueError("expireAt: must be after listedAt")
        if (
            self.onsite_apply_configuration is not None
            and self.availability is Availability.PRIVATE_TO_ATS_INTEGRATION
        ):
            raise ValueError(
                "availability: must be PUBLIC for an Apply Connect job (onsiteApplyConfiguration)"
            )
        if self.is_raa:
            self._raa_rules()
        else:
            self._contract_rules()
        if (self.is_p4p or self.is_raa) and not self.company_job_code:
            raise ValueError(
                "companyJobCode: required for P4P jobs (seed 002): the ATS requisition id, "
                "or the externalJobPostingId again"
            )
        return self

    def _raa_rules(self) -> None:
        if self.contract is not None:
            raise ValueError("contract: must be left out for RAA jobs (partnerJobCampaignId set)")
        if self.budget is not None:
            raise ValueError("budget: must be left out for RAA jobs; the campaign holds it")
        if self.expire_at is not None:
            raise ValueError("expireAt: not supported for RAA jobs")
        if self.listing_type is not ListingType.PREMIUM:
            raise ValueError("listingType: must be PREMIUM for RAA jobs")
        if self.job_posting_operation_type is OperationType.RENEW:
            raise ValueError("jobPostingOperationType: RENEW is not supported for RAA jobs")

    def _contract_rules(self) -> None:
        premium = self.effective_listing_type is ListingType.PREMIUM
        if premium and self.contract is None:
            raise ValueError("contract: required when listingType is PREMIUM")
        if self.budget is not None and not premium:
            raise ValueError("budget: P4P budgets need listingType PREMIUM")


class _AnswerEnum(StrEnum):
    """An enum in LinkedIn's answers: a value we do not know reads as UNKNOWN."""

    @classmethod
    def _missing_(cls, value: object) -> Any:
        return cls.__members__["UNKNOWN"]


class TaskState(_AnswerEnum):
    IN_PROGRESS = "IN_PROGRESS"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    PROCESSED = "PROCESSED"
    """Reported for XML-feed customers; final, like SUCCEEDED."""
    UNKNOWN = "UNKNOWN"
    """A status we do not know: not taken for finished, so polling goes on (bounded)."""

    @property
    def is_final(self) -> bool:
        return self not in (TaskState.IN_PROGRESS, TaskState.UNKNOWN)


class _Lenient(BaseModel):
    """A LinkedIn answer: camelCase, unknown fields kept out of the way, ids as strings."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


AnsweredId = Annotated[str, BeforeValidator(lambda v: str(v) if isinstance(v, int) else v)]
"""An id LinkedIn answers as a number (its SDK's fixtures) or a string: kept as text."""


class TaskStatus(_Lenient):
    id: str
    status: TaskState
    external_job_posting_id: AnsweredId | None = None
    job_posting: str | None = None
    location: str | None = None
    error_message: str | None = None

    @property
    def job_id(self) -> str | None:
        """The numeric LinkedIn job id of `urn:li:jobPosting:<id>`."""
        return self.job_posting.rsplit(":", 1)[-1] if self.job_posting else None


class ListingStatus(_AnswerEnum):
    LISTED = "LISTED"
    NOT_LISTED = "NOT_LISTED"
    IN_PROGRESS = "IN_PROGRESS"
    UNKNOWN = "UNKNOWN"


class ApplyStatus(_AnswerEnum):
    ENABLED = "ENABLED"
    NOT_ENABLED = "NOT_ENABLED"
    IN_PROGRESS = "IN_PROGRESS"
    UNKNOWN = "UNKNOWN"


class PromotionStatus(_AnswerEnum):
    PROMOTED = "PROMOTED"
    NOT_PROMOTED = "NOT_PROMOTED"
    UNKNOWN = "UNKNOWN"


class StatusDetail(_Lenient):
    error_code: str | None = None
    """A number in LinkedIn's SDK, a string in its docs: kept as text either way."""
    error_type: str | None = None
    status_message: str | None = None

    @field_validator("error_code", mode="before")
    @classmethod
    def _code_as_text(cls, value: object) -> object:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        return value


class JobPostingInfo(_Lenient):
    expire_at: int | None = None
    listed_at: int | None = None
    location: str | None = None


class JobPostingStatus(_Lenient):
    """What jobPostingStatus says of one job: what partners must show their customers."""

    external_job_posting_id: AnsweredId
    job_posting_url: str | None = None
    listing_status: ListingStatus | None = None
    linked_in_apply_status: ApplyStatus | None = Field(default=None, alias="linkedInApplyStatus")
    promotion_status: PromotionStatus | None = None
    listing_status_detail: StatusDetail | None = None
    linked_in_apply_status_detail: StatusDetail | None = Field(
        default=None, alias="linkedInApplyStatusDetail"
    )
    promotion_status_detail: StatusDetail | None = None
    job_posting_info: JobPostingInfo | None = None
    raw_location: str | None = None

    @property
    def job_id(self) -> str | None:
        """LinkedIn's job id, the last path segment of jobPostingUrl."""
        if not self.job_posting_url:
            return None
        return self.job_posting_url.rstrip("/").rsplit("/", 1)[-1]
