"""Job applications from LinkedIn (Apply Connect), for the ATS behind its token: list,
read, download a document, signal a lifecycle action, erase. LinkedIn's side, the intake,
is in api.routes.linkedin."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Query
from fastapi.responses import JSONResponse, Response

from api import errors
from api.deps import Applications, CustomerId, Documents
from api.paths import segment
from client.applications import ApplicationPage
from domain.applications import (
    ActionRequest,
    ApplicationStatus,
    ApplicationView,
    DocumentKind,
)
from domain.job_workflow import MAX_UPDATE_ID_LENGTH

router = APIRouter(tags=["job-applications"], responses=errors.problems(404))
PATH = "/v1/customers/{customer_id}/applications"

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=MAX_UPDATE_ID_LENGTH,
        description="The same key again answers the first request's action; nothing is resent.",
    ),
]


@router.get(PATH)
async def list_job_applications(
    customer_id: CustomerId,
    client: Applications,
    page_size: Annotated[int, Query(alias="pageSize", ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=4000)] = None,
) -> ApplicationPage:
    """The customer's applications from LinkedIn, newest first; `nextCursor` pages on."""
    return await client.list_applications(customer_id, page_size=page_size, cursor=cursor)


@router.get(f"{PATH}/{{application_id}}")
async def get_job_application(
    customer_id: str, application_id: str, client: Applications
) -> ApplicationView:
    """Contact, answers by partnerQuestionIdentifier, skills, documents, actions."""
    return await client.state(segment(customer_id), segment(application_id))


@router.get(f"{PATH}/{{application_id}}/documents/{{kind}}")
async def get_application_document(
    customer_id: str,
    application_id: str,
    kind: DocumentKind,
    client: Applications,
    store: Documents,
) -> Response:
    """The resume or cover letter as the candidate uploaded it."""
    customer, key = segment(customer_id), segment(application_id)
    view = await client.state(customer, key)
    if view.status == ApplicationStatus.ERASED:
        raise HTTPException(404, f"application {key}: erased")
    found = await store.get(customer, key, kind)
    if found is None:
        raise HTTPException(404, f"application {key}: no {kind} (see documentErrors)")
    content, stored = found
    return Response(
        content,
        media_type=stored.content_type,
        headers={
            "Content-Disposition": f'attachment; filename="{kind}"',
            "X-Content-SHA256": stored.sha256,
            "Cache-Control": "no-store",
        },
    )


@router.post(f"{PATH}/{{application_id}}/actions", status_code=202)
async def send_application_action(
    customer_id: str,
    application_id: str,
    body: ActionRequest,
    client: Applications,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """One occurrence of APPLICATION_VIEWED, RESUME_DOWNLOADED or APPLICATION_REJECTED,
    sent to LinkedIn (retried on 5xx and 429); the outcome comes as a webhook."""
    record = await client.record_action(
        segment(customer_id), segment(application_id), body, idempotency_key
    )
    return JSONResponse(record.model_dump(mode="json", by_alias=True), status_code=202)


@router.delete(f"{PATH}/{{application_id}}", status_code=204)
async def erase_job_application(
    customer_id: str, application_id: str, client: Applications
) -> Response:
    """Documents and personal data erased, the application's history deleted."""
    await client.erase(segment(customer_id), segment(application_id))
    return Response(status_code=204)
