"""partnerJobReports and partnerBudgetReports: what LinkedIn charges for P4P jobs.

Every listed P4P job (PREMIUM with a total budget) accrues views, apply clicks and a
charge for each whole UTC day it was open by the sandbox's clock (advance the clock to see
days accrue), until it closes or expires, and never more than its budget. The numbers are
a pure function of the job's id and the day, so a report reads the same every time. The
shapes follow LinkedIn's Java SDK (P4PReportResponseByDate / ByIds, P4PBudgetReportResponse).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import unquote

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from linkedin_sandbox.errors import LinkedInRefusal
from linkedin_sandbox.sandbox import Sandbox
from linkedin_sandbox.state import DAY_MS, App, Job, World

COST_PER_APPLY = Decimal("1.25")
"""What one apply click costs a P4P job, in its budget's currency."""
MAX_IDS = 10
MAX_COUNT = 50
SERVICE_TERM_DAYS = 365

_DATE = r"\(year:(\d{4}),month:(\d{1,2}),day:(\d{1,2})\)"
_RANGE = re.compile(rf"^\(start:{_DATE},end:{_DATE}\)$")


@dataclass(frozen=True)
class Day:
    day: date
    views: int
    applies: int
    charge: Decimal


def _utc_day(ms: int) -> date:
    return datetime.fromtimestamp(ms / 1000, UTC).date()


def _day_start_ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


def is_p4p(job: Job) -> bool:
    return job.listing_type == "PREMIUM" and job.budget is not None


def accrued(job: Job, now_ms: int) -> list[Day]:
    """The job's whole days so far: each ended by `now_ms` while the job was open."""
    if not is_p4p(job) or job.budget is None:
        return []
    total = Decimal(str(job.budget["payForPerformanceTotalBudget"]["amount"]))
    open_until = min(now_ms, job.expire_at, job.closed_at_ms or now_ms)
    days: list[Day] = []
    spent = Decimal(0)
    day = _utc_day(job.listed_at)
    index = 0
    while _day_start_ms(day) + DAY_MS <= open_until:
        views = 20 + (job.job_id + 7 * index) % 30
        applies = views // 6
        charge = min(applies * COST_PER_APPLY, total - spent)
        spent += charge
        days.append(Day(day, views, applies, charge))
        day += timedelta(days=1)
        index += 1
    return days


def _money(amount: Decimal, currency: str) -> dict[str, str]:
    return {"currencyCode": currency, "amount": f"{amount:.2f}"}


def _currency(job: Job) -> str:
    return str(
        (job.budget or {}).get("payForPerformanceTotalBudget", {}).get("currencyCode", "USD")
    )


def _report(job: Job, now_ms: int, start: date, end: date) -> dict[str, Any]:
    days = accrued(job, now_ms)
    currency = _currency(job)
    limit = Decimal(str((job.budget or {})["payForPerformanceTotalBudget"]["amount"]))
    return {
        "jobPostingInfo": {
            "externalJobPostingId": job.external_id,
            "linkedInJobPostingId": job.job_id,
            "closeAt": job.closed_at_ms or job.expire_at,
            "companyDetails": {"companyName": job.payload.get("companyName") or "Sandbox Co"},
            "companyApplyUrl": job.payload.get("companyApplyUrl"),
            "jobTitle": job.payload.get("title"),
        },
        "lifetimeJobBudgetInfo": {
            "serviceTermBudgetSpent": _money(sum((d.charge for d in days), Decimal(0)), currency),
            "serviceTermBudgetLimit": _money(limit, currency),
        },
        "jobPerformanceMetrics": [
            {
                "date": {"year": d.day.year, "month": d.day.month, "day": d.day.day},
                "charge": _money(d.charge, currency),
                "applyClickCount": d.applies,
                "viewCount": d.views,
            }
            for d in days
            if start <= d.day <= end
        ],
    }


def _raw_params(request: Request) -> dict[str, str]:
    """The query's parameters undecoded: Rest.li 2.0 lists are split before decoding."""
    raw = request.scope.get("query_string", b"").decode("latin-1")
    params: dict[str, str] = {}
    for part in raw.split("&"):
        name, _, value = part.partition("=")
        params[unquote(name)] = value
    return params


