"""LinkedIn's rules for one simpleJobPostings element, with LinkedIn's own messages.

Written apart from our client's models on purpose. Messages quoted from seeds 002/003
are verbatim; a few that LinkedIn does not document (length limits, enum values) follow
the `ERROR :: /field :: ...` form of its schema errors.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from linkedin_sandbox.questions import check_configuration
from linkedin_sandbox.state import App, World

OPERATIONS = ("CREATE", "UPDATE", "RENEW", "CLOSE")
EMPLOYMENT = {"FULL_TIME", "PART_TIME", "CONTRACT", "INTERNSHIP", "TEMPORARY", "VOLUNTEER", "OTHER"}
EXPERIENCE = {
    "ENTRY_LEVEL",
    "MID_SENIOR_LEVEL",
    "DIRECTOR",
    "EXECUTIVE",
    "INTERNSHIP",
    "ASSOCIATE",
    "NOT_APPLICABLE",
}
CURRENCIES = {
    "USD",
    "EUR",
    "GBP",
    "CAD",
    "AUD",
    "INR",
    "JPY",
    "CHF",
    "SEK",
    "NOK",
    "DKK",
    "PLN",
    "BRL",
    "MXN",
    "SGD",
    "HKD",
    "NZD",
    "ZAR",
    "AED",
    "CNY",
}
"""Currencies the sandbox's P4P contracts may be set up in."""

_CONTEXT = re.compile(r"^urn:li:(organization|company):[A-Za-z0-9_.\-]+$")
_CONTRACT = re.compile(r"^urn:li:contract:[A-Za-z0-9_.\-]+$")
REQUIRED = ("title", "description", "listedAt", "location")
"""Required by the schema in every element, CLOSE included (LinkedIn closes a job that is
posted again whole with jobPostingOperationType CLOSE)."""


