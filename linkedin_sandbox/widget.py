"""The customer's side of onboarding, which LinkedIn runs in its own pages: the PJP widget
(seed 000) and the configuration plugin (seed 001) saved, then their JS callback fired.

LinkedIn has no API for this; the sandbox serves it as POST /sandbox/widget/save.
"""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from linkedin_sandbox.integrations import TENANT, context_fits, push_status_change
from linkedin_sandbox.outbox import Outbox
from linkedin_sandbox.sandbox import Sandbox
from linkedin_sandbox.state import App, Contract, Integration, World

SAVE_PATH = "/sandbox/widget/save"
WIDGET = "widget"
"""The fault name for widget saves: the customer's save fails, no callback fires."""
BUNDLES = {
    "APPLY_WITH_LINKEDIN": ("APPLY_WITH_LINKEDIN",),
    "APPLY_CONNECT": ("APPLY_CONNECT",),
    "RECRUITER_SYSTEM_CONNECT_COMPANY": ("ONE_CLICK_EXPORT", "IN_ATS_INDICATOR", "PROFILE_PLUGIN"),
    "RECRUITER_SYSTEM_CONNECT_CONTRACT": ("CSA_API",),
}
"""The configuration plugin's bundles (seed 001) and the key types its callback hands back."""
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


def routes(api: FastAPI, sandbox: Sandbox, outbox: Outbox) -> None:
    @api.post(SAVE_PATH)
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
        if not all(context_fits(kind, save.integration_context) for kind in kinds):
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
        saved = [
            _save_integration(world, app, kind, save.integration_context, poster) for kind in kinds
        ]
        values = [value for value, _ in saved]
        if any(changed for _, changed in saved):
            push_status_change(sandbox, outbox, app.client_id)
        if pjp and save.integration_context not in world.contracts:
            world.contracts[save.integration_context] = Contract(
                urn=save.integration_context, kind=save.contract_kind
            )
            world.changed()
        headers = {}
        if save.callback_url:
            headers["x-sandbox-callback-status"] = await _fire_callback(save, values)
        return JSONResponse(values, headers=headers)


def _save_integration(
    world: World, app: App, kind: str, context: str, poster: str | None
) -> tuple[dict[str, str], bool]:
    """Record one saved integration (REQUESTED; again REQUESTED when the poster changed);
    whether its status changed."""
    tenant = TENANT[kind]
    record = world.integration(app.client_id, context, kind, tenant)
    changed = record is None or (poster != record.job_poster_email and record.status != "REQUESTED")
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
        world.changed()
    elif poster != record.job_poster_email:
        record.status = "REQUESTED"
        record.job_poster_email = poster
        world.changed()
    value = {
        "tenantType": tenant,
        "onboardingStatus": "REQUESTED",
        "integrationType": kind,
        "integrationContext": context,
    }
    return value, changed


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
