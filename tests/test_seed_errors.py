"""Every error row of the seeds: the sandbox answers it as LinkedIn does, the client classifies it.

Rows our client cannot produce by construction (it never sends mismatched or incomplete
keys) are sent raw, and the answer is classified with the client's own `from_body`.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from domain.integrations import IntegrationKey, IntegrationType
from linkedin import (
    IntegrationAlreadyEnabledError,
    LinkedInAuthError,
    LinkedInClient,
    LinkedInConflictError,
    LinkedInError,
    LinkedInForbiddenError,
    LinkedInNotFoundError,
    LinkedInPaymentRequiredError,
    LinkedInValidationError,
)
from linkedin.errors import from_body
from tests.conftest import PARTNER, Customer
from tests.jobs_support import raw_budget, raw_job, valid_job
from tests.sandbox_control import SandboxControl

PJP = IntegrationType.PREMIUM_JOB_POSTING
AWLI = IntegrationType.APPLY_WITH_LINKEDIN
CONTRACT = "urn:li:contract:555"
PJP_KEY = IntegrationKey.for_type(CONTRACT, PJP)
AWLI_KEY = IntegrationKey.for_type("urn:li:organization:4gX03uw", AWLI)


async def saved(
    sandbox: SandboxControl,
    context: str = CONTRACT,
    kind: str = "PREMIUM_JOB_POSTING",
    **extra: Any,
) -> None:
    response = await sandbox.widget_save(
        customerId="cust-1",
        integrationContext=context,
        integrationType=kind,
        jobPosterEmail="boss@globex.com",
        **extra,
    )
    response.raise_for_status()


async def enabled(linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer) -> None:
    await saved(sandbox)
    await linkedin.enable_integration(customer.creds, PJP_KEY, "Acme ATS - Globex PJP")


async def raw(
    linkedin: LinkedInClient, customer: Customer, method: str, path: str, **kw: Any
) -> httpx.Response:
    token = (await linkedin.access_token(customer.creds)).get_secret_value()
    headers = {"Authorization": f"Bearer {token}", **kw.pop("headers", {})}
    async with httpx.AsyncClient(base_url=linkedin._api_url) as http:
        return await http.request(method, path, headers=headers, **kw)


def classified(response: httpx.Response, endpoint: str = "atsIntegrations") -> LinkedInError:
    return from_body(response.status_code, response.json(), endpoint=endpoint)


def query(*keys: IntegrationKey, drop: str | None = None) -> list[tuple[str, str]]:
    params = [p for i, k in enumerate(keys) for p in k.query_params(i)]
    return [p for p in params if not (drop and p[0].endswith(drop))]


# -- seed 001: enable ---------------------------------------------------------------------


async def test_enable_already_enabled(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer
) -> None:
    await enabled(linkedin, sandbox, customer)
    with pytest.raises(IntegrationAlreadyEnabledError) as info:
        await linkedin.enable_integration(customer.creds, PJP_KEY, "again")
    assert info.value.status == 400
    assert info.value.message == (
        "One or more of your update keys are violating update rule : modifying onboarding "
        "status for already enabled integration is not allowed"
    )


async def test_enable_batch_request_mismatch(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer
) -> None:
    await saved(sandbox)
    other = IntegrationKey.for_type("urn:li:contract:999", PJP)
    response = await raw(
        linkedin,
        customer,
        "POST",
        "/v2/atsIntegrations",
        params=query(PJP_KEY),
        headers={"x-restli-method": "batch_partial_update"},
        json={"entities": {other.render(): {"patch": {"$set": {"integrationName": "n"}}}}},
    )
    error = classified(response)
    assert isinstance(error, LinkedInValidationError) and error.status == 400
    assert error.message == (
        f"Batch request mismatch. Entity key {other.render()} not found in the query parameter"
    )


@pytest.mark.parametrize("where", ["query", "body"])
async def test_enable_key_parts_incomplete(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer, where: str
) -> None:
    body_key = PJP_KEY.render()
    if where == "body":
        body_key = body_key.replace("&dataProvider=ATS", "")
    response = await raw(
        linkedin,
        customer,
        "POST",
        "/v2/atsIntegrations",
        params=query(PJP_KEY, drop="tenantType" if where == "query" else None),
        headers={"x-restli-method": "batch_partial_update"},
        json={"entities": {body_key: {"patch": {"$set": {"integrationName": "n"}}}}},
    )
    error = classified(response)
    assert (type(error), error.status, error.message) == (
        LinkedInValidationError,
        400,
        "Integration key parts are incomplete",
    )


async def test_enable_with_the_partner_app_is_forbidden(
    linkedin: LinkedInClient, sandbox: SandboxControl
) -> None:
    with pytest.raises(LinkedInForbiddenError) as info:
        await linkedin.enable_integration(PARTNER, PJP_KEY, "name")
    assert (info.value.status, info.value.message) == (
        403,
        "Not enough permissions to access: POST /atsIntegrations",
    )


@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_expired_token(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer, method: str
) -> None:
    await sandbox.settings(tokenTtlSeconds=0)
    with pytest.raises(LinkedInAuthError) as info:
        if method == "POST":
            await linkedin.enable_integration(customer.creds, PJP_KEY, "name")
        else:
            await linkedin.verify_integrations(customer.creds, [PJP_KEY])
    assert (info.value.status, info.value.service_error_code, info.value.message) == (
        401,
        65602,
        "The token used in the request has expired",
    )


@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_invalid_token(
    linkedin: LinkedInClient, sandbox: SandboxControl, method: str
) -> None:
    async with httpx.AsyncClient(base_url=sandbox.url) as http:
        response = await http.request(
            method,
            "/v2/atsIntegrations",
            params=query(PJP_KEY),
            headers={"Authorization": "Bearer tampered"},
        )
    error = classified(response)
    assert (type(error), error.status, error.service_error_code, error.message) == (
        LinkedInAuthError,
        401,
        65600,
        "Invalid access token",
    )


async def test_enable_before_the_widget_was_saved(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer
) -> None:
    outcome = await linkedin.enable_integrations(customer.creds, {AWLI_KEY: "Apply"})
    error = outcome[AWLI_KEY]
    assert isinstance(error, LinkedInNotFoundError)
    assert (error.status, error.message) == (404, "No record found to partial update")
    answer = (await sandbox.requests("/v2/atsIntegrations"))[-1]
    assert answer["status"] == 200


async def test_enable_answer_keys_in_either_form_are_matched(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer
) -> None:
    for encode in (True, False):
        await sandbox.settings(encodeResponseKeys=encode)
        context = f"urn:li:organization:{int(encode)}"
        key = IntegrationKey.for_type(context, AWLI)
        await saved(sandbox, context, "APPLY_WITH_LINKEDIN")
        assert await linkedin.enable_integrations(customer.creds, {key: "Apply"}) == {key: None}


# -- seed 001: verify ---------------------------------------------------------------------


async def test_verify_before_any_request_is_empty(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer
) -> None:
    assert await linkedin.verify_integrations(customer.creds, [AWLI_KEY]) == {}
    body = (
        await raw(linkedin, customer, "GET", "/v2/atsIntegrations", params=query(AWLI_KEY))
    ).json()
    assert body == {"errors": {}, "results": {}, "statuses": {}}


async def test_verify_after_enable(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer
) -> None:
    await enabled(linkedin, sandbox, customer)
    status = (await linkedin.verify_integrations(customer.creds, [PJP_KEY]))[PJP_KEY]
    assert (status.onboarding_status, status.integration_name) == (
        "ENABLED",
        "Acme ATS - Globex PJP",
    )


async def test_verify_invalid_context_urn(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer
) -> None:
    params = [
        (n, "urn:li:nonsense" if n.endswith("integrationContext") else v)
        for n, v in query(AWLI_KEY)
    ]
    error = classified(await raw(linkedin, customer, "GET", "/v2/atsIntegrations", params=params))
    assert (type(error), error.status, error.message) == (
        LinkedInValidationError,
        400,
        "Invalid integration context urn",
    )


@pytest.mark.parametrize("broken", ["missing", "wrong value"])
async def test_verify_key_parts_incomplete(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer, broken: str
) -> None:
    params = query(AWLI_KEY, drop="dataProvider" if broken == "missing" else None)
    if broken == "wrong value":
        params = [(n, "RECRUITER" if n.endswith("tenantType") else v) for n, v in params]
    error = classified(await raw(linkedin, customer, "GET", "/v2/atsIntegrations", params=params))
    assert (error.status, error.message) == (400, "Integration key parts are incomplete")


# -- seeds 000 and 001: the widget and the plugin -------------------------------------------


async def test_widget_save_without_poster(sandbox: SandboxControl, customer: Customer) -> None:
    response = await sandbox.widget_save(customerId="cust-1", integrationContext=CONTRACT)
    assert (response.status_code, response.json()["message"]) == (
        400,
        "Please select a job poster from the drop down",
    )


async def test_widget_for_a_non_admin(sandbox: SandboxControl, customer: Customer) -> None:
    response = await sandbox.widget_save(
        customerId="cust-1", integrationContext=CONTRACT, jobPosterEmail="a@b.co", asAdmin=False
    )
    assert response.json()["message"] == (
        "You don't have permission to view this page. Log in as a Recruiter Admin to view this page"
    )
    response = await sandbox.widget_save(
        customerId="cust-1",
        integrationType="APPLY_WITH_LINKEDIN",
        integrationContext="urn:li:organization:1",
        asAdmin=False,
    )
    assert response.json()["message"] == "There seems to be a problem you do not have permissions"


async def test_plugin_on_a_domain_the_app_does_not_list(
    sandbox: SandboxControl, customer: Customer
) -> None:
    response = await sandbox.widget_save(
        customerId="cust-1",
        integrationType="APPLY_WITH_LINKEDIN",
        integrationContext="urn:li:organization:1",
        origin="https://elsewhere.example.com",
    )
    assert response.status_code == 400
    assert response.json() == {
        "message": "Domain validation failed for the api key. Please contact your ATS for "
        "further assistance.",
        "console": "error.origin.not.in.api.domains",
    }
    ok = await sandbox.widget_save(
        customerId="cust-1",
        integrationType="APPLY_WITH_LINKEDIN",
        integrationContext="urn:li:organization:1",
        origin="https://ats.example.com",
    )
    assert ok.status_code == 200


async def test_widget_save_that_fails_on_the_network(
    sandbox: SandboxControl, customer: Customer
) -> None:
    await sandbox.fault("widget", failNext=1)
    response = await sandbox.widget_save(
        customerId="cust-1", integrationContext=CONTRACT, jobPosterEmail="a@b.co"
    )
    assert (response.status_code, response.json()["message"]) == (
        503,
        "Saving the default poster failed due to a network error. Please try again or "
        "contact LinkedIn Support",
    )
    assert (await sandbox.state())["integrations"] == []


# -- seeds 002 and 003: jobs --------------------------------------------------------------


async def p4p_contract(linkedin: LinkedInClient, customer: Customer) -> str:
    """A P4P contract set up for the customer's app, as provisionedHiringContracts does."""
    return (await linkedin.setup_hiring_contract(customer.creds, 67890)).contract


