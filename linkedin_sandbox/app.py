"""The sandbox's HTTP surface: LinkedIn's OAuth and API paths, and /sandbox/ controls."""

from __future__ import annotations

import asyncio
import re
import secrets
import uuid
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

import httpx
from fastapi import FastAPI, Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from linkedin_sandbox import jobs
from linkedin_sandbox.faults import ENDPOINTS, Fault, FaultMiddleware, Journal
from linkedin_sandbox.settings import SandboxSettings
from linkedin_sandbox.state import App, Campaign, Contract, Integration, Store, Token, World

TENANT = {
    "PREMIUM_JOB_POSTING": "JOBS",
    "APPLY_WITH_LINKEDIN": "JOBS",
    "APPLY_CONNECT": "JOBS",
    "ONE_CLICK_EXPORT": "RECRUITER",
    "IN_ATS_INDICATOR": "RECRUITER",
    "PROFILE_PLUGIN": "RECRUITER",
    "CSA_API": "RECRUITER",
}
"""atsIntegrations' key types and their tenants: PJP (seed 000), AWLI (seed 001), Apply
Connect and the four Recruiter System Connect types (LinkedIn's RSC collection)."""
CONTRACT_CONTEXT = {"PREMIUM_JOB_POSTING", "CSA_API"}
"""Types keyed by a contract; every other type by an organization."""
BUNDLES = {
    "APPLY_WITH_LINKEDIN": ("APPLY_WITH_LINKEDIN",),
    "APPLY_CONNECT": ("APPLY_CONNECT",),
    "RECRUITER_SYSTEM_CONNECT_COMPANY": ("ONE_CLICK_EXPORT", "IN_ATS_INDICATOR", "PROFILE_PLUGIN"),
    "RECRUITER_SYSTEM_CONNECT_CONTRACT": ("CSA_API",),
}
"""The configuration plugin's bundles (seed 001) and the key types its callback hands back."""
KEY_PARTS = ("integrationContext", "integrationType", "tenantType", "dataProvider")
_CONTEXT = re.compile(r"^urn:li:(organization|company|contract):[A-Za-z0-9_.\-]+$")
_VERSION = re.compile(r"^\d{6}$")
MISSING_VERSION = (
    "A required header LinkedIn-Version is missing or invalid: versioned APIs under "
    "/rest/ need LinkedIn-Version: YYYYMM"
)
_DOMAIN = re.compile(r"^https?://[^\s/]+$")
ALREADY_ENABLED = (
    "One or more of your update keys are violating update rule : modifying "
    "onboarding status for already enabled integration is not allowed"
)


