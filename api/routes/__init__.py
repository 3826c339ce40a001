"""The API's routes, one module per resource, each with a module-level `router`.

api.app includes each router of BEHIND_TOKEN behind the bearer token (api.deps), and each
of OPEN without it: a route there is reached by anyone, so it checks its caller its own
way. LinkedIn's inbound webhooks (api/routes/linkedin.py, signed by LinkedIn) go in OPEN.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.routes import (
    applications,
    customers,
    health,
    integrations,
    job_applications,
    jobs,
    linkedin,
    linkedin_events,
    p4p,
    webhooks,
)

BEHIND_TOKEN: tuple[APIRouter, ...] = (
    customers.router,
    integrations.router,
    applications.router,
    jobs.router,
    p4p.router,
    webhooks.router,
    linkedin_events.router,
    job_applications.router,
)
OPEN: tuple[APIRouter, ...] = (health.router, linkedin.router)

TAGS: list[dict[str, Any]] = [
    {
        "name": str(module.router.tags[0]),
        "description": " ".join((module.__doc__ or "").split("\n\n")[0].split()),
    }
    for module in (
        customers,
        integrations,
        applications,
        jobs,
        p4p,
        webhooks,
        linkedin_events,
        job_applications,
    )
]
"""One OpenAPI tag per resource, described by its module's first paragraph."""
