"""simpleJobPostings, its asynchronous tasks, and jobPostingStatus.

Jobs and tasks are served under /v2/ (the seeds) and /rest/ (LinkedIn's SDK, with
LinkedIn-Version); job statuses under /v2/ only, where LinkedIn's SDK reads them.

Each accepted element becomes a task that stays IN_PROGRESS for the configured delay;
due tasks are processed in submission order before every API request, so effects
(duplicate CREATEs, updates of jobs not yet created) resolve as they would at LinkedIn.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from linkedin_sandbox.errors import LinkedInRefusal, forbidden, json_body
from linkedin_sandbox.questions import apply_status
from linkedin_sandbox.rules import Refusal, check_element
from linkedin_sandbox.sandbox import Sandbox
from linkedin_sandbox.settings import SandboxSettings
from linkedin_sandbox.state import DAY_MS, App, Job, Task, World

MAX_ELEMENTS = 100
P4P_DAYS = 30
PREMIUM_DAYS = 30
PREMIUM_MAX_DAYS = 90
BASIC_DAYS = 180


def routes(api: FastAPI, sandbox: Sandbox) -> None:
    @api.post("/rest/simpleJobPostings")
    @api.post("/v2/simpleJobPostings")
    async def submit(request: Request) -> JSONResponse:
        app = sandbox.customer(request, "POST /simpleJobPostings")
        if request.headers.get("x-restli-method", "").lower() != "batch_create":
            raise forbidden("POST /simpleJobPostings")
        elements = (await json_body(request)).get("elements")
        if not isinstance(elements, list) or not elements:
            raise LinkedInRefusal(
                422,
                "ERROR :: /elements :: field is required but not found and has no default value\n",
            )
        if len(elements) > MAX_ELEMENTS:
            raise LinkedInRefusal(
                400,
                f"Batch size {len(elements)} exceeds the maximum of "
                f"{MAX_ELEMENTS} elements per request",
            )
        ids = [str(e.get("externalJobPostingId")) for e in elements if isinstance(e, dict)]
        duplicated = next((i for i in ids if ids.count(i) > 1), None)
        if duplicated is not None:
            raise LinkedInRefusal(
                400,
                f"Duplicate operations on externalJobPostingId "
                f"{duplicated} in one request are not allowed",
            )
        answers = [_accept(sandbox, app, element) for element in elements]
        return JSONResponse({"elements": answers})

    @api.get("/rest/simpleJobPostingTasks")
    @api.get("/v2/simpleJobPostingTasks")
    async def tasks(request: Request) -> JSONResponse:
        app = sandbox.customer(request, "GET /simpleJobPostingTasks")
        world = sandbox.world
        results: dict[str, Any] = {}
        errors: dict[str, Any] = {}
        for urn in request.query_params.getlist("ids"):
            if not urn.startswith("urn:li:simpleJobPostingTask:") or not _is_uuid(
                urn.rsplit(":", 1)[-1]
            ):
                raise LinkedInRefusal(400, "Batch key parameter value is invalid")
            task = world.tasks.get(urn)
            expired = task is not None and (
                world.now_ms() - task.created_at_ms > sandbox.settings.task_ttl_seconds * 1000
            )
            if task is None or task.client_id != app.client_id or expired:
                errors[urn] = {"status": 404, "message": f"Task {urn} not found"}
                continue
            results[urn] = _task_view(task)
        return JSONResponse({"results": results, "statuses": {}, "errors": errors})

    @api.get("/v2/jobPostingStatus")  # only there: LinkedIn's SDK reads it on /v2/ alone
    async def statuses(request: Request) -> JSONResponse:
        app = sandbox.customer(request, "GET /jobPostingStatus")
        results: dict[str, Any] = {}
        errors: dict[str, Any] = {}
        for external_id in request.query_params.getlist("ids"):
            view = _status_view(sandbox.world, app, external_id, sandbox.settings)
            if view is None:
                errors[external_id] = {
                    "status": 404,
                    "message": f"No job posting found for externalJobPostingId {external_id}",
                }
            else:
                results[external_id] = view
        return JSONResponse({"results": results, "statuses": {}, "errors": errors})


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _accept(sandbox: Sandbox, app: App, element: Any) -> dict[str, Any]:
    world = sandbox.world
    try:
        settings = sandbox.settings
        skew_ms = int(settings.listed_at_skew_seconds * 1000)
        check_element(world, app, element, settings.partner_id, skew_ms)
    except Refusal as refusal:
        return {
            "error": {"message": refusal.message, "status": refusal.status},
            "status": refusal.status,
        }
    urn = f"urn:li:simpleJobPostingTask:{uuid.uuid4()}"
    now = world.now_ms()
    world.tasks[urn] = Task(
        urn=urn,
        client_id=app.client_id,
        external_id=str(element["externalJobPostingId"]),
        operation=element["jobPostingOperationType"],
        payload=element,
        created_at_ms=now,
        ready_at_ms=now + int(sandbox.settings.task_delay_seconds * 1000),
    )
    world.changed()
    if element["jobPostingOperationType"] == "UPDATE":
        world.update_arrived(app.client_id, str(element["externalJobPostingId"]))
    return {"id": urn, "status": 202, "location": f"/simpleJobPostings/{quote(urn, safe='')}"}


def process_due(world: World, settings: SandboxSettings) -> None:
    """Run every due task, oldest first."""
    now = world.now_ms()
    due = sorted(
        (t for t in world.tasks.values() if t.status == "IN_PROGRESS" and t.ready_at_ms <= now),
        key=lambda t: (t.created_at_ms, t.ready_at_ms),
    )
    for task in due:
        world.changed()
        if world.failing_tasks:
            ending = world.failing_tasks.pop(0)
            task.status, task.error_message = ending.status, ending.error_message
            continue
        try:
            job = _apply(world, task, settings)
        except Refusal as failure:
            task.status, task.error_message = "FAILED", failure.message
        else:
            task.status, task.job_posting = "SUCCEEDED", f"urn:li:jobPosting:{job.job_id}"


def _apply(world: World, task: Task, settings: SandboxSettings) -> Job:
    payload = task.payload
    job = world.job(task.client_id, task.external_id)
    open_job = job is not None and not job.closed
    now = world.now_ms()
    if task.operation == "CREATE":
        if open_job:
            raise Refusal(
                409,
                f"Job posting could not be created: a job with the same "
                f"partnerIdentifier already exists (partner job code "
                f"{task.external_id})",
            )
        world.next_job += 1
        created = Job(
            client_id=task.client_id,
            external_id=task.external_id,
            job_id=world.next_job,
            listing_type=payload.get("listingType", "BASIC"),
            contract=payload.get("contract"),
            budget=payload.get("budget"),
            listed_at=payload["listedAt"],
            expire_at=0,
            payload=payload,
        )
        created.expire_at = _expiry(created, payload, created.listed_at)
        _spend(world, created)
        world.jobs[f"{task.client_id}|{task.external_id}"] = created
        return created
    if job is None or not open_job:
        if task.operation == "CLOSE":
            raise Refusal(409, "Cannot close job which is already closed or does not exist")
        raise Refusal(
            406,
            f"Operation type {task.operation} is not allowed for a non-existing "
            f"job of partner urn urn:li:partner:{settings.partner_id}, partner "
            f"job code {task.external_id}.",
        )
    if task.operation == "CLOSE":
        job.closed, job.closed_at_ms = True, now
        return job
    listing = payload.get("listingType", "BASIC")
    was_p4p = job.budget is not None
    if task.operation == "RENEW":
        job.budget = payload.get("budget", job.budget)
        job.expire_at = now + (P4P_DAYS if job.budget else _days(job.listing_type)) * DAY_MS
    elif job.listing_type == "BASIC" and listing == "PREMIUM":  # inline upgrade: same job
        job.listing_type, job.contract, job.budget = (
            listing,
            payload.get("contract"),
            payload.get("budget"),
        )
        job.listed_at = now
        job.expire_at = _expiry(job, payload, now)
        _spend(world, job)
    elif job.listing_type == "PREMIUM" and listing == "BASIC":  # downgrade: a new job
        job.previous_job_ids.append(job.job_id)
        world.next_job += 1
        job.job_id = world.next_job
        job.listing_type, job.budget = "BASIC", None
        if not was_p4p:  # seed 003; seed 002 says a P4P downgrade keeps its dates
            job.expire_at = payload.get("expireAt") or now + BASIC_DAYS * DAY_MS
    else:
        job.budget = payload.get("budget", job.budget)
    job.payload = payload
    return job


def _days(listing: str) -> int:
    return PREMIUM_DAYS if listing == "PREMIUM" else BASIC_DAYS


def _expiry(job: Job, payload: dict[str, Any], start: int) -> int:
    """P4P: fixed 30 days. Premium: 30 days or expireAt up to 90. Basic: 180 or expireAt."""
    if job.budget is not None:
        return start + P4P_DAYS * DAY_MS
    requested = payload.get("expireAt")
    if job.listing_type == "PREMIUM":
        cap = start + PREMIUM_MAX_DAYS * DAY_MS
        return min(requested, cap) if requested else start + PREMIUM_DAYS * DAY_MS
    return requested or start + BASIC_DAYS * DAY_MS


def _spend(world: World, job: Job) -> None:
    contract = world.contracts.get(job.contract or "")
    if contract is None or job.listing_type != "PREMIUM":
        return
    if job.budget and contract.budget_remaining is not None:
        amount = Decimal(str(job.budget["payForPerformanceTotalBudget"]["amount"]))
        contract.budget_remaining -= float(amount)
    elif not job.budget and contract.slots_remaining is not None:
        contract.slots_remaining -= 1


def _task_view(task: Task) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": task.urn,
        "status": task.status,
        "externalJobPostingId": task.external_id,
        "location": task.payload.get("location"),
    }
    if task.job_posting:
        view["jobPosting"] = task.job_posting
    if task.error_message:
        view["errorMessage"] = task.error_message
    return view


def _status_view(
    world: World, app: App, external_id: str, settings: SandboxSettings
) -> dict[str, Any] | None:
    job = world.job(app.client_id, external_id)
    wire_id: int | str = int(external_id) if external_id.isdigit() else external_id
    if job is None:
        pending = any(
            t.client_id == app.client_id
            and t.external_id == external_id
            and t.status == "IN_PROGRESS"
            for t in world.tasks.values()
        )
        if not pending:
            return None
        return {
            "externalJobPostingId": wire_id,
            "listingStatus": "IN_PROGRESS",
            "linkedInApplyStatus": "IN_PROGRESS",
            "promotionStatus": "NOT_PROMOTED",
        }
    expired = job.expire_at <= world.now_ms()
    listed = not job.closed and not expired
    detail = None
    if not listed:
        reason = "CLOSED" if job.closed else "EXPIRED"
        detail = {
            "errorCode": None,
            "errorType": None,
            "statusMessage": f"The job posting is {reason.lower()}.",
        }
    view: dict[str, Any] = {
        "externalJobPostingId": wire_id,
        "jobPostingInfo": {
            "expireAt": job.expire_at,
            "listedAt": job.listed_at,
            "location": job.payload.get("location"),
            "alternateLocations": None,
            "companyDetails": {
                "name": job.payload.get("companyName"),
                "pageUrl": job.payload.get("companyPageUrl"),
            },
            "visibilityTag": None,
        },
        "linkedInApplyStatus": apply_status(job)[0],
        "linkedInApplyStatusDetail": apply_status(job)[1],
        "listingStatus": "LISTED" if listed else "NOT_LISTED",
        "listingStatusDetail": detail,
        "promotionStatus": "PROMOTED"
        if listed and job.listing_type == "PREMIUM"
        else "NOT_PROMOTED",
        "promotionStatusDetail": None,
        "jobCampaign": None,
        "partnerJobCampaign": job.payload.get("partnerJobCampaignId"),
        "rawLocation": job.payload.get("location"),
    }
    view["jobPostingUrl"] = f"{settings.job_url_base}{job.job_id}"  # kept once NOT_LISTED
    changes = job.linkedin_changes
    if not listed:  # the partner's CLOSE, or expiry, wins over what LinkedIn changed
        changes = {k: v for k, v in changes.items() if not k.startswith("listingStatus")}
    view.update(changes)
    if "promotionStatus" not in changes and view["listingStatus"] != "LISTED":
        view["promotionStatus"] = "NOT_PROMOTED"
    return view


def status_view(sandbox: Sandbox, app: App, external_id: str) -> dict[str, Any] | None:
    """What jobPostingStatus answers for one of the app's jobs, None if LinkedIn has none."""
    return _status_view(sandbox.world, app, external_id, sandbox.settings)