async def item_error(linkedin: LinkedInClient, customer: Customer, job: Any) -> LinkedInError:
    (submission,) = await linkedin.submit_jobs(customer.creds, [job])
    assert submission.error is not None, "LinkedIn accepted what it should refuse"
    return submission.error


def invalid_amount(amount: str) -> str:
    return (
        "Invalid budget amount was provided in the parameter: "
        f"{{payForPerformanceTotalBudget={{currencyCode=usd, amount={amount}}}}}"
    )


BAD_CURRENCY = (
    "Invalid currencyCode was provided in the budget. Please check the contract for "
    "supported currencyCode."
)


@pytest.mark.parametrize("amount", ["", "1.000", "a", "-1.00", "10001.00"])
async def test_p4p_budget_amounts(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer, amount: str
) -> None:
    contract = await p4p_contract(linkedin, customer)
    error = await item_error(
        linkedin,
        customer,
        raw_job(listing_type="PREMIUM", contract=contract, budget=raw_budget(amount)),
    )
    assert (type(error), error.status, error.message) == (
        LinkedInValidationError,
        400,
        invalid_amount(amount),
    )


@pytest.mark.parametrize(
    "case", ["no currency on contract", "unrecognisable", "not the contract's"]
)
async def test_p4p_currency(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer, case: str
) -> None:
    contract = await p4p_contract(linkedin, customer)
    currency = {
        "no currency on contract": "USD",
        "unrecognisable": "ZZZ",
        "not the contract's": "EUR",
    }[case]
    if case == "no currency on contract":
        await sandbox.contract(
            67890, kind="P4P", currency=None, ownerClientId=customer.creds.client_id
        )
    error = await item_error(
        linkedin,
        customer,
        raw_job(listing_type="PREMIUM", contract=contract, budget=raw_budget("100.00", currency)),
    )
    assert (error.status, error.message) == (400, BAD_CURRENCY)


