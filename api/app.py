"""The ATS-facing HTTP API over `client/`, assembled: the routers of api.routes, their
dependencies (api.deps), the edge (api.limits) and problem details for every error."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider
from temporalio.client import Client

from api import deps, errors, openapi, routes
from api.deps import AppSecrets
from api.limits import EdgeGuard, bearer
from api.paths import EncodedSlashes
from api.request_log import RequestLog
from client.connection import tracer_provider as process_tracer_provider
from settings import Settings


def create_app(
    settings: Settings,
    connect_temporal: Callable[[], Awaitable[Client]] | None = None,
    app_secrets: AppSecrets | None = None,
    tracer_provider: TracerProvider | None = None,
) -> FastAPI:
    """The API; at start-up it connects to Temporal (TEMPORAL_* unless told otherwise).

    `app_secrets` verifies what LinkedIn signs with a customer's app; without it only the
    parent app's signature is accepted. Requests are traced with `tracer_provider`, or
    over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set (client.connection)."""
    app = FastAPI(
        title="linkedin-ats",
        description="Onboard an ATS's customers to LinkedIn and manage their jobs.",
        version="0.1.0",
        lifespan=deps.lifespan(settings, connect_temporal, app_secrets),
        openapi_tags=routes.TAGS,
        responses=errors.problems(500, 503),
        generate_unique_id_function=openapi.operation_id,
    )
    app.state.settings = settings
    for router in routes.BEHIND_TOKEN:
        app.include_router(router, dependencies=[deps.BEARER_TOKEN], responses=errors.problems(401))
    for router in routes.OPEN:
        app.include_router(router)
    openapi.install(app)

    app.add_middleware(
        EdgeGuard,
        authorised=bearer(settings.api_token.get_secret_value()),
        public=deps.no_token_needed(app, routes.OPEN),
        max_bytes=settings.max_request_bytes,
    )
    app.add_middleware(RequestLog)
    errors.install(app)
    app.add_middleware(EncodedSlashes)
    provider = tracer_provider or process_tracer_provider()
    if provider is not None:
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

        FastAPIInstrumentor.instrument_app(app, tracer_provider=provider)
    return app
