"""Activities of the customer-integration workflow: provision, enable, verify, P4P, app sync."""

from __future__ import annotations

from pydantic import ValidationError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.credentials import CredentialStore, StoredCredentials, customer_credentials
from activities.errors import linkedin_errors
from activities.heartbeats import heartbeating
from activities.logs import activity_log
from domain.errors import FailureType
from domain.integration_workflow import (
    ENABLE_INTEGRATION,
    MAX_APP_ATTEMPTS,
    PROVISION_CUSTOMER,
    RETIRE_APPLICATION,
    SETUP_HIRING_CONTRACT,
    SYNC_APPLICATION,
    VERIFY_INTEGRATIONS,
    EnableIntegrationRequest,
    ProvisionedCustomer,
    ProvisionRequest,
    RetireApplicationRequest,
    SetUpHiringContract,
    SetupHiringContractRequest,
    SyncApplicationRequest,
    SyncedApplication,
    VerifiedIntegrations,
    VerifyIntegrationsRequest,
    application_foreign_id,
)
from domain.integrations import CALLBACK_URL_TYPES, events_url
from domain.provisioning import ApplicationProfile, NewApplication, ProvisionedApplication
from linkedin import LinkedInClient, LinkedInConflictError


class IntegrationActivities:
    """Holds the shared LinkedIn client, the credential store and what every app carries."""

    def __init__(
        self,
        linkedin: LinkedInClient,
        store: CredentialStore,
        profile: ApplicationProfile | None = None,
        events_base_url: str | None = None,
    ) -> None:
        self._linkedin = linkedin
        self._store = store
        self._profile = profile or ApplicationProfile()
        self._events_base_url = events_base_url
        """Our door's public base: a CALLBACK_URL type's enable registers the customer's."""

    @activity.defn(name=PROVISION_CUSTOMER)
    @heartbeating
    async def provision_customer(self, request: ProvisionRequest) -> ProvisionedCustomer:
        """Find the customer's child application, or create it under the uniqueForeignId given.

        The app whose secret the store holds is the customer's, whichever uniqueForeignId
        it has. Else LinkedIn is asked for the app under the uniqueForeignId: none, and
        `create` asked for it, it is created and its secret goes to the store only; one the
        store has no secret for is answered as `unstored_key`, for the workflow to judge.
        """
        foreign_id = request.unique_foreign_id or request.customer_id
        logger = activity_log(request.customer_id)
        stored = await self._store.get(request.customer_id)
        if stored is not None:
            return _stored(stored)
        async with linkedin_errors():
            existing = await self._linkedin.find_application(foreign_id)
            if existing is None and request.create:
                try:
                    app, credentials = await self._linkedin.create_application(
                        _new_application(request, self._profile)
                    )
                except LinkedInConflictError as error:
                    raise _created_meanwhile(error) from None
                await self._store.save(request.customer_id, app.key, credentials)
                logger.info("provision.created", client_id=app.client_id, application_key=app.key)
                return ProvisionedCustomer(client_id=app.client_id, application_key=app.key)
        if existing is None:
            return ProvisionedCustomer(client_id=None, application_key=None)
        stored = await self._store.get(request.customer_id)
        if stored is not None:  # stored by another workflow of the customer just now
            return _stored(stored)
        logger.warning("provision.unstored", application_key=existing.key)
        return ProvisionedCustomer(client_id=None, application_key=None, unstored_key=existing.key)

    @activity.defn(name=RETIRE_APPLICATION)
    @heartbeating
    async def retire_application(self, request: RetireApplicationRequest) -> None:
        """Mark an app whose secret was lost as retired, and stop the widget loading with it.

        LinkedIn's provisioning API can neither delete an app nor reissue its secret: the
        update call renames it, points at its replacement and clears its widget domains.
        """
        stored = await self._store.get(request.customer_id)
        if stored is not None and stored.application_key == request.application_key:
            return  # its secret was stored after all: it is the customer's app
        name = f"{request.ats_name} - {request.customer_name}"[: 50 - len(RETIRED)] + RETIRED
        async with linkedin_errors():
            await self._linkedin.update_application(
                request.application_key,
                {
                    "name": name,
                    "description": f"Retired: replaced by uniqueForeignId {request.replaced_by}",
                    "validJsSdkDomains": [],
                    "oauth2AuthorizedCallbackUrls": [],
                },
            )
        activity_log(request.customer_id).info(
            "provision.retired",
            application_key=request.application_key,
            replaced_by=request.replaced_by,
        )

    async def _customers_app(self, customer_id: str) -> ProvisionedApplication | None:
        """The app whose secret the store holds, under whichever uniqueForeignId it has
        (a replacement's ends in #2, #3...), else the one under the customer id."""
        stored = await self._store.get(customer_id)
        first = await self._linkedin.find_application(customer_id)
        if stored is None or first is None or first.key == stored.application_key:
            return first
        for attempt in range(2, MAX_APP_ATTEMPTS + 1):
            app = await self._linkedin.find_application(
                application_foreign_id(customer_id, attempt)
            )
            if app is None or app.key == stored.application_key:
                return app
        return None

    @activity.defn(name=ENABLE_INTEGRATION)
    @heartbeating
    async def enable_integration(self, request: EnableIntegrationRequest) -> None:
        creds = await customer_credentials(self._store, request.customer_id)
        activity_log(request.customer_id).info(
            "integration.enable", integration_context=request.key.integration_context
        )
        async with linkedin_errors():
            if request.key.integration_type in CALLBACK_URL_TYPES and self._events_base_url:
                # First: once enabled, LinkedIn may push at once; a PUT again is harmless.
                url = events_url(self._events_base_url, request.customer_id)
                await self._linkedin.register_callback_url(creds, request.key, url)
                activity_log(request.customer_id).info("integration.callback_url", url=url)
            await self._linkedin.enable_integration(creds, request.key, request.integration_name)

    @activity.defn(name=VERIFY_INTEGRATIONS)
    @heartbeating
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
    @heartbeating
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
    @heartbeating
    async def sync_application(self, request: SyncApplicationRequest) -> SyncedApplication:
        """Bring the customer's app in line with the settings; no call when it is already."""
        logger = activity_log(request.customer_id)
        async with linkedin_errors():
            app = await self._customers_app(request.customer_id)
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


RETIRED = " (retired)"


def _stored(stored: StoredCredentials) -> ProvisionedCustomer:
    return ProvisionedCustomer(
        client_id=stored.credentials.client_id,
        application_key=stored.application_key,
    )


def _created_meanwhile(error: LinkedInConflictError) -> ApplicationError:
    """The customer's other integration workflows provision at the same moment (a bundle
    starts several): one created the app; the retry finds it."""
    return ApplicationError(
        f"{error.message}: created by another onboarding of this customer just now; "
        "looking it up again",
        type=FailureType.TRANSIENT,
    )


def _new_application(request: ProvisionRequest, profile: ApplicationProfile) -> NewApplication:
    """The child app LinkedIn will show on its consent screen: '{ATS} - {Customer}'.

    It carries the ATS's widget domains and callback URLs from settings, so LinkedIn
    loads the widget on the ATS's pages (seed 001).
    """
    try:
        return NewApplication(
            unique_foreign_id=request.unique_foreign_id or request.customer_id,
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
