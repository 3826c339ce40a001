"""The worker process: our workflows and activities on one task queue."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import structlog
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.runtime import Runtime
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.applications import ApplicationActivities
from activities.batching import BatchTiming, LinkedInBatcher
from activities.credentials import (
    CredentialCipher,
    CredentialConfigError,
    CredentialStore,
    SqliteCredentialStore,
    create_key_file,
    parse_keys,
    read_key_file,
)
from activities.integrations import IntegrationActivities
from activities.jobs import JobActivities, JobTiming
from activities.linkedin_events import LinkedInEventActivities
from activities.offboarding import OffboardingActivities
from activities.p4p_reports import P4PReportActivities
from activities.postgres_credentials import PostgresCredentialStore
from activities.postgres_quotas import PostgresCallCounter
from activities.rate_limits import (
    JOB_SUBMISSIONS,
    STATUS_READS,
    TASK_READS,
    CallBudget,
    DailyCounter,
    RateLimits,
)
from activities.webhooks import WebhookActivities
from client.codec import PayloadKeyError, PayloadKeys
from client.documents import DirectoryDocumentStore, PostgresDocumentStore
from domain.applications import DocumentKind, DocumentStore, StoredDocument
from domain.provisioning import AppCredentials
from linkedin import LinkedInClient
from linkedin.client import CallObserver
from linkedin.tokens import TokenStore
from settings import Settings
from workers.activation_order import UpdatesAfterResultsRunner
from workers.metrics import LinkedInMetrics, prometheus_runtime
from workflows.application import ApplicationWorkflow
from workflows.intake import LinkedInIntakeWorkflow
from workflows.integration import CustomerIntegrationWorkflow
from workflows.job import JobPostingWorkflow
from workflows.job_status_checks import JobStatusChecksWorkflow
from workflows.job_wakeups import JobWakeupsWorkflow
from workflows.linkedin_events import LinkedInEventWorkflow
from workflows.offboarding import CustomerOffboardingWorkflow
from workflows.p4p_reports import P4PReportWorkflow
from workflows.webhooks import WebhookDeliveryWorkflow, WebhookEndpointsWorkflow

log = structlog.get_logger("worker")

WORKFLOWS = [
    CustomerIntegrationWorkflow,
    JobPostingWorkflow,
    JobWakeupsWorkflow,
    JobStatusChecksWorkflow,
    LinkedInEventWorkflow,
    LinkedInIntakeWorkflow,
    P4PReportWorkflow,
    CustomerOffboardingWorkflow,
    WebhookEndpointsWorkflow,
    WebhookDeliveryWorkflow,
    ApplicationWorkflow,
]


def sandbox() -> SandboxedWorkflowRunner:
    """The sandbox, less re-importing our own modules for every new workflow run.

    Re-importing and compiling workflows/ for each run took half of a busy worker's CPU
    (docs/performance.md). Those modules import only domain, temporalio and the standard
    library (tests/test_architecture.py) and keep no module state; the replay tests guard
    their determinism, which the sandbox no longer checks for calls made from them."""
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules("workflows", "domain")
    )


WORKFLOW_RUNNER = UpdatesAfterResultsRunner(sandbox())
"""The sandbox, showing workflows an update only after the results it came with."""


def linkedin_client(
    settings: Settings,
    observer: CallObserver | None = None,
    token_store: TokenStore | None = None,
) -> LinkedInClient:
    """The client our settings describe; tokens shared through `token_store` when given."""
    return LinkedInClient(
        observer=observer,
        token_store=token_store,
        api_url=settings.linkedin_api_url,
        oauth_url=settings.linkedin_oauth_url,
        partner=AppCredentials(
            client_id=settings.partner_client_id, client_secret=settings.partner_client_secret
        ),
        timeout=settings.linkedin_timeout_seconds,
        api_version=settings.linkedin_api_version,
        versioned_endpoints=settings.linkedin_versioned_endpoints,
    )


def credential_store(settings: Settings) -> CredentialStore:
    """PostgreSQL when LINKEDIN_ATS_CREDENTIAL_STORE_URL is set, else the SQLite file."""
    cipher = credential_cipher(settings)
    if settings.credential_store_url is not None:
        return PostgresCredentialStore(
            settings.credential_store_url,
            cipher,
            max_connections=settings.credential_store_pool_size,
        )
    return SqliteCredentialStore(settings.credentials_path, cipher)


class StoredAppSecrets:
    """The secrets LinkedIn signs with, for the API's LinkedIn door (api.linkedin.AppSecrets):
    the parent app's from settings, each customer's from the credential store."""

    def __init__(self, settings: Settings, store: CredentialStore | None = None) -> None:
        self._partner_secret = settings.partner_client_secret.get_secret_value()
        self._store = store or credential_store(settings)

    @property
    def partner_secret(self) -> str:
        return self._partner_secret

    async def of_application(self, application: str) -> tuple[str, str] | None:
        stored = await self._store.find_application(application)
        if stored is None:
            return None
        return stored.customer_id, stored.credentials.client_secret.get_secret_value()

    async def of_customer(self, customer_id: str) -> str | None:
        stored = await self._store.get(customer_id)
        return stored.credentials.client_secret.get_secret_value() if stored else None


class UnavailableDocumentStore:
    """No payload keys to seal documents with: every use fails, saying why (the worker's
    own process always has keys; a test worker may not)."""

    def __init__(self, problem: str) -> None:
        self._problem = problem

    def _refuse(self) -> ApplicationError:
        return ApplicationError(
            f"the document store is not available: {self._problem}",
            type="DocumentStoreUnavailable",
        )

    async def put(
        self, customer_id: str, key: str, kind: DocumentKind, content: bytes, content_type: str
    ) -> StoredDocument:
        raise self._refuse()

    async def get(
        self, customer_id: str, key: str, kind: DocumentKind
    ) -> tuple[bytes, StoredDocument] | None:
        raise self._refuse()

    async def erase(self, customer_id: str, key: str) -> int:
        raise self._refuse()


def document_store(settings: Settings, keys: PayloadKeys | None = None) -> DocumentStore:
    """Application documents in PostgreSQL (LINKEDIN_ATS_DOCUMENT_STORE_URL) or in
    <data_dir>/documents (LINKEDIN_ATS_DOCUMENT_DIR), sealed with the payload keys."""
    try:
        keys = keys or settings.load_payload_keys()
    except PayloadKeyError as error:
        return UnavailableDocumentStore(str(error))
    if settings.document_store_url is not None:
        return PostgresDocumentStore(settings.document_store_url, keys)
    return DirectoryDocumentStore(settings.documents_path, keys)


def credential_cipher(settings: Settings) -> CredentialCipher:
    """The keys of LINKEDIN_ATS_CREDENTIAL_KEY, else of the key file.

    The file is generated only for the SQLite store: workers sharing PostgreSQL must
    share keys, and a key one host made up alone would lock the others out.
    """
    if settings.credential_key is not None:
        return CredentialCipher(
            parse_keys(settings.credential_key.get_secret_value()), "LINKEDIN_ATS_CREDENTIAL_KEY"
        )
    path = settings.key_file_path
    source = f"the key file {path} (LINKEDIN_ATS_CREDENTIAL_KEY_FILE)"
    if path.exists():
        return CredentialCipher(read_key_file(path), source)
    if settings.credential_store_url is not None:
        raise CredentialConfigError(
            "LINKEDIN_ATS_CREDENTIAL_STORE_URL is set, so every worker must use the same "
            "credential keys: set LINKEDIN_ATS_CREDENTIAL_KEY or LINKEDIN_ATS_CREDENTIAL_KEY_FILE "
            f"(there is no key file at {path})"
        )
    return CredentialCipher(create_key_file(path), source)


def call_counter(settings: Settings) -> DailyCounter | None:
    """Where LinkedIn's daily quotas are counted: in PostgreSQL, for every worker, when the
    credential store is there; else each worker counts its own."""
    if settings.credential_store_url is None:
        return None
    return PostgresCallCounter(settings.credential_store_url)


def call_budget(settings: Settings, metrics: LinkedInMetrics | None = None) -> CallBudget:
    """The worker's per-application LinkedIn call budget, shared by every activity."""
    limits = RateLimits(
        per_day={
            JOB_SUBMISSIONS: settings.linkedin_daily_job_submissions,
            TASK_READS: settings.linkedin_daily_task_reads,
            STATUS_READS: settings.linkedin_daily_status_reads,
        },
        per_second=settings.linkedin_calls_per_second,
        records_per_minute={JOB_SUBMISSIONS: settings.linkedin_job_records_per_minute},
    )
    return CallBudget(limits, observer=metrics, counter=call_counter(settings))