class Refusal(Exception):
    """One element refused: the per-item status and LinkedIn's message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def required(path: str) -> Refusal:
    return Refusal(
        422, f"ERROR :: {path} :: field is required but not found and has no default value\n"
    )


def check_element(
    world: World, app: App, job: Any, partner_id: int, listed_at_skew_ms: int = 0
) -> None:
    """Raise Refusal if LinkedIn would refuse this element at submission."""
    if not isinstance(job, dict):
        raise Refusal(422, "ERROR :: / :: expected a record\n")
    for field in ("externalJobPostingId", "jobPostingOperationType"):
        if job.get(field) in (None, ""):
            raise required(f"/{field}")
    external_id = str(job["externalJobPostingId"])
    operation = job["jobPostingOperationType"]
    if operation not in OPERATIONS:
        raise Refusal(
            422, f'ERROR :: /jobPostingOperationType :: "{operation}" is not an enum symbol\n'
        )
    for field in REQUIRED:
        if job.get(field) in (None, ""):
            raise required(f"/{field}")
    if operation == "CLOSE" and not job.get("companyApplyUrl"):
        raise required("/companyApplyUrl")
    if ("budget" in job or "partnerJobCampaignId" in job) and not job.get("companyJobCode"):
        raise required("/companyJobCode")  # seed 002: "now required" for P4P jobs
    existing = world.job(app.client_id, external_id)
    pending_create = any(
        t.client_id == app.client_id
        and t.external_id == external_id
        and t.operation == "CREATE"
        and t.status == "IN_PROGRESS"
        for t in world.tasks.values()
    )
    exists = (existing is not None and not existing.closed) or pending_create
    if operation == "CLOSE":
        _check_content(job, external_id, world.now_ms() + listed_at_skew_ms)
        if not exists:
            raise Refusal(409, "Cannot close job which is already closed or does not exist")
        return
    if operation in ("UPDATE", "RENEW") and not exists:
        raise Refusal(
            406,
            f"Operation type {operation} is not allowed for a non-existing job of partner urn "
            f"urn:li:partner:{partner_id}, partner job code {external_id}.",
        )
    raa = "partnerJobCampaignId" in job or any(
        c.client_id == app.client_id for c in world.campaigns.values()
    )
    if raa:
        _check_raa(world, app, job, operation)
    _check_content(job, external_id, world.now_ms() + listed_at_skew_ms)
    refused = check_configuration(job)
    if refused is not None:
        raise Refusal(422, refused)
    if not raa:
        _check_listing(world, app, job, external_id, existing)


def _check_raa(world: World, app: App, job: dict[str, Any], operation: str) -> None:
    campaign_id = job.get("partnerJobCampaignId")
    if not campaign_id:
        raise Refusal(400, "The partner job campaign id is not found in the payload.")
    campaign = world.campaigns.get(str(campaign_id))
    if campaign is None or campaign.client_id != app.client_id:
        raise Refusal(400, "The partner job campaign does not exist.")
    if not campaign.active:
        raise Refusal(400, "The partner job campaign is not active.")
    if operation == "RENEW":
        raise Refusal(400, "The renew operation is not supported for this job.")
    if "budget" in job:
        raise Refusal(400, "The budget field should not be present in the payload for this job.")
    if "expireAt" in job:
        raise Refusal(400, "The expireAt is not supported for this job.")
    if job.get("listingType", "BASIC") == "BASIC":
        raise Refusal(400, "This job cannot be of type BASIC.")
    if not any(c.owner_client_id == app.client_id for c in world.contracts.values()):
        raise Refusal(
            400,
            f"The customer contract does not exist for developer application "
            f"{app.key.rsplit(':', 1)[-1]}.",
        )


def _check_content(job: dict[str, Any], external_id: str, latest_listed_at: int) -> None:
    if not job.get("companyApplyUrl"):
        kind = "partner" if "budget" in job else "basic"
        raise Refusal(
            400,
            f"The payloads for {kind} job {external_id} creation must have field "
            "CompanyApplyUrl & sourceDomain.",
        )
    if not any(job.get(f) for f in ("integrationContext", "companyName", "companyPageUrl")):
        raise Refusal(
            400,
            "Either `context` or `company` or `companyPageUrl` or `companyName` must be provided",
        )
    context = job.get("integrationContext")
    if context and not _CONTEXT.match(str(context)):
        raise Refusal(400, f"Invalid integrationContext urn: {context}")
    title, description = str(job["title"]), str(job["description"])
    if len(title) > 200:
        raise Refusal(422, f"ERROR :: /title :: length {len(title)} exceeds the maximum of 200\n")
    if not 100 <= len(description) <= 25_000:
        raise Refusal(
            422,
            f"ERROR :: /description :: length {len(description)} is outside "
            "the range 100 to 25000\n",
        )
    listed_at = job["listedAt"]
    if not isinstance(listed_at, int) or isinstance(listed_at, bool):
        raise Refusal(422, "ERROR :: /listedAt :: expected a long\n")
    if listed_at > latest_listed_at:
        raise Refusal(400, f"listedAt {listed_at} must not be in the future")
    for field, allowed in (("employmentStatus", EMPLOYMENT), ("experienceLevel", EXPERIENCE)):
        if field in job and job[field] not in allowed:
            raise Refusal(422, f'ERROR :: /{field} :: "{job[field]}" is not an enum symbol\n')
    if len(job.get("categories") or []) > 3:
        raise Refusal(422, "ERROR :: /categories :: at most 3 categories are allowed\n")
    if len(job.get("workplaceTypes") or []) > 1:
        raise Refusal(422, "ERROR :: /workplaceTypes :: only one workplace type is allowed\n")


def _check_listing(
    world: World, app: App, job: dict[str, Any], external_id: str, existing: Any
) -> None:
    listing = job.get("listingType", "BASIC")
    if listing not in ("BASIC", "PREMIUM"):
        raise Refusal(422, f'ERROR :: /listingType :: "{listing}" is not an enum symbol\n')
    contract_urn = job.get("contract")
    downgrade = listing == "BASIC" and existing is not None and existing.listing_type == "PREMIUM"
    if (listing == "PREMIUM" or downgrade) and not contract_urn:
        raise Refusal(
            400, f"Contract field missing for job promotion with extJobPostingId {external_id}"
        )
    if contract_urn and not _CONTRACT.match(str(contract_urn)):
        raise Refusal(400, f"Invalid contract urn: {contract_urn}")
    if contract_urn and not _authorized(world, app, str(contract_urn)):
        raise Refusal(
            403, f"Caller is not authorized to access the jobs for contract: {contract_urn}"
        )
    if "budget" in job:
        _check_budget(world, app, job, str(contract_urn) if contract_urn else None, listing)
    elif listing == "PREMIUM" and contract_urn:
        contract = world.contracts.get(str(contract_urn))
        if contract and contract.slots_remaining == 0:
            raise Refusal(
                402, "Payment Required returned for https://api.linkedin.com/v2/simpleJobPostings/."
            )


def _authorized(world: World, app: App, contract_urn: str) -> bool:
    """A contract is usable once its PJP integration is ENABLED, or when the app owns it."""
    contract = world.contracts.get(contract_urn)
    if contract is not None and contract.owner_client_id == app.client_id:
        return True
    record = world.integration(app.client_id, contract_urn, "PREMIUM_JOB_POSTING", "JOBS")
    return record is not None and record.status == "ENABLED"


def _budget_text(budget: dict[str, Any]) -> str:
    currency = str(budget.get("currencyCode") or "").lower()
    amount = budget.get("amount")
    return (
        f"{{payForPerformanceTotalBudget={{currencyCode={currency}, "
        f"amount={'' if amount is None else amount}}}}}"
    )


def _check_budget(
    world: World, app: App, job: dict[str, Any], contract_urn: str | None, listing: str
) -> None:
    wrapper = job["budget"] if isinstance(job["budget"], dict) else {}
    budget = wrapper.get("payForPerformanceTotalBudget")
    if not isinstance(budget, dict):
        raise required("/budget/payForPerformanceTotalBudget")
    if budget.get("currencyCode") is None:
        raise Refusal(
            422,
            "ERROR :: /budget/payForPerformanceTotalBudget/currencyCode :: field "
            "is required but not found and has no default value.",
        )
    invalid_amount = Refusal(
        400, f"Invalid budget amount was provided in the parameter: {_budget_text(budget)}"
    )
    raw = str(budget.get("amount") if budget.get("amount") is not None else "")
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        raise invalid_amount from None
    if not amount.is_finite() or amount <= 0 or -amount.as_tuple().exponent > 2:  # type: ignore[operator]
        raise invalid_amount
    currency = str(budget["currencyCode"])
    if currency == "USD" and amount >= 10_000:
        raise invalid_amount
    bad_currency = Refusal(
        400,
        "Invalid currencyCode was provided in the budget. Please check "
        "the contract for supported currencyCode.",
    )
    if currency not in CURRENCIES:
        raise bad_currency
    contract = world.contracts.get(contract_urn) if contract_urn else None
    if listing != "PREMIUM" or contract is None or contract.kind == "SLOTS":
        raise Refusal(400, "Job is not qualified to have a budget.")
    if contract.kind == "P4P" and _unauthenticated_recommended_budget(world, app):
        raise Refusal(
            400,
            "Please authenticate your LinkedIn contract with the LI job "
            "posting widget to promote your Job Post to a recommended "
            "budget.",
        )
    if contract.currency is None or contract.currency != currency:
        raise bad_currency
    if contract.budget_remaining is not None and float(amount) > contract.budget_remaining:
        raise Refusal(
            402, "Payment Required returned for https://api.linkedin.com/v2/simpleJobPostings/."
        )


def _unauthenticated_recommended_budget(world: World, app: App) -> bool:
    """The customer holds a recommended-budget PJP contract it has not enabled yet."""
    for record in world.integrations:
        contract = world.contracts.get(record.integration_context)
        if (
            record.client_id == app.client_id
            and record.status != "ENABLED"
            and contract is not None
            and contract.kind == "RECOMMENDED_BUDGET"
        ):
            return True
    return False
