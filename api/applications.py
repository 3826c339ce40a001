"""Application routes for the ATS, behind its token: list, read, download a document,
signal a lifecycle action, erase. (LinkedIn's side, the intake, is in api/linkedin.py.)"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Protocol

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request
from fastapi.params import Depends as DependsParam
from fastapi.responses import JSONResponse, Response

from api.paths import segment
from client.applications import ApplicationPage, ApplicationsClient
from domain.applications import (
    ActionRequest,
    ApplicationStatus,
    ApplicationView,
    DocumentKind,
    StoredDocument,
)
from domain.job_workflow import MAX_UPDATE_ID_LENGTH


class DocumentReader(Protocol):
    async def get(
        self, customer_id: str, key: str, kind: DocumentKind
    ) -> tuple[bytes, StoredDocument] | None: ...


def _applications(request: Request) -> ApplicationsClient:
    client: ApplicationsClient = request.app.state.applications
    return client


def _documents(request: Request) -> DocumentReader:
    store: DocumentReader | None = request.app.state.documents
    if store is None:
        problem: str = request.app.state.documents_problem
        raise HTTPException(503, f"the document store is not available: {problem}")
    return store


Applications = Annotated[ApplicationsClient, Depends(_applications)]
Documents = Annotated[DocumentReader, Depends(_documents)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=MAX_UPDATE_ID_LENGTH,
        description="The same key again answers the first request's action; nothing is resent.",
    ),
]


def application_routes(dependencies: Sequence[DependsParam]) -> APIRouter:
    router = APIRouter(dependencies=list(dependencies), tags=["applications"])
    path = "/v1/customers/{customer_id}/applications"

    @router.get(path)
    async def list_applications(
        customer_id: str,
        client: Applications,
        page_size: Annotated[int, Query(alias="pageSize", ge=1, le=1000)] = 100,
        cursor: Annotated[str | None, Query(max_length=4000)] = None,
    ) -> ApplicationPage:
        """The customer's applications from LinkedIn, newest first; `nextCursor` pages on."""
        return await client.list_applications(
            segment(customer_id), page_size=page_size, cursor=cursor
        )

    @router.get(f"{path}/{{application_id}}")
    async def application(
        customer_id: str, application_id: str, client: Applications
    ) -> ApplicationView:
        """Contact, answers by partnerQuestionIdentifier, skills, documents, actions."""
        return await client.state(segment(customer_id), segment(application_id))

    @router.get(f"{path}/{{application_id}}/documents/{{kind}}")
    async def document(
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

    @router.post(f"{path}/{{application_id}}/actions", status_code=202)
    async def action(
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

    @router.delete(f"{path}/{{application_id}}", status_code=204)
    async def erase(customer_id: str, application_id: str, client: Applications) -> Response:
        """Documents and personal data erased, the application's history deleted."""
        await client.erase(segment(customer_id), segment(application_id))
        return Response(status_code=204)

    return router
