"""provisionedApplications (child applications) and provisionedHiringContracts (P4P)."""

from __future__ import annotations

import re
import secrets
from typing import Any
from urllib.parse import unquote

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from linkedin_sandbox.errors import LinkedInRefusal, json_body, not_found
from linkedin_sandbox.sandbox import Sandbox
from linkedin_sandbox.state import App, Contract

_DOMAIN = re.compile(r"^https?://[^\s/]+$")
_UPDATABLE = {
    "name": "name",
    "description": "description",
    "validJsSdkDomains": "valid_js_sdk_domains",
    "oauth2AuthorizedCallbackUrls": "oauth2_authorized_callback_urls",
}
"""The update call's wire fields and the App attributes they set."""


def application_view(app: App) -> dict[str, Any]:
    """An application as the finder shows it: everything but its secret."""
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


def routes(api: FastAPI, sandbox: Sandbox) -> None:
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
        world.changed()
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
        return JSONResponse({"elements": [application_view(app)] if app else []})

    @api.post("/v2/provisionedApplications/{key:path}")
    async def update_application(key: str, request: Request) -> Response:
        sandbox.partner(request, "POST /provisionedApplications")
        key = unquote(key)
        app = next((a for a in sandbox.world.apps.values() if a.key == key), None)
        if app is None:
            raise not_found(f"provisionedApplications/{key}")
        changes = ((await json_body(request)).get("patch") or {}).get("$set") or {}
        _check_application_fields(changes)
        for wire, attr in _UPDATABLE.items():
            if wire in changes:
                setattr(app, attr, changes[wire])
                sandbox.world.changed()
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
        sandbox.world.contracts[urn] = Contract(
            urn=urn,
            kind="P4P",
            owner_client_id=app.client_id,
            set_up_at_ms=contract.set_up_at_ms if contract else sandbox.world.now_ms(),
        )
        sandbox.world.changed()
        return JSONResponse({"value": {"key": app.key, "contract": urn}})
