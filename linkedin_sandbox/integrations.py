"""atsIntegrations: enabling (batch_partial_update) and verifying integrations by key.

Keys and their messages follow seed 001; the customer's side (saving the widget or the
configuration plugin, which creates the REQUESTED records) lives in the widget module.
"""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import quote, unquote

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from linkedin_sandbox.errors import LinkedInRefusal, json_body
from linkedin_sandbox.outbox import Outbox
from linkedin_sandbox.sandbox import Sandbox
from linkedin_sandbox.state import MAX_STATUS_PUSHES, StatusPush

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
KEY_PARTS = ("integrationContext", "integrationType", "tenantType", "dataProvider")
_CONTEXT = re.compile(r"^urn:li:(organization|company|contract):[A-Za-z0-9_.\-]+$")
CALLBACK_TYPES = {"ONE_CLICK_EXPORT"}
"""The integration types whose CALLBACK_URL configuration LinkedIn documents (§5, PM-RSC)."""
STATUS_CHANGE = "INTEGRATION_STATUS_CHANGE"
ALREADY_ENABLED = (
    "One or more of your update keys are violating update rule : modifying "
    "onboarding status for already enabled integration is not allowed"
)


def _parts(raw: dict[str, str]) -> tuple[str, str, str, str]:
    """Validate one key's parts with seed 001's messages; return them in canonical order."""
    if any(not raw.get(part) for part in KEY_PARTS) or set(raw) - set(KEY_PARTS):
        raise LinkedInRefusal(400, "Integration key parts are incomplete")
    context, kind, tenant, provider = (raw[p] for p in KEY_PARTS)
    if TENANT.get(kind) != tenant or provider != "ATS":
        raise LinkedInRefusal(400, "Integration key parts are incomplete")
    if not context_fits(kind, context):
        raise LinkedInRefusal(400, "Invalid integration context urn")
    return context, kind, tenant, provider


def context_fits(kind: str, context: str) -> bool:
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


def push_status_change(sandbox: Sandbox, outbox: Outbox, client_id: str) -> None:
    """Tell the customer's callback URL, if it has one, that an integration's status
    changed (§5: an event type and a request id; the field names are not visible)."""
    url = sandbox.world.callback_url(client_id)
    app = sandbox.world.apps.get(client_id)
    if url is None or app is None:
        return
    request_id = uuid.uuid4().hex
    world = sandbox.world
    mine = [r.model_copy() for r in world.integrations if r.client_id == client_id]
    world.status_pushes = [
        *world.status_pushes[-(MAX_STATUS_PUSHES - 1) :],
        StatusPush(request_id=request_id, client_id=client_id, integrations=mine),
    ]
    world.changed()
    body = {"type": STATUS_CHANGE, "requestId": request_id}
    outbox.push(url, app.client_secret, STATUS_CHANGE, body)


def _callback_url(body: dict[str, Any]) -> str:
    """The one CALLBACK_URL entity of a configurations batch_update (§5)."""
    entities = body.get("entities")
    entity = entities.get("CALLBACK_URL") if isinstance(entities, dict) else None
    value = ((entity or {}).get("configurationValue") or {}).get("string")
    if not isinstance(value, str) or not value:
        raise LinkedInRefusal(
            422,
            "ERROR :: /entities/CALLBACK_URL/configurationValue/string :: field is required "
            "but not found and has no default value\n",
        )
    return value


def _status_push(sandbox: Sandbox, client_id: str, request_id: str | None) -> JSONResponse:
    """The follow-up of a status push (§5, `q=request`): LinkedIn does not document its
    answer, so the sandbox gives a Rest.li finder's (`elements`, `paging`) with each of the
    customer's integrations as the push found them; another customer's push is not found."""
    if not request_id:
        raise LinkedInRefusal(400, "Parameter 'requestId' is required for finder 'request'")
    push = next((p for p in sandbox.world.status_pushes if p.request_id == request_id), None)
    if push is None or push.client_id != client_id:
        raise LinkedInRefusal(404, f"No request found for requestId {request_id}")
    elements = [
        {
            "integrationContext": r.integration_context,
            "integrationType": r.integration_type,
            "tenantType": r.tenant_type,
            "onboardingStatus": r.status,
            **({"integrationName": r.integration_name} if r.integration_name else {}),
        }
        for r in push.integrations
    ]
    paging = {"start": 0, "count": len(elements), "total": len(elements)}
    return JSONResponse({"elements": elements, "paging": paging})


def routes(api: FastAPI, sandbox: Sandbox, outbox: Outbox) -> None:
    @api.put("/v2/atsIntegrations/{raw_key}/configurations")
    async def configure(raw_key: str, request: Request) -> JSONResponse:
        """The customer's CALLBACK_URL (§5): an ATS registers it with the customer's token."""
        app = sandbox.customer(request, "PUT /atsIntegrations/configurations")
        if request.headers.get("x-restli-method", "").lower() != "batch_update":
            raise LinkedInRefusal(
                400, "Invalid request: the x-restli-method header must be batch_update"
            )
        if request.query_params.getlist("ids") != ["CALLBACK_URL"]:
            raise LinkedInRefusal(400, "Invalid configuration ids: only CALLBACK_URL is known")
        key = _parts(_parse_entity_key(raw_key))
        if key[1] not in CALLBACK_TYPES:
            raise LinkedInRefusal(400, f"No CALLBACK_URL configuration for {key[1]}")
        url = _callback_url(await json_body(request))
        world = sandbox.world
        if any(r.callback_url == url and r.client_id != app.client_id for r in world.integrations):
            raise LinkedInRefusal(400, "The callback URL is registered for another customer")
        record = world.integration(app.client_id, *key[:3])
        if record is None:
            raise LinkedInRefusal(404, "No record found to update")
        for other in world.integrations:  # one URL per customer (§5)
            if other.client_id == app.client_id:
                other.callback_url = None
        record.callback_url = url
        world.changed()
        return JSONResponse({"results": {"CALLBACK_URL": {"status": 204}}, "errors": {}})

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
            world.changed()
            results[rendered] = {"status": 204}
        if results:
            push_status_change(sandbox, outbox, app.client_id)
        return JSONResponse({"errors": errors, "results": results})

    @api.get("/v2/atsIntegrations")
    async def verify(request: Request) -> JSONResponse:
        app = sandbox.customer(request, "GET /atsIntegrations")
        if request.query_params.get("q") == "request":
            return _status_push(sandbox, app.client_id, request.query_params.get("requestId"))
        results = {}
        for key in _query_keys(request):
            record = sandbox.world.integration(app.client_id, *key[:3])
            if record is not None:
                results[_render(key, False)] = {
                    "integrationName": record.integration_name,
                    "onboardingStatus": record.status,
                }
        return JSONResponse({"errors": {}, "results": results, "statuses": {}})
