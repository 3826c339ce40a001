"""Apply Connect's side effects: documents from LinkedIn into the encrypted store, their
erasure, and lifecycle actions sent to LinkedIn.

A download or an action is retried by Temporal on transient faults (network, 429, 5xx);
a refusal (an expired or foreign media URL, a 4xx for an action) is permanent and said.
Nothing here logs a document, an answer or a contact: only ids and sizes.
"""

from __future__ import annotations

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.credentials import CredentialStore
from activities.errors import linkedin_errors
from domain.applications import (
    DOCUMENT_LIMITS,
    ERASE_DOCUMENTS,
    FETCH_DOCUMENTS,
    SEND_LIFECYCLE_ACTION,
    DocumentStore,
    EraseDocuments,
    FetchDocuments,
    SendAction,
    StoredDocument,
)
from domain.errors import FailureType
from domain.provisioning import AppCredentials
from linkedin import LinkedInClient

log = structlog.get_logger("applications")


class ApplicationActivities:
    def __init__(
        self, linkedin: LinkedInClient, store: CredentialStore, documents: DocumentStore
    ) -> None:
        self._linkedin = linkedin
        self._store = store
        self._documents = documents

    async def _credentials(self, customer_id: str) -> AppCredentials:
        stored = await self._store.get(customer_id)
        if stored is None:
            raise ApplicationError(
                f"no credentials for customer {customer_id}: its documents cannot be fetched",
                type=str(FailureType.CREDENTIALS_MISSING),
                non_retryable=True,
            )
        return stored.credentials

    @activity.defn(name=FETCH_DOCUMENTS)
    async def fetch_application_documents(self, request: FetchDocuments) -> list[StoredDocument]:
        """Each document downloaded with the child token and sealed at rest; one already
        stored (an earlier attempt) is not fetched again."""
        creds = await self._credentials(request.customer_id)
        stored = []
        for document in request.documents:
            kept = await self._documents.get(request.customer_id, request.key, document.kind)
            if kept is not None:
                stored.append(kept[1])
                continue
            async with linkedin_errors():
                content, content_type = await self._linkedin.download_document(
                    creds, document.url, DOCUMENT_LIMITS[document.kind]
                )
            saved = await self._documents.put(
                request.customer_id, request.key, document.kind, content, content_type
            )
            log.info(
                "application.document_stored",
                customer_id=request.customer_id,
                application=request.key,
                kind=str(document.kind),
                size=saved.size,
            )
            stored.append(saved)
        return stored

    @activity.defn(name=ERASE_DOCUMENTS)
    async def erase_application_documents(self, request: EraseDocuments) -> int:
        erased = await self._documents.erase(request.customer_id, request.key)
        log.info(
            "application.erased",
            customer_id=request.customer_id,
            application=request.key,
            documents=erased,
        )
        return erased

    @activity.defn(name=SEND_LIFECYCLE_ACTION)
    async def send_lifecycle_action(self, request: SendAction) -> None:
        creds = await self._credentials(request.customer_id)
        async with linkedin_errors():
            await self._linkedin.send_lifecycle_action(
                creds, request.job_application_id, str(request.action), request.performed_at_ms
            )
        log.info(
            "application.action_sent",
            customer_id=request.customer_id,
            job_application_id=request.job_application_id,
            action=str(request.action),
        )