async def test_p4p_currency_missing(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer
) -> None:
    contract = await p4p_contract(linkedin, customer)
    error = await item_error(
        linkedin,
        customer,
        raw_job(listing_type="PREMIUM", contract=contract, budget=raw_budget("100.00", None)),
    )
    assert (type(error), error.status, error.message) == (
        LinkedInValidationError,
        422,
        "ERROR :: /budget/payForPerformanceTotalBudget/currencyCode "
        ":: field is required but not found and has no default value.",
    )


async def test_p4p_on_a_slots_contract_is_not_qualified(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer
) -> None:
    await enabled(linkedin, sandbox, customer)
    error = await item_error(
        linkedin,
        customer,
        raw_job(listing_type="PREMIUM", contract=CONTRACT, budget=raw_budget("100.00")),
    )
    assert (error.status, error.message) == (400, "Job is not qualified to have a budget.")


async def test_p4p_while_a_recommended_budget_contract_awaits_the_widget(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer
) -> None:
    await saved(sandbox, "urn:li:contract:777", contractKind="RECOMMENDED_BUDGET")
    contract = await p4p_contract(linkedin, customer)
    error = await item_error(
        linkedin,
        customer,
        raw_job(listing_type="PREMIUM", contract=contract, budget=raw_budget("100.00")),
    )
    assert (error.status, error.message) == (
        400,
        "Please authenticate your LinkedIn contract with the LI job posting widget to "
        "promote your Job Post to a recommended budget.",
    )


