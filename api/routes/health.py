"""Whether the API is up: for `linkedin-ats up` and load balancers, with no token."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
async def health() -> dict[str, str]:
    return {"status": "ok"}
