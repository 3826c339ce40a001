"""Job payloads for tests, valid unless a test says otherwise."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from temporalio.client import Client

from client.integrations import IntegrationsClient
from domain.integrations import IntegrationKey, IntegrationType
from domain.job_postings import Budget, JobPosting, ListingType, Money, OperationType
from linkedin import LinkedInClient
from settings import Settings
from workers.worker import credential_store

if TYPE_CHECKING:
    from tests.conftest import Customer
    from tests.sandbox_control import SandboxControl

DESCRIPTION = "We are hiring a passionate engineer to build durable, boring systems. " * 3


def now_ms() -> int:
    return int(time.time() * 1000)


def job_fields(external_id: str = "job-1", **overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "external_job_posting_id": external_id,
        "job_posting_operation_type": "CREATE",
        "title": "Software Engineer",
        "description": DESCRIPTION,
        "company_apply_url": "https://careers.example.com/apply",
        "listed_at": now_ms() - 60_000,
        "location": "San Francisco, CA",
        "integration_context": "urn:li:organization:42",
        "company_job_code": f"REQ-{external_id}",
    }
    fields.update(overrides)
    return {k: v for k, v in fields.items() if v is not None}


def valid_job(external_id: str = "job-1", **overrides: Any) -> JobPosting:
    return JobPosting.model_validate(job_fields(external_id, **overrides))


def raw_job(external_id: str = "job-1", **overrides: Any) -> JobPosting:
    """A job that skips our own validation, to see what LinkedIn says of it."""
    fields = job_fields(external_id, **overrides)
    fields["job_posting_operation_type"] = OperationType(fields["job_posting_operation_type"])
    if "listing_type" in fields:
        fields["listing_type"] = ListingType(fields["listing_type"])
    return JobPosting.model_construct(**fields)


def raw_budget(amount: str | None, currency: str | None = "USD") -> Budget:
    fields: dict[str, Any] = {
        "currency_code": currency,
        "amount": amount,
    }  # rules broken on purpose
    money = Money.model_construct(**fields)
    return Budget.model_construct(pay_for_performance_total_budget=money)


async def onboard_for_jobs(
    linkedin: LinkedInClient, settings: Settings, temporal: Client, customer_id: str
) -> Customer:
    """A customer as onboarding leaves it: its app provisioned, its secret stored, and its
    integration workflow started (jobs are refused for customers never onboarded)."""
    from tests.conftest import provision

    customer = await provision(linkedin, customer_id)
    await credential_store(settings).save(customer_id, customer.app.key, customer.creds)
    onboarding = IntegrationsClient(temporal, task_queue=settings.task_queue)
    await onboarding.start_onboarding(customer_id, "Globex")
    return customer


async def onboard_with_contract(
    linkedin: LinkedInClient,
    sandbox: SandboxControl,
    settings: Settings,
    temporal: Client,
    customer_id: str,
    contract: str,
    contract_kind: str = "SLOTS",
) -> Customer:
    """An onboarded customer whose premium job posting integration for `contract` is
    ENABLED: premium and (with a P4P contract) pay-for-performance jobs go through."""
    customer = await onboard_for_jobs(linkedin, settings, temporal, customer_id)
    saved = await sandbox.widget_save(
        customerId=customer_id,
        integrationContext=contract,
        jobPosterEmail="boss@globex.com",
        contractKind=contract_kind,
    )
    saved.raise_for_status()
    key = IntegrationKey.for_type(contract, IntegrationType.PREMIUM_JOB_POSTING)
    await linkedin.enable_integration(customer.creds, key, "PJP")
    return customer
