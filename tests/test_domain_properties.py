"""Hypothesis over the domain models and the widget callback parser.

Whatever comes in (an ATS's job, LinkedIn's widget, an entity key in LinkedIn's answer),
the models either accept it or refuse it with pydantic's ValidationError (or our own
ValueError subclass where one is documented); and what they accept survives the trip to
LinkedIn's wire form and back unchanged.
"""

from __future__ import annotations

import string
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.integrations import (
    CONTEXT_KINDS,
    TENANT_TYPE,
    IntegrationKey,
    IntegrationKeyError,
    IntegrationType,
    TenantType,
    WidgetCallback,
)
from domain.job_postings import Budget, JobPosting, Money
from domain.urns import UrnError, parse_urn

NOW_MS = 1_800_000_000_000
json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=6,
)
id_chars = string.ascii_letters + string.digits + "_.-"
ids = st.text(alphabet=id_chars, min_size=1, max_size=12)


def urns(kinds: tuple[str, ...] | None = None) -> st.SearchStrategy[str]:
    """LinkedIn URNs of the given kinds, and near misses of every sort."""
    kind = st.sampled_from(kinds) if kinds else st.sampled_from(("contract", "organization"))
    good = st.builds(lambda k, i: f"urn:li:{k}:{i}", kind, ids)
    return (
        good
        | st.builds(lambda k, i: f"urn:li:{k}:{i}", st.text(max_size=8), st.text())
        | (st.text(max_size=40))
    )


# -- money and budgets ----------------------------------------------------------------------

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2).map(
    lambda d: f"{d:.2f}"
)
currencies = st.sampled_from(("USD", "EUR", "GBP", "JPY", "usd", "XXX", "", "US"))


@given(amount=amounts | st.text(max_size=12), currency=currencies)
def test_money_is_valid_or_refused_and_round_trips(amount: str, currency: str) -> None:
    try:
        money = Money(currency_code=currency, amount=amount)
    except ValidationError:
        return
    assert Decimal(money.amount) > 0
    assert not (currency == "USD" and Decimal(money.amount) >= 10_000)
    budget = Budget(pay_for_performance_total_budget=money)
    assert Budget.model_validate(budget.to_wire()) == budget
    assert Money.model_validate_json(money.model_dump_json()) == money


@given(json_values)
def test_any_json_as_a_budget_is_a_budget_or_a_validation_error(raw: Any) -> None:
    try:
        budget = Budget.model_validate(raw)
    except ValidationError:
        return
    assert Budget.model_validate(budget.to_wire()) == budget


# -- job postings ---------------------------------------------------------------------------

FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "title": st.text(max_size=210),
    "description": st.text(min_size=90, max_size=140),
    "companyApplyUrl": st.sampled_from(("https://ats.example.com/j/1", "ftp://x", "")),
    "listedAt": st.integers(min_value=-5, max_value=NOW_MS + 5),
    "location": st.text(max_size=20),
    "integrationContext": urns(("organization", "company")),
    "companyName": st.text(max_size=20),
    "employmentStatus": st.sampled_from(("FULL_TIME", "PART_TIME", "full_time", "")),
    "workplaceTypes": st.lists(st.sampled_from(("On-site", "Hybrid", "Remote", "x")), max_size=2),
    "expireAt": st.integers(min_value=0, max_value=NOW_MS * 2),
    "listingType": st.sampled_from(("BASIC", "PREMIUM", "GOLD")),
    "contract": urns(("contract",)),
    "budget": st.builds(
        lambda amount, currency: {
            "payForPerformanceTotalBudget": {"amount": amount, "currencyCode": currency}
        },
        amounts,
        currencies,
    ),
    "posterEmail": st.sampled_from(("boss@acme.example.com", "not an email", "a@b.c")),
    "partnerJobCampaignId": st.text(max_size=5),
    "categories": st.lists(st.text(max_size=5), max_size=4),
    "anything": json_values,
}


@st.composite
def valid_jobs(draw: st.DrawFn) -> dict[str, Any]:
    """A job every rule accepts, premium or not, P4P or not."""
    listed_at = draw(st.integers(min_value=0, max_value=NOW_MS))
    job: dict[str, Any] = {
        "externalJobPostingId": draw(ids),
        "jobPostingOperationType": draw(st.sampled_from(("CREATE", "UPDATE", "RENEW"))),
        "title": draw(st.text(min_size=1, max_size=200)),
        "description": draw(st.text(min_size=100, max_size=300)),
        "companyApplyUrl": "https://ats.example.com/jobs/1",
        "listedAt": listed_at,
        "location": draw(st.text(min_size=1, max_size=30)),
        "companyName": draw(st.text(min_size=1, max_size=30)),
    }
    if draw(st.booleans()):
        job["expireAt"] = listed_at + draw(st.integers(min_value=1, max_value=10**10))
    if draw(st.booleans()):
        job["listingType"] = "PREMIUM"
        job["contract"] = f"urn:li:contract:{draw(st.integers(min_value=0))}"
        if draw(st.booleans()):
            amount = draw(amounts.filter(lambda a: Decimal(a) < 10_000))
            job["budget"] = {
                "payForPerformanceTotalBudget": {"amount": amount, "currencyCode": "USD"}
            }
            job["companyJobCode"] = draw(ids)  # P4P names the requisition (seed 002)
    return job