class LinkedInRefusal(Exception):
    def __init__(self, status: int, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


class Sandbox:
    """The world, its lock, persistence and settings, shared by every route."""

    def __init__(self, settings: SandboxSettings) -> None:
        self.settings = settings
        self.store = Store(settings.state_path)
        self.world = self.store.load()
        self.lock = asyncio.Lock()
        self.faults: dict[str, Fault] = {}
        self.journal = Journal()

    def save(self) -> None:
        self.store.save(self.world)

    def reset(self) -> None:
        self.world = World()
        self.faults.clear()
        self.journal.entries.clear()
        self.save()

    def authenticate(self, request: Request) -> App | None:
        """The application behind the bearer token; None for the partner's own token."""
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        token = self.world.tokens.get(value) if scheme.lower() == "bearer" else None
        if token is None:
            raise LinkedInRefusal(401, "Invalid access token", 65600)
        if token.expires_at_ms <= self.world.now_ms():
            raise LinkedInRefusal(401, "The token used in the request has expired", 65602)
        if token.client_id == self.settings.partner_client_id:
            return None
        return self.world.apps[token.client_id]

    def customer(self, request: Request, what: str) -> App:
        app = self.authenticate(request)
        if app is None:
            raise LinkedInRefusal(403, f"Not enough permissions to access: {what}", 100)
        return app

    def partner(self, request: Request, what: str) -> None:
        if self.authenticate(request) is not None:
            raise LinkedInRefusal(403, f"Not enough permissions to access: {what}", 100)


def _error(status: int, message: str, code: int | None = None) -> JSONResponse:
    body: dict[str, Any] = {"message": message, "status": status}
    if code is not None:
        body["serviceErrorCode"] = code
    return JSONResponse(body, status_code=status, headers={"x-li-uuid": uuid.uuid4().hex})


def not_found(resource: str) -> LinkedInRefusal:
    """LinkedIn's answer for a path or resource it does not have."""
    return LinkedInRefusal(404, f"Resource {resource} does not exist", 0)


async def json_body(request: Request) -> Any:
    """The request's JSON, or LinkedIn's 400 for a body that is not JSON."""
    try:
        return await request.json()
    except ValueError:
        raise LinkedInRefusal(400, "Invalid JSON in the request body", 0) from None


class LinkedInPaths:
    """What LinkedIn does to a path before its resources see it (pure ASGI).

    A trailing slash names the same resource (LinkedIn's SDK and Postman collection send
    `/v2/provisionedApplications/`), and versioned paths under /rest/ need a
    LinkedIn-Version header.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if len(path) > 1 and path.endswith("/") and not path.startswith("/sandbox/"):
                scope = {**scope, "path": path.rstrip("/") or "/", "raw_path": None}
            if scope["path"].startswith("/rest/"):
                headers = dict(scope.get("headers") or [])
                version = headers.get(b"linkedin-version", b"").decode("latin-1")
                if not _VERSION.match(version):
                    await _error(400, MISSING_VERSION, 0)(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def create_app(settings: SandboxSettings | None = None) -> FastAPI:
    sandbox = Sandbox(settings or SandboxSettings())

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> Any:
        yield
        sandbox.save()

    api = FastAPI(
        title="LinkedIn sandbox",
        description="A stateful stand-in for LinkedIn's partner APIs (linkedin-ats).",
        lifespan=lifespan,
    )
    api.state.sandbox = sandbox

    @api.exception_handler(LinkedInRefusal)
    async def refused(_: Request, exc: LinkedInRefusal) -> JSONResponse:
        return _error(exc.status, exc.message, exc.code)

    @api.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        """LinkedIn's error shape for unknown paths and methods, never FastAPI's."""
        if request.url.path.startswith("/sandbox/"):
            return await http_exception_handler(request, exc)
        if exc.status_code == 404:
            return _error(404, f"Resource {request.url.path} does not exist", 0)
        return _error(exc.status_code, str(exc.detail), 0)

    @api.middleware("http")
    async def serialise(request: Request, call_next: Any) -> Response:
        """One request at a time sees and changes the world, which is then saved."""
        if request.url.path == "/sandbox/widget/save":
            # Its changes happen before its only await (the ATS callback), and that
            # callback may reach code that calls the sandbox again: no lock here.
            response = await call_next(request)
            sandbox.save()
            return response
        async with sandbox.lock:
            if not request.url.path.startswith("/sandbox/"):
                jobs.process_due(sandbox.world, sandbox.settings)
            response: Response = await call_next(request)
            sandbox.save()
            response.headers.setdefault("x-li-uuid", uuid.uuid4().hex)
            return response

    _oauth_routes(api, sandbox)
    _provisioning_routes(api, sandbox)
    _integration_routes(api, sandbox)
    jobs.routes(api, sandbox)
    _control_routes(api, sandbox)
    # The middleware stack is built lazily: wrap it once, outermost, for faults + journal.
    api.add_middleware(LinkedInPaths)
    api.add_middleware(FaultMiddleware, faults=sandbox.faults, journal=sandbox.journal)
    return api


# -- OAuth ----------------------------------------------------------------------------------


def _oauth_routes(api: FastAPI, sandbox: Sandbox) -> None:
    @api.post("/oauth/v2/accessToken")
    async def access_token(request: Request) -> JSONResponse:
        form = dict(parse_qsl((await request.body()).decode()))
        if form.get("grant_type") != "client_credentials":
            return JSONResponse(
                {
                    "error": "unsupported_grant_type",
                    "error_description": 'A required parameter "grant_type" is missing or '
                    "is not client_credentials",
                },
                status_code=400,
            )
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        settings = sandbox.settings
        if client_id == settings.partner_client_id:
            valid = secrets.compare_digest(secret, settings.partner_client_secret)
        else:
            app = sandbox.world.apps.get(client_id)
            valid = app is not None and secrets.compare_digest(secret, app.client_secret)
        if not valid:
            return JSONResponse(
                {"error": "invalid_client", "error_description": "Client authentication failed"},
                status_code=401,
            )
        token = "AQ" + secrets.token_urlsafe(48)
        ttl = settings.token_ttl_seconds
        sandbox.world.tokens[token] = Token(
            client_id=client_id, expires_at_ms=sandbox.world.now_ms() + ttl * 1000
        )
        expires_in: int | str = str(ttl) if settings.token_expires_in_as_string else ttl
        return JSONResponse({"access_token": token, "expires_in": expires_in})


# -- Provisioning ---------------------------------------------------------------------------


def _application_view(app: App) -> dict[str, Any]:
    return {
        "key": app.key,
        "uniqueForeignId": app.unique_foreign_id,
        "name": app.name,
        "description": app.description,
        "validJsSdkDomains": app.valid_js_sdk_domains,
        "oauth2AuthorizedCallbackUrls": app.oauth2_authorized_callback_urls,
        "credentials": {"client_id": app.client_id},
    }


def _check_application_fields(body: dict[str, Any]) -> None:
    name = body.get("name")
    if name is not None:
        if len(str(name)) > 50:
            raise LinkedInRefusal(
                400, f"ERROR :: /name :: length {len(str(name))} exceeds the maximum of 50\n", 100
            )
        if "linkedin" in str(name).lower():
            raise LinkedInRefusal(400, "Application name must not contain 'LinkedIn'", 100)
    for domain in body.get("validJsSdkDomains") or []:
        if not _DOMAIN.match(str(domain)):
            raise LinkedInRefusal(
                400,
                f"Invalid validJsSdkDomains value {domain}: it must be a "
                "complete http or https URL without a trailing slash",
                100,
            )


def _provisioning_routes(api: FastAPI, sandbox: Sandbox) -> None:
    @api.post("/v2/provisionedApplications")
    async def create_application(request: Request) -> JSONResponse:
        sandbox.partner(request, "POST /provisionedApplications")
        body = await json_body(request)
        for field in ("uniqueForeignId", "name"):
            if not body.get(field):
                raise LinkedInRefusal(
                    422,
                    f"ERROR :: /{field} :: field is required but not "
                    "found and has no default value\n",
                )
        _check_application_fields(body)
        world = sandbox.world
        if world.app_by_foreign_id(body["uniqueForeignId"]) is not None:
            raise LinkedInRefusal(
                409,
                f"An application with uniqueForeignId {body['uniqueForeignId']} already exists",
                409,
            )
        world.next_app += 1
        app = App(
            key=f"urn:li:developerApplication:{world.next_app}",
            client_id=secrets.token_hex(7),
            client_secret=secrets.token_urlsafe(12),
            unique_foreign_id=body["uniqueForeignId"],
            name=body["name"],
            description=body.get("description", ""),
            valid_js_sdk_domains=body.get("validJsSdkDomains") or [],
            oauth2_authorized_callback_urls=body.get("oauth2AuthorizedCallbackUrls") or [],
        )
        world.apps[app.client_id] = app
        return JSONResponse(
            {
                "credentials": {"client_id": app.client_id, "client_secret": app.client_secret},
                "key": app.key,
            },
            status_code=201,
        )

    @api.get("/v2/provisionedApplications")
    async def find_application(request: Request) -> JSONResponse:
        sandbox.partner(request, "GET /provisionedApplications")
        if request.query_params.get("q") != "credentialsByUniqueForeignId":
            raise LinkedInRefusal(400, "Unsupported finder; use q=credentialsByUniqueForeignId")
        app = sandbox.world.app_by_foreign_id(request.query_params.get("uniqueForeignId", ""))
        return JSONResponse({"elements": [_application_view(app)] if app else []})

    @api.post("/v2/provisionedApplications/{key:path}")
    async def update_application(key: str, request: Request) -> Response:
        sandbox.partner(request, "POST /provisionedApplications")
        key = unquote(key)
        app = next((a for a in sandbox.world.apps.values() if a.key == key), None)
        if app is None:
            raise not_found(f"provisionedApplications/{key}")
        changes = ((await json_body(request)).get("patch") or {}).get("$set") or {}
        _check_application_fields(changes)
        fields = {
            "name": "name",
            "description": "description",
            "validJsSdkDomains": "valid_js_sdk_domains",
            "oauth2AuthorizedCallbackUrls": "oauth2_authorized_callback_urls",
        }
        for wire, attr in fields.items():
            if wire in changes:
                setattr(app, attr, changes[wire])
        return Response(status_code=204)

    @api.post("/rest/provisionedHiringContracts")
    async def setup_hiring_contract(request: Request) -> JSONResponse:
        app = sandbox.customer(request, "POST /provisionedHiringContracts")
        if request.query_params.get("action") != "setup":
            raise LinkedInRefusal(400, "Unsupported action; use action=setup")
        partner_contract_id = (await json_body(request)).get("partnerContractId")
        if not isinstance(partner_contract_id, int):
            raise LinkedInRefusal(
                422,
                "ERROR :: /partnerContractId :: field is required but "
                "not found and has no default value\n",
            )
        urn = f"urn:li:contract:{partner_contract_id}"
        contract = sandbox.world.contracts.get(urn)
        if contract is not None and contract.owner_client_id not in (None, app.client_id):
            raise LinkedInRefusal(409, f"Contract {urn} is set up for another application")
        sandbox.world.contracts[urn] = Contract(urn=urn, kind="P4P", owner_client_id=app.client_id)
        return JSONResponse({"value": {"key": app.key, "contract": urn}})


# -- atsIntegrations ------------------------------------------------------------------------


def _parts(raw: dict[str, str]) -> tuple[str, str, str, str]:
    """Validate one key's parts with seed 001's messages; return them in canonical order."""
    if any(not raw.get(part) for part in KEY_PARTS) or set(raw) - set(KEY_PARTS):
        raise LinkedInRefusal(400, "Integration key parts are incomplete")
    context, kind, tenant, provider = (raw[p] for p in KEY_PARTS)
    if TENANT.get(kind) != tenant or provider != "ATS":
        raise LinkedInRefusal(400, "Integration key parts are incomplete")
    if not _context_fits(kind, context):
        raise LinkedInRefusal(400, "Invalid integration context urn")
    return context, kind, tenant, provider


def _context_fits(kind: str, context: str) -> bool:
    """A contract URN for PJP and CSA_API, an organization (or company) URN for the rest."""
    match = _CONTEXT.match(context)
    return match is not None and (match[1] == "contract") == (kind in CONTRACT_CONTEXT)


def _query_keys(request: Request) -> list[tuple[str, str, str, str]]:
    by_index: dict[str, dict[str, str]] = {}
    for name, value in request.query_params.multi_items():
        match = re.fullmatch(r"ids\[(\d+)\]\.(\w+)", name)
        if match:
            by_index.setdefault(match[1], {})[match[2]] = value
    if not by_index:
        raise LinkedInRefusal(400, "Integration key parts are incomplete")
    return [_parts(by_index[i]) for i in sorted(by_index, key=int)]


def _parse_entity_key(raw: str) -> dict[str, str]:
    parts: dict[str, str] = {}
    for piece in raw.split("&"):
        name, _, value = piece.partition("=")
        parts[name] = unquote(value)
    return parts


def _render(key: tuple[str, str, str, str], encode: bool) -> str:
    context, kind, tenant, provider = key
    if encode:  # the order and encoding seed 001's sample answer shows
        return (
            f"integrationType={kind}&tenantType={tenant}&dataProvider={provider}"
            f"&integrationContext={quote(context, safe='')}"
        )
    return (
        f"integrationContext={context}&integrationType={kind}&tenantType={tenant}"
        f"&dataProvider={provider}"
    )


def _integration_routes(api: FastAPI, sandbox: Sandbox) -> None:
    @api.post("/v2/atsIntegrations")
    async def enable(request: Request) -> JSONResponse:
        app = sandbox.customer(request, "POST /atsIntegrations")
        if request.headers.get("x-restli-method", "").lower() != "batch_partial_update":
            raise LinkedInRefusal(
                400, "Invalid request: the x-restli-method header must be batch_partial_update"
            )
        query_keys = _query_keys(request)
        entities = (await json_body(request)).get("entities") or {}
        patches: dict[tuple[str, str, str, str], dict[str, Any]] = {}
        for raw_key, entity in entities.items():
            key = _parts(_parse_entity_key(raw_key))
            if key not in query_keys:
                raise LinkedInRefusal(
                    400,
                    f"Batch request mismatch. Entity key {raw_key} not "
                    "found in the query parameter",
                )
            patches[key] = entity
        for key in query_keys:
            if key not in patches:
                raise LinkedInRefusal(
                    400,
                    f"Batch request mismatch. Entity key "
                    f"{_render(key, False)} not found in the request body",
                )
        world = sandbox.world
        records = {key: world.integration(app.client_id, *key[:3]) for key in query_keys}
        if any(r is not None and r.status == "ENABLED" for r in records.values()):
            raise LinkedInRefusal(400, ALREADY_ENABLED)
        results: dict[str, Any] = {}
        errors: dict[str, Any] = {}
        for key, entity in patches.items():
            name = ((entity.get("patch") or {}).get("$set") or {}).get("integrationName")
            if not name:
                raise LinkedInRefusal(
                    422,
                    "ERROR :: /integrationName :: field is required but "
                    "not found and has no default value\n",
                )
            rendered = _render(key, sandbox.settings.encode_response_keys)
            record = records[key]
            if record is None:
                errors[rendered] = {"status": 404, "message": "No record found to partial update"}
                continue
            record.status = "ENABLED"
            record.integration_name = name
            results[rendered] = {"status": 204}
        return JSONResponse({"errors": errors, "results": results})

    @api.get("/v2/atsIntegrations")
    async def verify(request: Request) -> JSONResponse:
        app = sandbox.customer(request, "GET /atsIntegrations")
        results = {}
        for key in _query_keys(request):
            record = sandbox.world.integration(app.client_id, *key[:3])
            if record is not None:
                results[_render(key, False)] = {
                    "integrationName": record.integration_name,
                    "onboardingStatus": record.status,
                }
        return JSONResponse({"errors": {}, "results": results, "statuses": {}})


# -- control API ----------------------------------------------------------------------------


class WidgetSave(BaseModel):
    """The customer saving the widget: LinkedIn does not have this; the sandbox needs it."""

    customer_id: str | None = Field(default=None, alias="customerId")
    client_id: str | None = Field(default=None, alias="clientId")
    integration_context: str = Field(alias="integrationContext")
    integration_type: str = Field(default="PREMIUM_JOB_POSTING", alias="integrationType")
    job_poster_email: str | None = Field(default=None, alias="jobPosterEmail")
    callback_url: str | None = Field(default=None, alias="callbackUrl")
    callback_headers: dict[str, str] = Field(default_factory=dict, alias="callbackHeaders")
    contract_kind: str = Field(default="SLOTS", alias="contractKind")
    origin: str | None = None
    """The page hosting the widget; checked against the app's validJsSdkDomains."""
    as_admin: bool = Field(default=True, alias="asAdmin")
    """Whether the customer signs in with a Recruiter admin seat."""


class ContractSetup(BaseModel):
    kind: str = "SLOTS"
    currency: str | None = "USD"
    budget_remaining: float | None = Field(default=None, alias="budgetRemaining")
    slots_remaining: int | None = Field(default=None, alias="slotsRemaining")
    owner_client_id: str | None = Field(default=None, alias="ownerClientId")


class TaskFailure(BaseModel):
    error_message: str = Field(alias="errorMessage")
    count: int = Field(default=1, ge=1)


class CampaignSetup(BaseModel):
    client_id: str = Field(alias="clientId")
    active: bool = True


class SettingsPatch(BaseModel):
    task_delay_seconds: float | None = Field(default=None, alias="taskDelaySeconds")
    token_ttl_seconds: int | None = Field(default=None, alias="tokenTtlSeconds")
    token_expires_in_as_string: bool | None = Field(default=None, alias="tokenExpiresInAsString")
    encode_response_keys: bool | None = Field(default=None, alias="encodeResponseKeys")


def _control_routes(api: FastAPI, sandbox: Sandbox) -> None:
    @api.get("/sandbox/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @api.post("/sandbox/reset", status_code=204)
    async def reset() -> Response:
        sandbox.reset()
        return Response(status_code=204)

    @api.post("/sandbox/widget/save")
    async def widget_save(save: WidgetSave) -> JSONResponse:
        world = sandbox.world
        app = (
            world.apps.get(save.client_id)
            if save.client_id
            else world.app_by_foreign_id(save.customer_id or "")
        )
        if app is None:
            return JSONResponse(
                {"message": "No customer application for that customerId or clientId"},
                status_code=404,
            )
        refusal = _widget_refusal(sandbox, app, save)
        if refusal is not None:
            return refusal
        kinds = BUNDLES.get(save.integration_type) or (
            (save.integration_type,) if save.integration_type in TENANT else ()
        )
        if not kinds:
            return JSONResponse(
                {"message": f"Unknown integrationType {save.integration_type}"}, status_code=400
            )
        if not all(_context_fits(kind, save.integration_context) for kind in kinds):
            return JSONResponse({"message": "Invalid integration context urn"}, status_code=400)
        poster = save.job_poster_email or None
        pjp = save.integration_type == "PREMIUM_JOB_POSTING"
        if (
            pjp
            and poster is None
            and world.integration(
                app.client_id, save.integration_context, "PREMIUM_JOB_POSTING", "JOBS"
            )
            is None
        ):
            return JSONResponse(
                {"message": "Please select a job poster from the drop down"}, status_code=400
            )
        values = [
            _save_integration(world, app, kind, save.integration_context, poster) for kind in kinds
        ]
        if pjp:
            world.contracts.setdefault(
                save.integration_context,
                Contract(urn=save.integration_context, kind=save.contract_kind),
            )
        headers = {}
        if save.callback_url:
            headers["x-sandbox-callback-status"] = await _fire_callback(save, values)
        return JSONResponse(values, headers=headers)

    @api.put("/sandbox/faults/{endpoint}")
    async def set_fault(endpoint: str, fault: Fault) -> JSONResponse:
        if endpoint not in (*ENDPOINTS.values(), WIDGET):
            return JSONResponse(
                {"message": f"Unknown endpoint; one of {sorted(set(ENDPOINTS.values()))}"},
                status_code=404,
            )
        sandbox.faults[endpoint] = fault
        return JSONResponse(fault.model_dump(by_alias=True))

    @api.delete("/sandbox/faults", status_code=204)
    async def clear_faults() -> Response:
        sandbox.faults.clear()
        return Response(status_code=204)

    @api.get("/sandbox/requests")
    async def requests(path: str | None = None) -> list[dict[str, Any]]:
        return [e for e in sandbox.journal.entries if path is None or e["path"].startswith(path)]

    @api.delete("/sandbox/requests", status_code=204)
    async def clear_requests() -> Response:
        sandbox.journal.entries.clear()
        return Response(status_code=204)

    @api.post("/sandbox/clock/advance")
    async def advance_clock(seconds: float) -> dict[str, int]:
        sandbox.world.clock_offset_ms += int(seconds * 1000)
        return {"nowMs": sandbox.world.now_ms()}

    @api.post("/sandbox/tasks/fail-next")
    async def fail_next_tasks(failure: TaskFailure) -> dict[str, int]:
        sandbox.world.failing_tasks.extend([failure.error_message] * failure.count)
        return {"failing": len(sandbox.world.failing_tasks)}

    @api.put("/sandbox/contracts/{contract_id}")
    async def set_contract(contract_id: str, setup: ContractSetup) -> dict[str, Any]:
        urn = f"urn:li:contract:{contract_id}"
        sandbox.world.contracts[urn] = Contract(urn=urn, **setup.model_dump())
        return sandbox.world.contracts[urn].model_dump()

    @api.put("/sandbox/campaigns/{campaign_id}")
    async def set_campaign(campaign_id: str, setup: CampaignSetup) -> dict[str, Any]:
        campaign = Campaign(id=campaign_id, client_id=setup.client_id, active=setup.active)
        sandbox.world.campaigns[campaign_id] = campaign
        return campaign.model_dump()

    @api.patch("/sandbox/settings")
    async def patch_settings(patch: SettingsPatch) -> dict[str, Any]:
        for name, value in patch.model_dump(exclude_none=True).items():
            setattr(sandbox.settings, name, value)
        return sandbox.settings.model_dump(exclude={"partner_client_secret"})

    @api.get("/sandbox/state")
    async def state() -> dict[str, Any]:
        """The world, with secrets and tokens left out."""
        world = sandbox.world
        return {
            "apps": [_application_view(a) for a in world.apps.values()],
            "integrations": [i.model_dump() for i in world.integrations],
            "contracts": [c.model_dump() for c in world.contracts.values()],
            "jobs": [j.model_dump(exclude={"payload"}) for j in world.jobs.values()],
            "tasks": [t.model_dump(exclude={"payload"}) for t in world.tasks.values()],
            "nowMs": world.now_ms(),
        }


WIDGET = "widget"
"""The fault name for widget saves: the customer's save fails, no callback fires."""
WIDGET_SAVE_FAILED = (
    "Saving the default poster failed due to a network error. Please try "
    "again or contact LinkedIn Support"
)
WIDGET_NOT_ADMIN = (
    "You don't have permission to view this page. Log in as a Recruiter Admin to view this page"
)
PLUGIN_NOT_ADMIN = "There seems to be a problem you do not have permissions"
PLUGIN_BAD_DOMAIN = (
    "Domain validation failed for the api key. Please contact your ATS for further assistance."
)


def _save_integration(
    world: World, app: App, kind: str, context: str, poster: str | None
) -> dict[str, str]:
    """Record one saved integration (REQUESTED; again REQUESTED when the poster changed)."""
    tenant = TENANT[kind]
    record = world.integration(app.client_id, context, kind, tenant)
    if record is None:
        world.integrations.append(
            Integration(
                client_id=app.client_id,
                integration_context=context,
                integration_type=kind,
                tenant_type=tenant,
                status="REQUESTED",
                job_poster_email=poster,
            )
        )
    elif poster != record.job_poster_email:
        record.status = "REQUESTED"
        record.job_poster_email = poster
    return {
        "tenantType": tenant,
        "onboardingStatus": "REQUESTED",
        "integrationType": kind,
        "integrationContext": context,
    }


def _widget_refusal(sandbox: Sandbox, app: App, save: WidgetSave) -> JSONResponse | None:
    """What the widget (seed 000) or the configuration plugin (seed 001) shows instead."""
    pjp = save.integration_type == "PREMIUM_JOB_POSTING"
    if save.origin is not None and save.origin.rstrip("/") not in app.valid_js_sdk_domains:
        return JSONResponse(
            {"message": PLUGIN_BAD_DOMAIN, "console": "error.origin.not.in.api.domains"},
            status_code=400,
        )
    if not save.as_admin:
        return JSONResponse(
            {"message": WIDGET_NOT_ADMIN if pjp else PLUGIN_NOT_ADMIN}, status_code=403
        )
    fault = sandbox.faults.get(WIDGET)
    if fault is not None and fault.fail_next > 0:
        fault.fail_next -= 1
        return JSONResponse({"message": WIDGET_SAVE_FAILED}, status_code=503)
    return None


async def _fire_callback(save: WidgetSave, values: list[dict[str, str]]) -> str:
    """POST the callback values where the ATS page's confirmJobPoster would send them."""
    assert save.callback_url is not None
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            answer = await http.post(save.callback_url, json=values, headers=save.callback_headers)
        return str(answer.status_code)
    except httpx.HTTPError as exc:
        return f"error: {type(exc).__name__}"
