"""What routes depend on, typed: the bearer token, the settings, the clients, path ids.

The token is compared in one place, the edge (api.limits.EdgeGuard), before a body is
read. A router behind it is included with `BEARER_TOKEN`, which names the scheme in the
OpenAPI document and refuses any request the edge did not check, so a router mounted
without the edge fails closed. `no_token_needed` tells the edge which requests need no
token: the API's own description, and the routes of api.routes.OPEN.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Protocol

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.routing import Match
from starlette.types import Scope
from temporalio.client import Client

from api import limits, paths
from client.applications import ApplicationsClient
from client.codec import PayloadKeyError
from client.customers import CustomersClient
from client.documents import DirectoryDocumentStore, PostgresDocumentStore
from client.intake import LinkedInIntake
from client.integrations import IntegrationsClient
from client.jobs import JobsClient
from client.linkedin_events import LinkedInEventsClient
from client.p4p_reports import ReportsClient
from client.webhooks import WebhooksClient
from domain.applications import DocumentKind, StoredDocument
from settings import Settings

_scheme = HTTPBearer(
    auto_error=False, description="`Authorization: Bearer $LINKEDIN_ATS_API_TOKEN`"
)


async def bearer_token(
    request: Request,
    _: Annotated[HTTPAuthorizationCredentials | None, Security(_scheme)],
) -> None:
    """A route behind the token: the edge compared it; here only that it did is checked."""
    if not limits.token_checked(request.scope):
        raise HTTPException(
            401, "a valid bearer token is required", headers={"WWW-Authenticate": "Bearer"}
        )


BEARER_TOKEN = Depends(bearer_token)
"""For `include_router(..., dependencies=[BEARER_TOKEN])`."""


def no_token_needed(app: FastAPI, open_routers: Iterable[APIRouter]) -> limits.Public:
    """For the edge: GET of the API's description, and any request that a route of the
    open routers (included without a prefix) answers. Anything else needs the token, a
    path no route answers too (401 before 404)."""
    described = (app.openapi_url, app.docs_url, app.swagger_ui_oauth2_redirect_url, app.redoc_url)
    description = limits.anyone_may_get(frozenset(p for p in described if p))
    open_routes = [route for router in open_routers for route in router.routes]

    def check(scope: Scope) -> bool:
        # HEAD of an open GET route goes on to FastAPI (which answers 405), as GET would.
        probe = {**scope, "method": "GET"} if scope["method"] == "HEAD" else scope
        return description(scope) or any(
            route.matches(probe)[0] is Match.FULL for route in open_routes
        )

    return check


# -- settings and clients ------------------------------------------------------------------
# Every dependency is `async def`: FastAPI runs a plain `def` one in a thread, a hop per
# dependency per request that showed in the API's profile (docs/performance.md).


@dataclass(frozen=True)
class Clients:
    """The clients over Temporal the routes use, one of each per app."""

    integrations: IntegrationsClient
    jobs: JobsClient
    webhooks: WebhooksClient
    linkedin_events: LinkedInEventsClient
    applications: ApplicationsClient
    customers: CustomersClient
    reports: ReportsClient

    @classmethod
    def from_settings(cls, temporal: Client, settings: Settings) -> Clients:
        integrations = IntegrationsClient.from_settings(temporal, settings)
        intake = LinkedInIntake(temporal, settings.task_queue)  # one group commit for both
        return cls(
            integrations=integrations,
            jobs=JobsClient.from_settings(temporal, settings),
            webhooks=WebhooksClient.from_settings(temporal, settings),
            linkedin_events=LinkedInEventsClient(
                temporal,
                settings.task_queue,
                settings.linkedin_event_dedupe_seconds,
                intake=intake,
            ),
            applications=ApplicationsClient(
                temporal,
                task_queue=settings.task_queue,
                webhooks=settings.webhooks,
                retention_days=settings.application_retention_days,
                intake=intake,
            ),
            customers=CustomersClient(
                temporal,
                integrations,
                task_queue=settings.task_queue,
                ats_name=settings.ats_name,
                webhooks=settings.webhooks,
            ),
            reports=ReportsClient(temporal, integrations, task_queue=settings.task_queue),
        )


class DocumentReader(Protocol):
    """Where applicants' documents are kept, encrypted (client.documents)."""

    async def get(
        self, customer_id: str, key: str, kind: DocumentKind
    ) -> tuple[bytes, StoredDocument] | None: ...