def job_batcher(
    settings: Settings,
    linkedin: LinkedInClient,
    metrics: LinkedInMetrics | None = None,
    budget: CallBudget | None = None,
) -> LinkedInBatcher:
    """The worker's one batcher of job calls, within the per-application budget."""
    timing = BatchTiming(
        gather_seconds=settings.linkedin_batch_gather_seconds,
        budget_seconds=settings.linkedin_batch_budget_seconds,
        read_budget_seconds=settings.linkedin_batch_read_budget_seconds,
        patience=settings.linkedin_batch_patience,
        busy_seconds=settings.linkedin_batch_busy_seconds,
    )
    return LinkedInBatcher(linkedin, budget or call_budget(settings, metrics), timing, metrics)


@asynccontextmanager
async def running_worker(
    temporal: Client,
    settings: Settings,
    *,
    linkedin: LinkedInClient | None = None,
    store: CredentialStore | None = None,
    documents: DocumentStore | None = None,
) -> AsyncIterator[Worker]:
    """A started worker with one shared LinkedIn client and job batcher; stopped on exit."""
    runtime = temporal.service_client.config.runtime or Runtime.default()
    metrics = LinkedInMetrics(runtime.metric_meter)
    owned_store = store is None
    store = store or credential_store(settings)
    await store.open()
    linkedin = linkedin or linkedin_client(settings, metrics, store)
    integrations = IntegrationActivities(
        linkedin, store, settings.application_profile, events_base_url=settings.intake_base_url
    )
    timing = JobTiming(
        task_poll_seconds=settings.job_task_poll_seconds,
        settle_seconds=settings.job_settle_seconds,
        credentials_wait_seconds=settings.job_credentials_wait_seconds,
    )
    budget = call_budget(settings, metrics)
    batcher = job_batcher(settings, linkedin, metrics, budget)
    jobs = JobActivities(batcher, store, temporal, timing)
    reports = P4PReportActivities(linkedin, store, budget)
    offboarding = OffboardingActivities(temporal, linkedin, store)
    webhook_http = httpx.AsyncClient(timeout=10.0, follow_redirects=False)
    webhooks = WebhookActivities(temporal, webhook_http, settings.webhook_key())
    linkedin_events = LinkedInEventActivities(store, temporal, linkedin)
    owned_documents = documents is None
    documents = documents or document_store(settings)
    applications = ApplicationActivities(linkedin, store, documents)
    worker = Worker(
        temporal,
        task_queue=settings.task_queue,
        workflows=WORKFLOWS,
        workflow_runner=WORKFLOW_RUNNER,
        activities=[
            integrations.provision_customer,
            integrations.retire_application,
            integrations.enable_integration,
            integrations.verify_integrations,
            integrations.setup_hiring_contract,
            integrations.sync_application,
            jobs.run_job_operation,
            jobs.notify_jobs_of_enabled_contract,
            jobs.wake_due_jobs,
            jobs.read_job_status,
            jobs.check_job_statuses,
            reports.read_job_performance,
            reports.read_budget_report,
            offboarding.close_open_jobs,
            offboarding.retire_customer_app,
            offboarding.end_integrations,
            offboarding.erase_customer,
            linkedin_events.route_linkedin_event,
            webhooks.webhook_targets,
            webhooks.post_webhook,
            applications.fetch_application_documents,
            applications.erase_application_documents,
            applications.send_lifecycle_action,
        ],
    )
    async with worker:
        log.info(
            "worker.started",
            task_queue=settings.task_queue,
            linkedin_api_url=settings.linkedin_api_url,
        )
        yield worker
    await batcher.aclose()
    await linkedin.aclose()
    await webhook_http.aclose()
    if owned_documents and isinstance(documents, PostgresDocumentStore):
        await documents.aclose()
    if owned_store:
        await store.close()


async def run_worker(settings: Settings) -> None:
    """The worker process: metrics at http://<metrics address>/metrics, then work forever."""
    from client.connection import connect

    store = credential_store(settings)  # configuration faults first, before any connection
    await store.open()
    runtime = prometheus_runtime(settings.metrics_address)
    temporal = await connect(settings.load_payload_keys(), runtime=runtime)
    log.info("worker.metrics", url=f"http://{settings.metrics_address}/metrics")
    log.info("worker.credential_store", location=store.location)
    async with running_worker(temporal, settings, store=store):
        await asyncio.Event().wait()
