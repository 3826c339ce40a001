"""Activities of the customer-integration workflow: provision, enable, verify, P4P, app sync."""

from __future__ import annotations

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
    SETUP_HIRING_CONTRACT,
    SYNC_APPLICATION,
    VERIFY_INTEGRATIONS,
    EnableIntegrationRequest,
    ProvisionedCustomer,
    ProvisionRequest,
    SetUpHiringContract,
    SetupHiringContractRequest,
    SyncApplicationRequest,
    SyncedApplication,
    VerifiedIntegrations,
    VerifyIntegrationsRequest,
)
from domain.provisioning import ApplicationProfile, NewApplication
from linkedin import LinkedInClient, LinkedInConflictError


class IntegrationActivities:
    """Holds the shared LinkedIn client, the credential store and what every app carries."""

    def __init__(
        self,
        linkedin: LinkedInClient,
        store: CredentialStore,
        profile: ApplicationProfile | None = None,
    ) -> None:
        self._linkedin = linkedin
        self._store = store
        self._profile = profile or ApplicationProfile()

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
                stored = await self._store.get(request.customer_id)
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
            try:
                app, credentials = await self._linkedin.create_application(
                    _new_application(request, self._profile)
                )
            except LinkedInConflictError as error:
                # The customer's other integration workflows provision at the same moment
                # (a bundle starts several): one created the app; find it on the retry.
                raise ApplicationError(
                    f"{error.message}: created by another onboarding of this customer just "
                    "now; looking it up again",
                    type=FailureType.TRANSIENT,
                ) from None
        await self._store.save(request.customer_id, app.key, credentials)
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

    @activity.defn(name=SETUP_HIRING_CONTRACT)
    async def setup_hiring_contract(
        self, request: SetupHiringContractRequest
    ) -> SetUpHiringContract:
        """Activate the customer's app for a P4P contract (seed 002); repeating it is harmless."""
        creds = await customer_credentials(self._store, request.customer_id)
        async with linkedin_errors():
            contract = await self._linkedin.setup_hiring_contract(
                creds, request.partner_contract_id
            )
        activity_log(request.customer_id).info(
            "hiring_contract.set_up",
            partner_contract_id=request.partner_contract_id,
            contract=contract.contract,
        )
        return SetUpHiringContract(application_key=contract.application, contract=contract.contract)

    @activity.defn(name=SYNC_APPLICATION)
    async def sync_application(self, request: SyncApplicationRequest) -> SyncedApplication:
        """Bring the customer's app in line with the settings; no call when it is already."""
        logger = activity_log(request.customer_id)
        async with linkedin_errors():
            app = await self._linkedin.find_application(request.customer_id)
            if app is None:
                raise ApplicationError(
                    f"customer {request.customer_id} has no application at LinkedIn yet",
                    type=FailureType.NOT_FOUND,
                    non_retryable=True,
                )
            changes = self._profile.changes_for(app)
            if changes:
                await self._linkedin.update_application(app.key, changes)
        logger.info("application.synced", application_key=app.key, changed=sorted(changes))
        return SyncedApplication(changed=sorted(changes))


def _new_application(request: ProvisionRequest, profile: ApplicationProfile) -> NewApplication:
    """The child app LinkedIn will show on its consent screen: '{ATS} - {Customer}'.

    It carries the ATS's widget domains and callback URLs from settings, so LinkedIn
    loads the widget on the ATS's pages (seed 001).
    """
    try:
        return NewApplication(
            unique_foreign_id=request.customer_id,
            name=f"{request.ats_name} - {request.customer_name}"[:50],
            description=f"{request.ats_name} integration for {request.customer_name}",
            valid_js_sdk_domains=profile.valid_js_sdk_domains,
            oauth2_authorized_callback_urls=profile.oauth2_authorized_callback_urls,
        )
    except ValidationError as error:
        raise ApplicationError(
            f"cannot name the application: {error.errors()[0]['msg']}",
            type=FailureType.VALIDATION,
            non_retryable=True,
        ) from None
