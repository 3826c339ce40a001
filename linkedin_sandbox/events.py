"""LinkedIn changing its own world and telling the partner: job status changes
(JOB_POSTING_STATUS, linkedin-inbound.md §3) and resync requests (RESYNC_JOBS, §4), with
a record of whether each requested job came back as an UPDATE within 30 minutes.

LinkedIn has no API for this; the sandbox serves it under /sandbox/jobs/…/change and
/sandbox/resync.
"""

from __future__ import annotations

from typing import Any, Literal, Self

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, model_validator

from linkedin_sandbox import jobs
from linkedin_sandbox.outbox import Event, Outbox
from linkedin_sandbox.sandbox import Sandbox
from linkedin_sandbox.state import App, Resync, World

RESYNC_WINDOW_MS = 30 * 60 * 1000
"""LinkedIn expects the requested jobs back, as UPDATEs, within 30 minutes [JRN]."""


class JobChange(BaseModel):
    customer_id: str = Field(alias="customerId")
    listing_status: Literal["LISTED", "NOT_LISTED", "IN_PROGRESS"] | None = Field(
        default=None, alias="listingStatus"
    )
    linkedin_apply_status: Literal["ENABLED", "NOT_ENABLED", "IN_PROGRESS"] | None = Field(
        default=None, alias="linkedInApplyStatus"
    )
    promotion_status: Literal["PROMOTED", "NOT_PROMOTED"] | None = Field(
        default=None, alias="promotionStatus"
    )
    reason: str | None = None
    """The statusMessage of each changed field's *StatusDetail; no detail when unset."""


class ResyncRequest(BaseModel):
    customer_id: str = Field(alias="customerId")
    external_job_posting_ids: list[str] | None = Field(default=None, alias="externalJobPostingIds")
    sync_all_open_jobs: bool = Field(default=False, alias="syncAllOpenJobs")

    @model_validator(mode="after")
    def _ids_or_all(self) -> Self:
        if bool(self.external_job_posting_ids) == self.sync_all_open_jobs:
            raise ValueError("give either a non-empty externalJobPostingIds or syncAllOpenJobs")
        return self


def _no_customer() -> JSONResponse:
    return JSONResponse({"message": "No customer application for that customerId"}, 404)


def _sent(event: Event, delivery: str, **more: Any) -> JSONResponse:
    return JSONResponse(
        {"eventId": event.id, "delivery": delivery, "event": event.body, **more}, 202
    )


def routes(api: FastAPI, sandbox: Sandbox, outbox: Outbox) -> None:
    @api.post("/sandbox/jobs/{external_id:path}/change")
    async def change(external_id: str, change: JobChange) -> JSONResponse:
        world = sandbox.world
        jobs.process_due(world, sandbox.settings)
        app = world.app_by_foreign_id(change.customer_id)
        if app is None:
            return _no_customer()
        job = world.job(app.client_id, external_id)
        if job is None:
            return JSONResponse(
                {"message": f"No job posting {external_id} for customer {change.customer_id}"},
                404,
            )
        detail = (
            {"errorCode": None, "errorType": None, "statusMessage": change.reason}
            if change.reason
            else None
        )
        for wire, value in (
            ("listingStatus", change.listing_status),
            ("linkedInApplyStatus", change.linkedin_apply_status),
            ("promotionStatus", change.promotion_status),
        ):
            if value is not None:
                job.linkedin_changes[wire] = value
                job.linkedin_changes[f"{wire}Detail"] = detail
        world.changed()
        view = jobs.status_view(sandbox, app, external_id) or {}
        body = {
            "type": "JOB_POSTING_STATUS",
            "externalJobPostingId": external_id,
            "developerApplicationUrn": app.key,
            **{k: v for k, v in view.items() if k != "externalJobPostingId"},
        }
        return _sent(*outbox.send("JOB_POSTING_STATUS", body))

    @api.post("/sandbox/resync")
    async def resync(request: ResyncRequest) -> JSONResponse:
        world = sandbox.world
        jobs.process_due(world, sandbox.settings)
        app = world.app_by_foreign_id(request.customer_id)
        if app is None:
            return _no_customer()
        now = world.now_ms()
        if request.sync_all_open_jobs:
            requested = _open_jobs(world, app)
        else:
            requested = list(dict.fromkeys(request.external_job_posting_ids or []))
        world.next_resync += 1
        record = Resync(
            id=f"resync-{world.next_resync}",
            client_id=app.client_id,
            customer_id=request.customer_id,
            app_urn=app.key,
            requested_at_ms=now,
            deadline_ms=now + RESYNC_WINDOW_MS,
            sync_all_open_jobs=request.sync_all_open_jobs,
            requested=requested,
        )
        world.resyncs.append(record)
        world.changed()
        body: dict[str, Any] = {
            "type": "RESYNC_JOBS",
            "developerApplicationUrn": app.key,
            "syncAllOpenJobs": request.sync_all_open_jobs,
        }
        if not request.sync_all_open_jobs:
            body["externalJobPostingIds"] = requested
        event, delivery = outbox.send("RESYNC_JOBS", body)
        return _sent(event, delivery, resync=resync_report(record, now))

    @api.get("/sandbox/resync")
    async def resyncs() -> list[dict[str, Any]]:
        now = sandbox.world.now_ms()
        return [resync_report(r, now) for r in sandbox.world.resyncs]

    @api.get("/sandbox/resync/{resync_id}")
    async def resync_by_id(resync_id: str) -> JSONResponse:
        world = sandbox.world
        record = next((r for r in world.resyncs if r.id == resync_id), None)
        if record is None:
            return JSONResponse({"message": f"No resync {resync_id}"}, 404)
        return JSONResponse(resync_report(record, world.now_ms()))


def _open_jobs(world: World, app: App) -> list[str]:
    """The app's jobs LinkedIn holds open: not closed by the partner, not expired."""
    now = world.now_ms()
    return [
        job.external_id
        for job in world.jobs.values()
        if job.client_id == app.client_id and not job.closed and job.expire_at > now
    ]


def resync_report(record: Resync, now_ms: int) -> dict[str, Any]:
    """Which requested jobs came back as an UPDATE in time, late, or (so far) never."""
    arrived = record.arrived
    missing = [i for i in record.requested if i not in arrived]
    deadline = record.deadline_ms
    closed = now_ms > deadline
    return {
        "id": record.id,
        "customerId": record.customer_id,
        "developerApplicationUrn": record.app_urn,
        "syncAllOpenJobs": record.sync_all_open_jobs,
        "requestedAtMs": record.requested_at_ms,
        "deadlineMs": record.deadline_ms,
        "requested": record.requested,
        "inTime": [i for i in record.requested if i in arrived and arrived[i] <= deadline],
        "late": [i for i in record.requested if i in arrived and arrived[i] > deadline],
        "never": missing if closed else [],
        "pending": [] if closed else missing,
        "arrivedAtMs": {i: arrived[i] for i in record.requested if i in arrived},
    }