class AppSecrets(Protocol):
    """The client secrets LinkedIn signs with: ours (the parent app) and each customer's
    (workers.worker.StoredAppSecrets reads them from the credential store)."""

    @property
    def partner_secret(self) -> str: ...

    async def of_application(self, application: str) -> tuple[str, str] | None:
        """(customer id, client secret) of a customer's app, by URN, id or client id."""
        ...

    async def of_customer(self, customer_id: str) -> str | None: ...


class PartnerSecretOnly:
    """No credential store given: only what the parent app signs is accepted."""

    def __init__(self, partner_secret: str) -> None:
        self._partner_secret = partner_secret

    @property
    def partner_secret(self) -> str:
        return self._partner_secret

    async def of_application(self, application: str) -> tuple[str, str] | None:
        return None

    async def of_customer(self, customer_id: str) -> str | None:
        return None


Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def lifespan(
    settings: Settings,
    connect_temporal: Callable[[], Awaitable[Client]] | None,
    app_secrets: AppSecrets | None = None,
) -> Lifespan:
    """At start-up: the settings and, once Temporal answers, the clients, on `app.state`."""

    @asynccontextmanager
    async def connected(app: FastAPI) -> AsyncIterator[None]:
        from client.connection import connect

        temporal = await (connect_temporal or (lambda: connect(settings.load_payload_keys())))()
        app.state.clients = Clients.from_settings(temporal, settings)
        app.state.app_secrets = app_secrets or PartnerSecretOnly(
            settings.partner_client_secret.get_secret_value()
        )
        app.state.documents, app.state.documents_problem = None, None
        try:
            keys = settings.load_payload_keys()
        except PayloadKeyError as error:
            app.state.documents_problem = str(error)
        else:
            app.state.documents = (
                PostgresDocumentStore(settings.document_store_url, keys)
                if settings.document_store_url is not None
                else DirectoryDocumentStore(settings.documents_path, keys)
            )
        yield
        if isinstance(app.state.documents, PostgresDocumentStore):
            await app.state.documents.aclose()

    return connected


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _clients(request: Request) -> Clients:
    clients: Clients = request.app.state.clients
    return clients


async def _integrations(clients: Annotated[Clients, Depends(_clients)]) -> IntegrationsClient:
    return clients.integrations


async def _jobs(clients: Annotated[Clients, Depends(_clients)]) -> JobsClient:
    return clients.jobs


async def _webhooks(clients: Annotated[Clients, Depends(_clients)]) -> WebhooksClient:
    return clients.webhooks


async def _linkedin_events(clients: Annotated[Clients, Depends(_clients)]) -> LinkedInEventsClient:
    return clients.linkedin_events


async def _applications(clients: Annotated[Clients, Depends(_clients)]) -> ApplicationsClient:
    return clients.applications


async def _documents(request: Request) -> DocumentReader:
    store: DocumentReader | None = request.app.state.documents
    if store is None:
        problem: str = request.app.state.documents_problem
        raise HTTPException(503, f"the document store is not available: {problem}")
    return store


async def _customers(clients: Annotated[Clients, Depends(_clients)]) -> CustomersClient:
    return clients.customers


async def _reports(clients: Annotated[Clients, Depends(_clients)]) -> ReportsClient:
    return clients.reports


async def _app_secrets(request: Request) -> AppSecrets:
    secrets: AppSecrets = request.app.state.app_secrets
    return secrets


AppSettings = Annotated[Settings, Depends(_settings)]
Integrations = Annotated[IntegrationsClient, Depends(_integrations)]
Jobs = Annotated[JobsClient, Depends(_jobs)]
Webhooks = Annotated[WebhooksClient, Depends(_webhooks)]
LinkedInEvents = Annotated[LinkedInEventsClient, Depends(_linkedin_events)]
Applications = Annotated[ApplicationsClient, Depends(_applications)]
Documents = Annotated[DocumentReader, Depends(_documents)]
Customers = Annotated[CustomersClient, Depends(_customers)]
Reports = Annotated[ReportsClient, Depends(_reports)]
Secrets = Annotated[AppSecrets, Depends(_app_secrets)]


# -- ids in the path -----------------------------------------------------------------------


async def _customer_id(customer_id: str) -> str:
    """The customer id of the path, `%2F` decoded too (see api.paths)."""
    return paths.segment(customer_id)


async def _external_job_posting_id(external_job_posting_id: str) -> str:
    return paths.segment(external_job_posting_id)


CustomerId = Annotated[str, Depends(_customer_id)]
ExternalJobPostingId = Annotated[str, Depends(_external_job_posting_id)]
