"""Activities of the customer-integration workflow: provision, enable, verify."""

from __future__ import annotations

import asyncio

from pydantic import ValidationError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.credentials import CredentialStore, customer_credentials
from activities.errors import linkedin_errors
from activities.logs import activity_log
from domain.errors import FailureType
from domain.onboarding import (
    ENABLE_INTEGRATION,
    PROVISION_CUSTOMER,
    VERIFY_INTEGRATIONS,
    EnableIntegrationRequest,
    ProvisionedCustomer,
    ProvisionRequest,
    VerifiedIntegrations,
    VerifyIntegrationsRequest,
)
from domain.provisioning import NewApplication
from linkedin import LinkedInClient


class IntegrationActivities:
    """Holds the shared LinkedIn client and the credential store."""

    def __init__(self, linkedin: LinkedInClient, store: CredentialStore) -> None:
        self._linkedin = linkedin
        self._store = store

    @activity.defn(name=PROVISION_CUSTOMER)
    async def provision_customer(self, request: ProvisionRequest) -> ProvisionedCustomer:
        """Make sure the customer has a child application, creating it at most once.

        The uniqueForeignId is the customer id, so an app created by an earlier attempt
        is found, not created again. Its secret goes to the credential store only.
        """
        logger = activity_log(request.customer_id)
        async with linkedin_errors():
            existing = await self._linkedin.find_application(request.customer_id)
            if existing is not None:
                stored = await asyncio.to_thread(self._store.get, request.customer_id)
                if stored is None or stored.credentials.client_id != existing.client_id:
                    raise ApplicationError(
                        f"customer {request.customer_id} has application {existing.key} at "
                        "LinkedIn but its secret is not in the credential store; restore it "
                        "or have LinkedIn reset it, then signal retry",
                        type=FailureType.CREDENTIALS_MISSING,
                        non_retryable=True,
                    )
                logger.info("provision.found", client_id=existing.client_id)
                return ProvisionedCustomer(
                    client_id=existing.client_id, application_key=existing.key, created=False
                )
            app, credentials = await self._linkedin.create_application(_new_application(request))
        await asyncio.to_thread(self._store.save, request.customer_id, app.key, credentials)
        logger.info("provision.created", client_id=app.client_id, application_key=app.key)
        return ProvisionedCustomer(client_id=app.client_id, application_key=app.key, created=True)

    @activity.defn(name=ENABLE_INTEGRATION)
    async def enable_integration(self, request: EnableIntegrationRequest) -> None:
        creds = await customer_credentials(self._store, request.customer_id)
        activity_log(request.customer_id).info(
            "integration.enable", integration_context=request.key.integration_context
        )
        async with linkedin_errors():
            await self._linkedin.enable_integration(creds, request.key, request.integration_name)

    @activity.defn(name=VERIFY_INTEGRATIONS)
    async def verify_integrations(self, request: VerifyIntegrationsRequest) -> VerifiedIntegrations:
        creds = await customer_credentials(self._store, request.customer_id)
        async with linkedin_errors():
            answer = await self._linkedin.verify_integrations(creds, request.keys)
        statuses = {
            key.integration_context: (answer[key].onboarding_status if key in answer else None)
            for key in request.keys
        }
        return VerifiedIntegrations(statuses=statuses)


def _new_application(request: ProvisionRequest) -> NewApplication:
    """The child app LinkedIn will show on its consent screen: '{ATS} - {Customer}'."""
    try:
        return NewApplication(
            unique_foreign_id=request.customer_id,
            name=f"{request.ats_name} - {request.customer_name}"[:50],
            description=f"{request.ats_name} integration for {request.customer_name}",
        )
    except ValidationError as error:
        raise ApplicationError(
            f"cannot name the application: {error.errors()[0]['msg']}",
            type=FailureType.VALIDATION,
            non_retryable=True,
        ) from None