@st.composite
def jobs(draw: st.DrawFn) -> dict[str, Any]:
    """A job as an ATS might send it: a valid one with a few fields changed to anything."""
    job = draw(valid_jobs())
    for name in draw(st.lists(st.sampled_from(sorted({*job, *FIELDS})), max_size=2, unique=True)):
        choice = draw(st.sampled_from(("drop", "field", "anything")))
        if choice == "drop":
            job.pop(name, None)
        elif choice == "field" and name in FIELDS:
            job[name] = draw(FIELDS[name])
        else:
            job[name] = draw(json_values)
    return job


@settings(max_examples=300)
@given(jobs())
def test_any_job_is_valid_or_a_validation_error_and_round_trips(raw: dict[str, Any]) -> None:
    try:
        job = JobPosting.model_validate(raw, context={"now_ms": NOW_MS})
    except ValidationError:
        return
    assert JobPosting.model_validate(job.to_wire(), context={"now_ms": NOW_MS}) == job
    assert JobPosting.model_validate_json(job.model_dump_json()) == job


@given(valid_jobs())
def test_valid_jobs_are_accepted_and_keep_every_field_on_the_wire(raw: dict[str, Any]) -> None:
    job = JobPosting.model_validate(raw, context={"now_ms": NOW_MS})
    assert job.to_wire() == raw
    assert job.is_p4p == ("budget" in raw)
    assert str(job.effective_listing_type) == raw.get("listingType", "BASIC")


# -- integration keys and URNs --------------------------------------------------------------

parts = st.sampled_from(("integrationContext", "integrationType", "tenantType", "dataProvider"))
values = st.sampled_from(
    [*(str(t) for t in IntegrationType), *(str(t) for t in TenantType), "ATS", "urn:li:contract:1"]
) | st.text(max_size=20)


@given(st.lists(st.tuples(parts | st.text(max_size=8), values), max_size=5), st.text(max_size=5))
def test_any_entity_key_parses_or_is_refused_and_round_trips(
    pieces: list[tuple[str, str]], junk: str
) -> None:
    raw = "&".join(f"{name}={value}" for name, value in pieces) + junk
    try:
        key = IntegrationKey.parse(raw)
    except (IntegrationKeyError, ValidationError):
        return
    for encode in (False, True):
        assert IntegrationKey.parse(key.render(encode_context=encode)) == key


@given(st.text(max_size=60), st.lists(st.sampled_from(("contract", "organization")), max_size=2))
def test_any_text_is_a_urn_or_a_urn_error(value: str, kinds: list[str]) -> None:
    try:
        kind, id_ = parse_urn(value, *kinds)
    except UrnError:
        return
    assert value == f"urn:li:{kind}:{id_}"
    assert not kinds or kind in kinds


# -- the widget's callback ------------------------------------------------------------------


@st.composite
def callbacks(draw: st.DrawFn) -> Any:
    """What a page might post as one callback value: right, nearly right, or anything."""
    kind = draw(st.sampled_from(list(IntegrationType)))
    value: dict[str, Any] = {
        "tenantType": str(TENANT_TYPE[kind]),
        "onboardingStatus": draw(
            st.sampled_from(("REQUESTED", "ENABLED", "NOT_CONNECTED", "PARTNER_READY"))
        ),
        "integrationType": str(kind),
        "integrationContext": f"urn:li:{draw(st.sampled_from(CONTEXT_KINDS[kind]))}:{draw(ids)}",
    }
    mutations = {
        "tenantType": st.sampled_from([*(str(t) for t in TenantType), "jobs"]),
        "onboardingStatus": st.sampled_from(("X", "requested", "")),
        "integrationType": st.sampled_from([*(str(t) for t in IntegrationType), "PJP"]),
        "integrationContext": urns(),
    }
    for name in draw(st.lists(st.sampled_from(sorted(value)), max_size=2, unique=True)):
        choice = draw(st.sampled_from(("drop", "near", "anything")))
        if choice == "drop":
            del value[name]
        else:
            value[name] = draw(mutations[name] if choice == "near" else json_values)
    return draw(st.just(value) | json_values)


@settings(max_examples=300)
@given(callbacks())
def test_any_callback_value_is_parsed_or_a_validation_error(raw: Any) -> None:
    try:
        callback = WidgetCallback.model_validate(raw)
    except ValidationError:
        return
    wire = callback.model_dump(by_alias=True, mode="json")
    assert WidgetCallback.model_validate(wire) == callback
    assert IntegrationKey.parse(callback.key.render(encode_context=True)) == callback.key
    assert callback.key.tenant_type == callback.tenant_type
