"""The ATS-facing HTTP API over `client/`: onboarding, the widget callback, and jobs."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Body, Depends, FastAPI, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field, ValidationError
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from api.limits import EdgeGuard, bearer
from api.request_log import RequestLog
from client.jobs import JobsClient, JobSummary
from client.onboarding import IntegrationSummary, OnboardingClient
from domain.integrations import IntegrationType, WidgetCallback
from domain.jobs import Budget
from domain.onboarding import ContextStatus, IntegrationState
from domain.postings import JobState, JobStatus, Operation
from workers.settings import Settings

_bearer = HTTPBearer(auto_error=False)


class OnboardingStart(BaseModel):
    customer_name: str = Field(min_length=1, description="Shown to the customer by LinkedIn.")
    integration_types: list[IntegrationType] = Field(
        default=[IntegrationType.PREMIUM_JOB_POSTING], min_length=1
    )


class Accepted(BaseModel):
    workflow_ids: list[str]


class UpgradeBody(BaseModel):
    contract: str = Field(description="urn:li:contract:<id> of the premium contract.")
    budget: Budget | None = Field(default=None, description="P4P total budget, for P4P.")
    expire_at: int | None = Field(default=None, description="Epoch ms, up to 90 days out.")


class DowngradeBody(BaseModel):
    contract: str | None = Field(default=None, description="Defaults to the job's contract.")


class RenewBody(BaseModel):
    budget: Budget | None = Field(default=None, description="New P4P total budget.")


Wait = Annotated[
    bool, Query(description="Answer with the operation's outcome instead of on acceptance.")
]


def _operation(operation: Operation, waited: bool) -> JSONResponse:
    code = 200 if waited else 202
    return JSONResponse(operation.model_dump(mode="json"), status_code=code)


class EnableBody(BaseModel):
    integration_context: str | None = Field(
        default=None, description="One context to enable; every waiting one when left out."
    )


def onboarding_client(temporal: Client, settings: Settings) -> OnboardingClient:
    """The OnboardingClient our settings describe (API, CLI and demo share it)."""
    return OnboardingClient(
        temporal,
        task_queue=settings.task_queue,
        ats_name=settings.ats_name,
        verify_interval=timedelta(seconds=settings.verify_interval_seconds),
    )


def _jobs(request: Request) -> JobsClient:
    client: JobsClient = request.app.state.jobs
    return client


Jobs = Annotated[JobsClient, Depends(_jobs)]


def _onboarding(request: Request) -> OnboardingClient:
    client: OnboardingClient = request.app.state.onboarding
    return client


Onboarding = Annotated[OnboardingClient, Depends(_onboarding)]


def create_app(
    settings: Settings, connect_temporal: Callable[[], Awaitable[Client]] | None = None
) -> FastAPI:
    """The API; at start-up it connects to Temporal (TEMPORAL_* unless told otherwise)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from client.connection import connect

        client = await (connect_temporal or (lambda: connect(settings.load_payload_keys())))()
        app.state.onboarding = onboarding_client(client, settings)
        app.state.jobs = JobsClient(client, task_queue=settings.task_queue)
        yield

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

    @app.exception_handler(RPCError)
    async def temporal_error(_: Request, error: RPCError) -> JSONResponse:
        code = 404 if error.status == RPCStatusCode.NOT_FOUND else 503
        return JSONResponse({"detail": error.message}, status_code=code)

    @app.exception_handler(ValidationError)
    async def invalid(_: Request, error: ValidationError) -> JSONResponse:
        detail = [
            {"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in error.errors()
        ]
        return JSONResponse({"detail": detail}, status_code=422)

    @app.exception_handler(WorkflowUpdateFailedError)
    async def update_failed(_: Request, error: WorkflowUpdateFailedError) -> JSONResponse:
        cause = error.cause
        message = getattr(cause, "message", None) or str(cause or error)
        return JSONResponse({"detail": message}, status_code=422)

    @app.get("/healthz", include_in_schema=False)
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/customers/{customer_id}/onboarding", status_code=202, dependencies=auth)
    async def start_onboarding(
        customer_id: str, body: OnboardingStart, client: Onboarding
    ) -> Accepted:
        """Start onboarding a customer: one durable workflow per integration type."""
        ids = await client.start_onboarding(customer_id, body.customer_name, body.integration_types)
        return Accepted(workflow_ids=ids)

    @app.post("/v1/customers/{customer_id}/widget-callback", status_code=202, dependencies=auth)
    async def widget_callback(
        customer_id: str, values: list[WidgetCallback], client: Onboarding
    ) -> Accepted:
        """The array LinkedIn's widget hands `confirmJobPoster` / `handleIntegrations`."""
        raw = [v.model_dump(by_alias=True, mode="json") for v in values]
        return Accepted(workflow_ids=await client.widget_saved(customer_id, raw))

    @app.get("/v1/customers/{customer_id}/integrations", dependencies=auth)
    async def integrations(customer_id: str, client: Onboarding) -> list[IntegrationState]:
        """Every integration of the customer, with each context's state and history."""
        summaries = await client.list_integrations(customer_id=customer_id)
        return [await client.integration_state(customer_id, s.integration_type) for s in summaries]

    @app.post(
        "/v1/customers/{customer_id}/integrations/{integration_type}/enable", dependencies=auth
    )
    async def enable(
        customer_id: str,
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
        customer_id: str, integration_type: IntegrationType, client: Onboarding
    ) -> None:
        """After an operator fixed what NEEDS_ATTENTION named."""
        await client.retry(customer_id, integration_type)

    job_path = "/v1/customers/{customer_id}/jobs/{external_job_posting_id}"

    @app.put(
        job_path,
        dependencies=auth,
        status_code=202,
        responses={200: {"description": "With wait=true: the operation's outcome."}},
    )
    async def put_job(
        customer_id: str,
        external_job_posting_id: str,
        job: Annotated[dict[str, Any], Body(description="The job, in LinkedIn's field names.")],
        client: Jobs,
        wait: Wait = False,
    ) -> JSONResponse:
        """Create the job at LinkedIn, or update it when it exists (202 with the operation)."""
        body = {"jobPostingOperationType": "CREATE", **job}
        body.setdefault("externalJobPostingId", external_job_posting_id)
        if body["externalJobPostingId"] != external_job_posting_id:
            raise HTTPException(422, "externalJobPostingId: must match the path")
        return _operation(await client.put(customer_id, body, wait=wait), wait)

    @app.post(f"{job_path}/upgrade", dependencies=auth, status_code=202)
    async def upgrade_job(
        customer_id: str,
        external_job_posting_id: str,
        body: UpgradeBody,
        client: Jobs,
        wait: Wait = False,
    ) -> JSONResponse:
        """BASIC → PREMIUM (P4P with a budget); LinkedIn keeps the jobId and URL."""
        operation = await client.upgrade(
            customer_id,
            external_job_posting_id,
            body.contract,
            budget=body.budget,
            expire_at=body.expire_at,
            wait=wait,
        )
        return _operation(operation, wait)

    @app.post(f"{job_path}/downgrade", dependencies=auth, status_code=202)
    async def downgrade_job(
        customer_id: str,
        external_job_posting_id: str,
        client: Jobs,
        body: DowngradeBody | None = None,
        wait: Wait = False,
    ) -> JSONResponse:
        """PREMIUM → BASIC; the new jobId and URL are read back and shown in the state."""
        contract = body.contract if body else None
        return _operation(
            await client.downgrade(customer_id, external_job_posting_id, contract, wait=wait), wait
        )

    @app.post(f"{job_path}/renew", dependencies=auth, status_code=202)
    async def renew_job(
        customer_id: str,
        external_job_posting_id: str,
        client: Jobs,
        body: RenewBody | None = None,
        wait: Wait = False,
    ) -> JSONResponse:
        """RENEW: a P4P job takes the new budget and runs 30 days from now."""
        budget = body.budget if body else None
        return _operation(
            await client.renew(customer_id, external_job_posting_id, budget, wait=wait), wait
        )

    @app.post(f"{job_path}/close", dependencies=auth, status_code=202)
    async def close_job(
        customer_id: str, external_job_posting_id: str, client: Jobs, wait: Wait = False
    ) -> JSONResponse:
        """CLOSE; the job's workflow completes once LinkedIn closed it."""
        return _operation(await client.close(customer_id, external_job_posting_id, wait=wait), wait)

    @app.get(job_path, dependencies=auth)
    async def job_state(customer_id: str, external_job_posting_id: str, client: Jobs) -> JobState:
        """jobId, jobPostingUrl, listing/promotion/apply status, expiry and every operation."""
        return await client.state(customer_id, external_job_posting_id)

    @app.get(f"{job_path}/operations/{{operation_id}}", dependencies=auth)
    async def await_operation(
        customer_id: str, external_job_posting_id: str, operation_id: str, client: Jobs
    ) -> Operation:
        """Wait for an operation's outcome (SUCCEEDED, FAILED or NEEDS_ATTENTION)."""
        return await client.await_operation(customer_id, external_job_posting_id, operation_id)

    @app.get("/v1/customers/{customer_id}/jobs", dependencies=auth)
    async def list_jobs(
        customer_id: str, client: Jobs, status: JobStatus | None = None
    ) -> list[JobSummary]:
        """The customer's jobs, filtered by status (PENDING, LISTED, … CLOSED)."""
        return await client.list_jobs(customer_id=customer_id, status=status)

    @app.get("/v1/integrations", dependencies=auth)
    async def list_integrations(
        client: Onboarding, status: ContextStatus | None = None
    ) -> list[IntegrationSummary]:
        """Integrations across customers, filtered by headline status."""
        return await client.list_integrations(status=status)

    return app
