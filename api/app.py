"""The ATS-facing HTTP API over `client/`: onboarding, the widget callback, and jobs."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Body, Depends, FastAPI, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import Field
from temporalio.client import Client

from api import errors
from api.applications import application_routes
from api.jobs import job_routes
from api.limits import EdgeGuard, bearer
from api.linkedin import AppSecrets, PartnerSecretOnly, event_routes
from api.linkedin import router as linkedin_router
from api.paths import EncodedSlashes, segment
from api.request_log import RequestLog
from api.webhooks import webhook_routes
from client.applications import ApplicationsClient
from client.codec import PayloadKeyError, PayloadKeys
from client.documents import DirectoryDocumentStore, PostgresDocumentStore
from client.integrations import IntegrationPage, IntegrationsClient
from client.jobs import JobsClient
from client.linkedin_events import LinkedInEventsClient
from client.webhooks import WebhooksClient
from domain.documents import Document
from domain.integration_workflow import (
    MAX_CONTEXTS,
    MAX_CUSTOMER_NAME,
    ApplicationSync,
    ContextStatus,
    HiringContractState,
    HiringContractStatus,
    IntegrationState,
)
from domain.integrations import IntegrationBundle, IntegrationType, WidgetCallback
from settings import Settings

_bearer = HTTPBearer(auto_error=False)


class OnboardingStart(Document):
    customer_name: str = Field(
        min_length=1, max_length=MAX_CUSTOMER_NAME, description="Shown to the customer by LinkedIn."
    )
    integration_types: list[IntegrationType | IntegrationBundle] = Field(
        default=[IntegrationType.PREMIUM_JOB_POSTING],
        min_length=1,
        description="atsIntegrations types, or plugin bundles (RECRUITER_SYSTEM_CONNECT_COMPANY "
        "starts ONE_CLICK_EXPORT, IN_ATS_INDICATOR and PROFILE_PLUGIN).",
    )


class HiringContractBody(Document):
    partner_contract_id: int = Field(gt=0, description="LinkedIn's partnerContractId for P4P.")
    customer_name: str | None = Field(
        default=None,
        max_length=MAX_CUSTOMER_NAME,
        description="Needed only when the customer is not onboarded yet.",
    )


class Accepted(Document):
    workflow_ids: list[str]


class EnableBody(Document):
    integration_context: str | None = Field(
        default=None, description="One context to enable; every waiting one when left out."
    )


def _onboarding(request: Request) -> IntegrationsClient:
    client: IntegrationsClient = request.app.state.onboarding
    return client


Onboarding = Annotated[IntegrationsClient, Depends(_onboarding)]


def _customer_id(customer_id: str) -> str:
    """The customer id of the path, `%2F` decoded too (see api.paths)."""
    return segment(customer_id)


CustomerPath = Annotated[str, Depends(_customer_id)]


def create_app(
    settings: Settings,
    connect_temporal: Callable[[], Awaitable[Client]] | None = None,
    app_secrets: AppSecrets | None = None,
    document_keys: PayloadKeys | None = None,
) -> FastAPI:
    """The API; at start-up it connects to Temporal (TEMPORAL_* unless told otherwise).

    `app_secrets` verifies what LinkedIn signs with a customer's app; without it only the
    parent app's signature is accepted."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from client.connection import connect

        client = await (connect_temporal or (lambda: connect(settings.load_payload_keys())))()
        app.state.onboarding = IntegrationsClient.from_settings(client, settings)
        app.state.jobs = JobsClient.from_settings(client, settings)
        app.state.webhooks = WebhooksClient.from_settings(client, settings)
        app.state.linkedin_events = LinkedInEventsClient(client, settings.task_queue)
        app.state.applications = ApplicationsClient(
            client,
            task_queue=settings.task_queue,
            webhooks=settings.webhooks,
            retention_days=settings.application_retention_days,
        )
        app.state.documents, app.state.documents_problem = None, None
        try:
            keys = document_keys or settings.load_payload_keys()
        except PayloadKeyError as error:
            app.state.documents_problem = str(error)
        else:
            app.state.documents = (
                PostgresDocumentStore(settings.document_store_url, keys)
                if settings.document_store_url is not None
                else DirectoryDocumentStore(settings.documents_path, keys)
            )
        app.state.app_secrets = app_secrets or PartnerSecretOnly(
            settings.partner_client_secret.get_secret_value()
        )
        yield
        if isinstance(app.state.documents, PostgresDocumentStore):
            await app.state.documents.aclose()

    app = FastAPI(
        title="linkedin-ats",
        description="Onboard an ATS's customers to LinkedIn and manage their jobs.",
        version="0.1.0",
        lifespan=lifespan,
    )
    token = settings.api_token.get_secret_value()
    app.add_middleware(EdgeGuard, authorised=bearer(token), max_bytes=settings.max_request_bytes)
    app.add_middleware(RequestLog)

    def authorised(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> None:
        expected = settings.api_token.get_secret_value()
        if credentials is None or not secrets.compare_digest(
            credentials.credentials.encode(), expected.encode()
        ):
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "a valid bearer token is required",
                headers={"WWW-Authenticate": "Bearer"},
            )

    auth = [Depends(authorised)]

    errors.install(app)
    app.add_middleware(EncodedSlashes)

    @app.get("/healthz", include_in_schema=False)
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/customers/{customer_id}/onboarding", status_code=202, dependencies=auth)
    async def start_onboarding(
        customer_id: CustomerPath, body: OnboardingStart, client: Onboarding
    ) -> Accepted:
        """Start onboarding a customer: one durable workflow per integration type."""
        ids = await client.start_onboarding(customer_id, body.customer_name, body.integration_types)
        return Accepted(workflow_ids=ids)

    @app.post("/v1/customers/{customer_id}/widget-callback", status_code=202, dependencies=auth)
    async def widget_callback(
        customer_id: CustomerPath,
        values: Annotated[list[WidgetCallback], Body(max_length=MAX_CONTEXTS)],
        client: Onboarding,
    ) -> Accepted:
        """The array LinkedIn's widget hands `confirmJobPoster` / `handleIntegrations`."""
        raw = [v.model_dump(by_alias=True, mode="json") for v in values]
        return Accepted(workflow_ids=await client.widget_saved(customer_id, raw))

    @app.get("/v1/customers/{customer_id}/integrations", dependencies=auth)
    async def integrations(customer_id: CustomerPath, client: Onboarding) -> list[IntegrationState]:
        """Every integration of the customer, with each context's state and history."""
        summaries = await client.list_integrations(customer_id=customer_id)
        return [await client.integration_state(customer_id, s.integration_type) for s in summaries]

    @app.post(
        "/v1/customers/{customer_id}/integrations/{integration_type}/enable", dependencies=auth
    )
    async def enable(
        customer_id: CustomerPath,
        integration_type: IntegrationType,
        client: Onboarding,
        body: EnableBody | None = None,
    ) -> IntegrationState:
        """Enable and verify at LinkedIn now; answers the resulting state."""
        context = body.integration_context if body else None
        return await client.enable(customer_id, integration_type, context)

    @app.post(
        "/v1/customers/{customer_id}/integrations/{integration_type}/retry",
        status_code=202,
        dependencies=auth,
    )
    async def retry(
        customer_id: CustomerPath, integration_type: IntegrationType, client: Onboarding
    ) -> None:
        """After an operator fixed what NEEDS_ATTENTION named."""
        await client.retry(customer_id, integration_type)

    @app.post(
        "/v1/customers/{customer_id}/hiring-contracts",
        dependencies=auth,
        responses={202: {"description": "No answer from LinkedIn yet; retried in the background."}},
    )
    async def setup_hiring_contract(
        customer_id: CustomerPath, body: HiringContractBody, client: Onboarding
    ) -> JSONResponse:
        """Activate the customer's app for a P4P contract (provisionedHiringContracts, once).

        200 with the contract URN P4P jobs post on; 422 with LinkedIn's refusal.
        """
        record: HiringContractState = await client.setup_hiring_contract(
            customer_id, body.partner_contract_id, body.customer_name
        )
        code = 200 if record.status == HiringContractStatus.SET_UP else 202
        return JSONResponse(record.model_dump(mode="json", by_alias=True), status_code=code)

    @app.post("/v1/customers/{customer_id}/application/sync", dependencies=auth)
    async def sync_application(customer_id: CustomerPath, client: Onboarding) -> ApplicationSync:
        """Update the customer's LinkedIn app to carry our widget domains and callback URLs."""
        synced = await client.sync_applications(customer_id)
        if customer_id not in synced:
            raise HTTPException(404, f"customer {customer_id} has no running integration")
        return synced[customer_id]

    @app.post("/v1/applications/sync", dependencies=auth)
    async def sync_applications(client: Onboarding) -> dict[str, ApplicationSync]:
        """Every onboarded customer's app brought in line with the settings (idempotent)."""
        return await client.sync_applications()

    app.include_router(job_routes(auth))
    app.include_router(application_routes(auth))
    app.include_router(webhook_routes(auth))
    app.include_router(linkedin_router)  # LinkedIn signs instead of sending our token
    app.include_router(event_routes(auth))

    @app.get("/v1/integrations", dependencies=auth)
    async def list_integrations(
        client: Onboarding,
        status: ContextStatus | None = None,
        page_size: Annotated[int, Query(alias="pageSize", ge=1, le=1000)] = 100,
        cursor: Annotated[str | None, Query(max_length=4000)] = None,
    ) -> IntegrationPage:
        """Integrations across customers, filtered by headline status, a page at a time
        (one visibility query each)."""
        return await client.integrations_page(status=status, page_size=page_size, cursor=cursor)

    return app
