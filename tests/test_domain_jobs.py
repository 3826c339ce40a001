"""Job postings and P4P budgets are refused before anything is sent, naming field and rule."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from domain.job_postings import JobPosting, Money

NOW = 1_790_000_000_000
DESCRIPTION = "We are hiring a passionate engineer to build durable systems. " * 3


def job(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "externalJobPostingId": "job-1",
        "jobPostingOperationType": "CREATE",
        "title": "Engineer",
        "description": DESCRIPTION,
        "companyApplyUrl": "https://careers.example.com/1",
        "listedAt": NOW - 1000,
        "location": "San Francisco, CA",
        "integrationContext": "urn:li:organization:42",
        "companyJobCode": "REQ-1",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def p4p(amount: str = "275.00", currency: str = "USD") -> dict[str, Any]:
    return {"payForPerformanceTotalBudget": {"currencyCode": currency, "amount": amount}}


def refuse(data: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ValidationError) as info:
        JobPosting.model_validate(data, context={"now_ms": NOW})
    assert fragment in str(info.value), str(info.value)


def test_a_valid_job_serialises_to_linkedin_field_names() -> None:
    posting = JobPosting.model_validate(
        job(listingType="PREMIUM", contract="urn:li:contract:9", budget=p4p())
    )
    wire = posting.to_wire()
    assert wire["externalJobPostingId"] == "job-1"
    assert wire["budget"] == p4p()
    assert "expireAt" not in wire


@pytest.mark.parametrize(
    "amount, rule",
    [
        ("", "at most two decimal places"),  # seed 002: amount=
        ("1.000", "at most two decimal places"),  # seed 002: amount=1.000
        ("a", "at most two decimal places"),  # seed 002: amount=a
        ("-1.00", "at most two decimal places"),  # seed 002: amount=-1.00
        ("0.00", "greater than zero"),
        ("10001.00", "less than 10,000 USD"),  # seed 002: amount=10001.00
        ("10000", "less than 10,000 USD"),
    ],
)
def test_budget_amount_rules_of_seed_002(amount: str, rule: str) -> None:
    refuse(job(listingType="PREMIUM", contract="urn:li:contract:9", budget=p4p(amount)), rule)
    with pytest.raises(ValidationError, match="amount"):
        Money(currency_code="USD", amount=amount)


@pytest.mark.parametrize("currency", ["usd", "XYZ", ""])
def test_budget_currency_must_be_iso_4217(currency: str) -> None:
    refuse(
        job(listingType="PREMIUM", contract="urn:li:contract:9", budget=p4p(currency=currency)),
        "ISO 4217",
    )


def test_budget_currency_is_required() -> None:
    data = job(
        listingType="PREMIUM",
        contract="urn:li:contract:9",
        budget={"payForPerformanceTotalBudget": {"amount": "1.00"}},
    )
    refuse(data, "currencyCode")


def test_large_budgets_in_other_currencies_are_left_to_linkedin() -> None:
    JobPosting.model_validate(
        job(listingType="PREMIUM", contract="urn:li:contract:9", budget=p4p("12000.00", "SEK"))
    )


@pytest.mark.parametrize(
    "overrides, rule",
    [
        ({"contract": "urn:li:contract:9"}, "contract: must be left out for RAA"),
        ({"budget": p4p()}, "budget: must be left out for RAA"),
        ({"expireAt": NOW + 10}, "expireAt: not supported for RAA"),
        ({"listingType": "BASIC"}, "listingType: must be PREMIUM for RAA"),
        ({"jobPostingOperationType": "RENEW"}, "RENEW is not supported for RAA"),
    ],
)
def test_raa_rules_of_seed_002(overrides: dict[str, Any], rule: str) -> None:
    data = job(listingType="PREMIUM", partnerJobCampaignId="abcd1234")
    data.update(overrides)
    refuse(data, rule)


def test_raa_job_is_valid_without_contract() -> None:
    JobPosting.model_validate(job(listingType="PREMIUM", partnerJobCampaignId="abcd1234"))


@pytest.mark.parametrize(
    "overrides, rule",
    [
        ({"title": None}, "title: required for CREATE"),
        ({"description": "too short"}, "at least 100 characters"),
        ({"description": "x" * 25_001}, "at most 25000 characters"),
        ({"title": "t" * 201}, "at most 200 characters"),
        ({"companyApplyUrl": None}, "companyApplyUrl: required"),
        ({"companyApplyUrl": "careers.example.com"}, "absolute http(s) URL"),
        ({"listedAt": NOW + 60_000}, "listedAt: must not be in the future"),
        ({"location": None}, "location: required"),
        ({"integrationContext": None}, "integrationContext: required (or companyName"),
        ({"integrationContext": "urn:li:contract:1"}, "urn:li:organization:<id>"),
        ({"listingType": "PREMIUM"}, "contract: required when listingType is PREMIUM"),
        ({"budget": p4p()}, "budget: P4P budgets need listingType PREMIUM"),
        ({"workplaceTypes": ["On-site", "Remote"]}, "at most 1 item"),
        ({"workplaceTypes": ["Moon"]}, "workplaceTypes.0"),
        ({"categories": ["a", "b", "c", "d"]}, "at most 3 items"),
        ({"employmentStatus": "SOMETIMES"}, "employmentStatus"),
        ({"experienceLevel": "GURU"}, "experienceLevel"),
        ({"industries": ["industry:55"]}, "urn:li:industry:<id>"),
        ({"posterEmail": "not-an-email"}, "email address"),
        ({"expireAt": NOW - 5000}, "expireAt: must be after listedAt"),
        ({"externalJobPostingId": "x" * 76}, "at most 75 characters"),
        ({"surprise": 1}, "Extra inputs are not permitted"),
    ],
)
def test_job_rules(overrides: dict[str, Any], rule: str) -> None:
    data = job()
    data.update(overrides)
    refuse({k: v for k, v in data.items() if v is not None}, rule)


@pytest.mark.parametrize("missing", ["title", "description", "companyApplyUrl", "listedAt"])
def test_close_carries_the_whole_job(missing: str) -> None:
    """LinkedIn closes a job re-posted whole: a two-field CLOSE would fail in production."""
    refuse(
        job(jobPostingOperationType="CLOSE", **{missing: None}), f"{missing}: required for CLOSE"
    )
    with pytest.raises(ValidationError, match="title: required for CLOSE"):
        JobPosting.model_validate(
            {"externalJobPostingId": "job-1", "jobPostingOperationType": "CLOSE"}
        )
    JobPosting.model_validate(job(jobPostingOperationType="CLOSE"), context={"now_ms": NOW})


@pytest.mark.parametrize(
    "extra",
    [
        {"listingType": "PREMIUM", "contract": "urn:li:contract:9", "budget": p4p()},
        {"listingType": "PREMIUM", "partnerJobCampaignId": "abcd1234"},
    ],
    ids=["p4p", "raa"],
)
def test_p4p_jobs_need_a_company_job_code(extra: dict[str, Any]) -> None:
    """Seed 002: companyJobCode is now required for P4P jobs."""
    refuse(job(companyJobCode=None, **extra), "companyJobCode: required for P4P jobs")
    JobPosting.model_validate(job(companyJobCode=None), context={"now_ms": NOW})  # not P4P


def test_listed_at_a_few_seconds_ahead_is_clock_skew_not_the_future() -> None:
    JobPosting.model_validate(job(listedAt=NOW + 3_000), context={"now_ms": NOW})
    refuse(job(listedAt=NOW + 120_000), "listedAt: must not be in the future")


def test_company_name_can_stand_in_for_the_context() -> None:
    JobPosting.model_validate(job(integrationContext=None, companyName="Globex"))