def _date_range(params: dict[str, str]) -> tuple[date, date]:
    match = _RANGE.match(unquote(params.get("dateRange", "")))
    if match is None:
        raise LinkedInRefusal(
            400, "dateRange: required as (start:(year:,month:,day:),end:(year:,month:,day:))"
        )
    y1, m1, d1, y2, m2, d2 = (int(g) for g in match.groups())
    try:
        return date(y1, m1, d1), date(y2, m2, d2)
    except ValueError as error:
        raise LinkedInRefusal(400, f"dateRange: {error}") from None


def _contract(params: dict[str, str]) -> str | None:
    raw = params.get("partnerContractId")
    if raw is None:
        return None
    if not raw.isdigit():
        raise LinkedInRefusal(400, "partnerContractId: must be a long")
    return f"urn:li:contract:{raw}"


def _p4p_jobs(world: World, app: App, contract: str | None) -> list[Job]:
    return sorted(
        (
            job
            for job in world.jobs.values()
            if job.client_id == app.client_id
            and is_p4p(job)
            and (contract is None or job.contract == contract)
        ),
        key=lambda job: job.job_id,
    )


def routes(api: FastAPI, sandbox: Sandbox) -> None:
    @api.get("/rest/partnerJobReports")
    async def job_reports(request: Request) -> JSONResponse:
        app = sandbox.customer(request, "GET /partnerJobReports")
        world = sandbox.world
        params = _raw_params(request)
        start, end = _date_range(params)
        contract = _contract(params)
        now = world.now_ms()
        if "ids" in params:
            listed = params["ids"]
            if not (listed.startswith("List(") and listed.endswith(")")):
                raise LinkedInRefusal(400, "ids: must be List(id,...)")
            ids = [unquote(i) for i in listed[5:-1].split(",") if i]
            if not 1 <= len(ids) <= MAX_IDS:
                raise LinkedInRefusal(400, f"ids: 1 to {MAX_IDS} per request")
            results: dict[str, Any] = {}
            errors: dict[str, Any] = {}
            by_id = {job.external_id: job for job in _p4p_jobs(world, app, contract)}
            for external_id in ids:
                job = by_id.get(external_id)
                if job is None:
                    errors[external_id] = {
                        "code": "NOT_FOUND",
                        "message": f"No P4P job posting found for {external_id}",
                        "status": 404,
                    }
                else:
                    results[external_id] = _report(job, now, start, end)
            return JSONResponse({"results": results, "errors": errors})
        if params.get("q") != "dateRange":
            raise LinkedInRefusal(400, "q: must be dateRange (or give ids)")
        first = int(params.get("start", "0") or 0)
        count = int(params.get("count", str(MAX_COUNT)) or MAX_COUNT)
        if first < 0 or not 1 <= count <= MAX_COUNT:
            raise LinkedInRefusal(400, f"count: 1 to {MAX_COUNT}, start: 0 or more")
        open_in_range = [
            job
            for job in _p4p_jobs(world, app, contract)
            if _utc_day(job.listed_at) <= end
            and _utc_day(min(job.closed_at_ms or job.expire_at, job.expire_at)) >= start
        ]
        page = open_in_range[first : first + count]
        return JSONResponse(
            {
                "paging": {
                    "start": first,
                    "count": count,
                    "total": len(open_in_range),
                    "links": [],
                },
                "elements": [_report(job, now, start, end) for job in page],
            }
        )

    @api.get("/rest/partnerBudgetReports")
    async def budget_reports(request: Request) -> JSONResponse:
        app = sandbox.customer(request, "GET /partnerBudgetReports")
        world = sandbox.world
        urn = _contract(_raw_params(request))
        if urn is None:
            raise LinkedInRefusal(400, "partnerContractId: required")
        contract = world.contracts.get(urn)
        if contract is None or contract.owner_client_id != app.client_id:
            raise LinkedInRefusal(404, f"No P4P contract {urn} for this application")
        now = world.now_ms()
        currency = contract.currency or "USD"
        spent = sum(
            (d.charge for job in _p4p_jobs(world, app, urn) for d in accrued(job, now)),
            Decimal(0),
        )
        started = contract.set_up_at_ms or 0
        return JSONResponse(
            {
                "serviceTermStartAt": started,
                "serviceTermEndAt": started + SERVICE_TERM_DAYS * DAY_MS,
                "partnerBudgetDetails": [
                    {
                        "serviceTermBudgetSpent": _money(spent, currency),
                        "serviceTermBudgetLimit": _money(
                            Decimal(contract.service_term_budget_limit), currency
                        ),
                    }
                ],
            }
        )