@pytest.mark.parametrize("kind", ["partner", "basic"])
async def test_company_apply_url_missing(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer, kind: str
) -> None:
    extra: dict[str, Any] = {}
    if kind == "partner":
        extra = {
            "listing_type": "PREMIUM",
            "contract": await p4p_contract(linkedin, customer),
            "budget": raw_budget("100.00"),
        }
    error = await item_error(linkedin, customer, raw_job("ext-9", company_apply_url=None, **extra))
    assert (error.status, error.message) == (
        400,
        f"The payloads for {kind} job ext-9 creation must have field CompanyApplyUrl & "
        "sourceDomain.",
    )


async def raa_setup(
    linkedin: LinkedInClient,
    sandbox: SandboxControl,
    customer: Customer,
    active: bool = True,
    contract: bool = True,
) -> None:
    if contract:
        await p4p_contract(linkedin, customer)
    await sandbox.campaign("abcd1234", clientId=customer.creds.client_id, active=active)


def raa_job(**overrides: Any) -> Any:
    fields: dict[str, Any] = {"listing_type": "PREMIUM", "partner_job_campaign_id": "abcd1234"}
    fields.update(overrides)
    return raw_job(**fields)


@pytest.mark.parametrize(
    "overrides, active, contract, message",
    [
        (
            {"partner_job_campaign_id": None},
            True,
            True,
            "The partner job campaign id is not found in the payload.",
        ),
        (
            {"partner_job_campaign_id": "nope"},
            True,
            True,
            "The partner job campaign does not exist.",
        ),
        ({}, False, True, "The partner job campaign is not active."),
        ({}, True, False, "The customer contract does not exist for developer application {app}."),
        (
            {"budget": raw_budget("10.00")},
            True,
            True,
            "The budget field should not be present in the payload for this job.",
        ),
        ({"expire_at": 1}, True, True, "The expireAt is not supported for this job."),
        ({"listing_type": "BASIC"}, True, True, "This job cannot be of type BASIC."),
    ],
)
async def test_raa_rows(
    linkedin: LinkedInClient,
    sandbox: SandboxControl,
    customer: Customer,
    overrides: dict[str, Any],
    active: bool,
    contract: bool,
    message: str,
) -> None:
    await raa_setup(linkedin, sandbox, customer, active=active, contract=contract)
    error = await item_error(linkedin, customer, raa_job(**overrides))
    app_id = customer.app.key.rsplit(":", 1)[-1]
    assert (type(error), error.status, error.message) == (
        LinkedInValidationError,
        400,
        message.format(app=app_id),
    )


async def test_raa_renew_is_not_supported(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer
) -> None:
    await raa_setup(linkedin, sandbox, customer)
    (created,) = await linkedin.submit_jobs(customer.creds, [raa_job()])
    assert created.error is None
    error = await item_error(linkedin, customer, raa_job(job_posting_operation_type="RENEW"))
    assert (error.status, error.message) == (
        400,
        "The renew operation is not supported for this job.",
    )


async def test_out_of_budget_is_payment_required(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer
) -> None:
    contract = await p4p_contract(linkedin, customer)
    await sandbox.contract(
        67890,
        kind="P4P",
        currency="USD",
        budgetRemaining=50,
        ownerClientId=customer.creds.client_id,
    )
    error = await item_error(
        linkedin,
        customer,
        valid_job(
            listing_type="PREMIUM",
            contract=contract,
            budget={"payForPerformanceTotalBudget": {"currencyCode": "USD", "amount": "275.00"}},
        ),
    )
    assert (type(error), error.status, error.message) == (
        LinkedInPaymentRequiredError,
        402,
        "Payment Required returned for https://api.linkedin.com/v2/simpleJobPostings/.",
    )


