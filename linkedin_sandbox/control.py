"""The control API under /sandbox/, which LinkedIn does not have: health, reset, faults,
the request journal, LinkedIn's clock, failing or PROCESSED tasks, contracts, campaigns,
settings, state. (Webhooks and their events: webhooks.py and events.py.)
"""

from __future__ import annotations

from typing import Any, Literal, Self

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, model_validator

from linkedin_sandbox.faults import ENDPOINTS, Fault
from linkedin_sandbox.outbox import Outbox
from linkedin_sandbox.provisioning import application_view
from linkedin_sandbox.sandbox import Sandbox
from linkedin_sandbox.state import Campaign, Contract, TaskEnding
from linkedin_sandbox.widget import WIDGET


class ContractSetup(BaseModel):
    kind: str = "SLOTS"
    currency: str | None = "USD"
    budget_remaining: float | None = Field(default=None, alias="budgetRemaining")
    slots_remaining: int | None = Field(default=None, alias="slotsRemaining")
    owner_client_id: str | None = Field(default=None, alias="ownerClientId")


class TaskFailure(BaseModel):
    status: Literal["FAILED", "PROCESSED"] = "FAILED"
    error_message: str | None = Field(default=None, alias="errorMessage")
    count: int = Field(default=1, ge=1)

    @model_validator(mode="after")
    def _failed_needs_a_message(self) -> Self:
        if self.status == "FAILED" and not self.error_message:
            raise ValueError("a FAILED task needs LinkedIn's errorMessage")
        return self


class CampaignSetup(BaseModel):
    client_id: str = Field(alias="clientId")
    active: bool = True


class SettingsPatch(BaseModel):
    task_delay_seconds: float | None = Field(default=None, alias="taskDelaySeconds")
    token_ttl_seconds: int | None = Field(default=None, alias="tokenTtlSeconds")
    token_expires_in_as_string: bool | None = Field(default=None, alias="tokenExpiresInAsString")
    encode_response_keys: bool | None = Field(default=None, alias="encodeResponseKeys")
    webhook_signature_form: Literal["a", "b"] | None = Field(
        default=None, alias="webhookSignatureForm"
    )
    webhook_retries: int | None = Field(default=None, ge=0, alias="webhookRetries")
    webhook_retry_seconds: float | None = Field(default=None, ge=0, alias="webhookRetrySeconds")
    webhook_timeout_seconds: float | None = Field(default=None, gt=0, alias="webhookTimeoutSeconds")
    webhook_challenge_timeout_seconds: float | None = Field(
        default=None, gt=0, alias="webhookChallengeTimeoutSeconds"
    )
    media_ttl_seconds: float | None = Field(default=None, gt=0, alias="mediaTtlSeconds")
    application_names_job: bool | None = Field(default=None, alias="applicationNamesJob")


def routes(api: FastAPI, sandbox: Sandbox, outbox: Outbox) -> None:
    @api.get("/sandbox/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @api.post("/sandbox/reset", status_code=204)
    async def reset(request: Request) -> Response:
        sandbox.reset()
        outbox.reset()
        applications = getattr(request.app.state, "applications", None)
        if applications is not None:
            applications.reset()
        return Response(status_code=204)

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
        outbox.clear_faults()
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
        sandbox.world.changed()
        outbox.wake()
        return {"nowMs": sandbox.world.now_ms()}

    @api.post("/sandbox/tasks/fail-next")
    async def fail_next_tasks(failure: TaskFailure) -> dict[str, int]:
        ending = TaskEnding(status=failure.status, error_message=failure.error_message)
        sandbox.world.failing_tasks.extend([ending.model_copy() for _ in range(failure.count)])
        sandbox.world.changed()
        return {"failing": len(sandbox.world.failing_tasks)}

    @api.put("/sandbox/contracts/{contract_id}")
    async def set_contract(contract_id: str, setup: ContractSetup) -> dict[str, Any]:
        urn = f"urn:li:contract:{contract_id}"
        sandbox.world.contracts[urn] = Contract(urn=urn, **setup.model_dump())
        sandbox.world.changed()
        return sandbox.world.contracts[urn].model_dump()

    @api.put("/sandbox/campaigns/{campaign_id}")
    async def set_campaign(campaign_id: str, setup: CampaignSetup) -> dict[str, Any]:
        campaign = Campaign(id=campaign_id, client_id=setup.client_id, active=setup.active)
        sandbox.world.campaigns[campaign_id] = campaign
        sandbox.world.changed()
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
            "apps": [application_view(a) for a in world.apps.values()],
            "integrations": [i.model_dump() for i in world.integrations],
            "contracts": [c.model_dump() for c in world.contracts.values()],
            "jobs": [
                j.model_dump(exclude={"payload"})
                | {"onsiteApplyConfiguration": j.payload.get("onsiteApplyConfiguration")}
                for j in world.jobs.values()
            ],
            "tasks": [t.model_dump(exclude={"payload"}) for t in world.tasks.values()],
            "nowMs": world.now_ms(),
        }