@pytest.mark.parametrize("operation", ["UPDATE", "RENEW"])
async def test_update_of_a_job_that_does_not_exist(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer, operation: str
) -> None:
    error = await item_error(
        linkedin, customer, valid_job("ghost", job_posting_operation_type=operation)
    )
    assert (type(error), error.status, error.message) == (
        LinkedInConflictError,
        406,
        f"Operation type {operation} is not allowed for a non-existing job of partner urn "
        "urn:li:partner:1234, partner job code ghost.",
    )


async def test_premium_on_a_contract_not_enabled_for_the_app(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer
) -> None:
    await saved(sandbox)  # REQUESTED, not ENABLED
    error = await item_error(
        linkedin, customer, valid_job(listing_type="PREMIUM", contract=CONTRACT)
    )
    assert (type(error), error.status, error.message) == (
        LinkedInForbiddenError,
        403,
        f"Caller is not authorized to access the jobs for contract: {CONTRACT}",
    )


async def test_downgrade_without_contract(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer
) -> None:
    await enabled(linkedin, sandbox, customer)
    await linkedin.submit_jobs(
        customer.creds, [valid_job("prem", listing_type="PREMIUM", contract=CONTRACT)]
    )
    error = await item_error(
        linkedin,
        customer,
        valid_job("prem", job_posting_operation_type="UPDATE", listing_type="BASIC"),
    )
    assert (type(error), error.status, error.message) == (
        LinkedInValidationError,
        400,
        "Contract field missing for job promotion with extJobPostingId prem",
    )


async def test_schema_error_in_a_200_answer(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer
) -> None:
    error = await item_error(linkedin, customer, raw_job(title=None))
    assert (type(error), error.status, error.message) == (
        LinkedInValidationError,
        422,
        "ERROR :: /title :: field is required but not found and has no default value\n",
    )


async def test_close_of_a_closed_job(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer
) -> None:
    close = valid_job("j", job_posting_operation_type="CLOSE")
    await linkedin.submit_jobs(customer.creds, [valid_job("j")])
    (first,) = await linkedin.submit_jobs(customer.creds, [close])
    assert first.error is None
    error = await item_error(linkedin, customer, close)
    assert (type(error), error.status, error.message) == (
        LinkedInConflictError,
        409,
        "Cannot close job which is already closed or does not exist",
    )


async def test_duplicate_create_fails_its_task(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer
) -> None:
    (first,) = await linkedin.submit_jobs(customer.creds, [valid_job("dup")])
    (second,) = await linkedin.submit_jobs(customer.creds, [valid_job("dup")])
    tasks = await linkedin.get_tasks(customer.creds, [first.task_id, second.task_id])  # type: ignore[list-item]
    assert tasks.results[first.task_id].status == "SUCCEEDED"  # type: ignore[index]
    failed = tasks.results[second.task_id]  # type: ignore[index]
    assert failed.status == "FAILED" and "same partnerIdentifier already exists" in (
        failed.error_message or ""
    )


async def test_malformed_task_urn(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer
) -> None:
    response = await raw(
        linkedin,
        customer,
        "GET",
        "/v2/simpleJobPostingTasks",
        params={"ids": "urn:li:simpleJobPostingTask:not-a-uuid"},
    )
    error = classified(response, "simpleJobPostingTasks")
    assert (error.status, error.message) == (400, "Batch key parameter value is invalid")


async def test_batch_create_needs_its_restli_header(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer
) -> None:
    response = await raw(
        linkedin,
        customer,
        "POST",
        "/v2/simpleJobPostings",
        json={"elements": [valid_job().to_wire()]},
    )
    assert isinstance(classified(response, "simpleJobPostings"), LinkedInForbiddenError)


async def test_batch_over_100_is_refused(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer
) -> None:
    elements = [valid_job(f"j{n}").to_wire() for n in range(101)]
    response = await raw(
        linkedin,
        customer,
        "POST",
        "/v2/simpleJobPostings",
        json={"elements": elements},
        headers={"x-restli-method": "batch_create"},
    )
    error = classified(response, "simpleJobPostings")
    assert isinstance(error, LinkedInValidationError) and "maximum of 100" in error.message
