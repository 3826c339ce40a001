"""One async client for every LinkedIn endpoint linkedin-ats uses.

Access tokens are cached per application and shared by all concurrent calls until
shortly before they expire; concurrent first calls make exactly one token request
(single flight). A 401 for an expired or unknown token is cured once with a fresh
token. Transient faults are raised, not retried here: callers (Temporal activities)
own the retry policy.
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections.abc import (
    AsyncGenerator,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar
from urllib.parse import quote, urlencode

import httpx
import structlog
from pydantic import SecretStr, ValidationError

from domain.integrations import IntegrationKey, IntegrationKeyError
from domain.job_postings import MAX_BATCH, JobPosting, JobPostingStatus, TaskStatus
from domain.p4p_reports import (
    MAX_REPORT_IDS,
    MAX_REPORT_PAGE,
    BudgetReport,
    DateRange,
    JobReportPage,
    JobReportsByIds,
)
from domain.provisioning import (
    AppCredentials,
    HiringContract,
    NewApplication,
    ProvisionedApplication,
    VerifiedIntegration,
)
from domain.validation import LINKEDIN_VERSION
from linkedin.errors import (
    LinkedInAuthError,
    LinkedInError,
    PermanentLinkedInError,
    TransientLinkedInError,
    UnexpectedAnswerError,
    classify,
    from_body,
    unexpected_answer,
)
from linkedin.tokens import StoredToken, TokenStore

log = structlog.get_logger("linkedin")

T = TypeVar("T")

MAX_QUERY_BYTES = 4096
"""LinkedIn rejects batch GETs whose query string is longer than this."""

EXPIRED_TOKEN_CODES = frozenset({65600, 65602})
"""401 serviceErrorCodes a fresh token cures: invalid (e.g. revoked) and expired."""

_REQUEST_ID_HEADERS = ("x-li-uuid", "x-li-request-id", "x-restli-id")

DEFAULT_API_VERSION = "202504"
"""The LinkedIn-Version LinkedIn's own Java SDK sends."""

VERSIONED_ONLY = frozenset(
    {"provisionedHiringContracts", "partnerJobReports", "partnerBudgetReports"}
)
"""Endpoints LinkedIn serves under /rest/ only."""

VERSIONED_JOBS = frozenset({"simpleJobPostings", "simpleJobPostingTasks"})
"""Under /rest/ by default, where LinkedIn's SDK calls them (LinkedIn announces the /v2
sunset); under /v2/, the seeds' paths, with `versioned_endpoints=False`. Everything else
(jobPostingStatus, provisionedApplications, atsIntegrations) stays on /v2/, where LinkedIn's
SDK and seeds call it."""

RESTLI_2 = frozenset(
    {
        "provisionedHiringContracts",
        "jobApplicationLifecycleActions",
        "partnerJobReports",
        "partnerBudgetReports",
    }
)
"""Called with X-Restli-Protocol-Version 2.0.0, as LinkedIn's SDK calls them (its P4P
client, whose report queries are Rest.li 2.0: `ids=List(a,b)`, `dateRange=(start:(…))`;
lifecycle actions as LinkedIn's Apply Connect collection sends them). Its job client sends
no protocol header: the task read's `ids=a&ids=b` is Rest.li 1.0 syntax, as is
atsIntegrations' `ids[0].integrationContext=` (seeds 000, 001)."""


@dataclass
class BatchResult(Generic[T]):
    """A batch GET's answer: LinkedIn reports each id's success or failure separately."""

    results: dict[str, T] = field(default_factory=dict)
    errors: dict[str, LinkedInError] = field(default_factory=dict)


@dataclass(frozen=True)
class TaskSubmission:
    """One job of a simpleJobPostings batch: a task id, or LinkedIn's per-item error."""

    external_job_posting_id: str
    task_id: str | None = None
    error: LinkedInError | None = None


class CallObserver(Protocol):
    """Told of every HTTP exchange with LinkedIn, for metrics. Sees no payloads."""

    def call(self, endpoint: str, method: str, outcome: str, seconds: float) -> None: ...

    def token_requested(self) -> None: ...


def outcome_of(status: int | None) -> str:
    """A low-cardinality label: '2xx', '4xx', '5xx', or 'network' for no answer."""
    return "network" if status is None else f"{status // 100}xx"


class _ApplicationAuth(httpx.Auth):
    """Bearer token of one application; a token LinkedIn refuses is renewed once."""

    def __init__(self, client: LinkedInClient, creds: AppCredentials, endpoint: str) -> None:
        self._client = client
        self._creds = creds
        self._endpoint = endpoint

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self._client.access_token(self._creds)
        request.headers["Authorization"] = f"Bearer {token.get_secret_value()}"
        response = yield request
        await response.aread()
        code = _code(_json(response))
        if response.status_code == 401 and code in EXPIRED_TOKEN_CODES:
            log.info("linkedin.token_rejected", endpoint=self._endpoint, code=code)
            self._client._forget_token(self._creds, token)
            token = await self._client.access_token(self._creds)
            request.headers["Authorization"] = f"Bearer {token.get_secret_value()}"
            yield request


class LinkedInClient:
    """Talks to LinkedIn (or the sandbox) for the partner and its customers' applications."""

    def __init__(
        self,
        *,
        api_url: str,
        oauth_url: str,
        partner: AppCredentials,
        http: httpx.AsyncClient | None = None,
        timeout: float = 30.0,
        token_refresh_margin: float = 60.0,
        clock: Callable[[], float] = time.time,
        observer: CallObserver | None = None,
        token_store: TokenStore | None = None,
        api_version: str = DEFAULT_API_VERSION,
        versioned_endpoints: bool = True,
    ) -> None:
        if not LINKEDIN_VERSION.match(api_version):
            raise ValueError(f"api_version: must be YYYYMM like 202504, got {api_version!r}")
        self._api_version = api_version
        self._versioned = VERSIONED_ONLY | (VERSIONED_JOBS if versioned_endpoints else set())
        self._api_url = api_url.rstrip("/")
        self._oauth_url = oauth_url.rstrip("/")
        self._partner = partner
        self._http = http or httpx.AsyncClient(timeout=timeout)
        self._owns_http = http is None
        self._margin = token_refresh_margin
        self._clock = clock
        self._tokens: dict[str, StoredToken] = {}
        self._token_store = token_store
        self._forgotten: dict[str, str] = {}
        """The last token LinkedIn refused per app: never taken back from the store."""
        self._token_locks: dict[str, asyncio.Lock] = {}
        self._observer = observer
        self.token_requests = 0
        """How many token requests this client has made (for tests and metrics)."""

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> LinkedInClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- tokens ---------------------------------------------------------------------------

    async def access_token(self, creds: AppCredentials) -> SecretStr:
        """A valid token for this application, requested only when none is cached."""
        cached = self._tokens.get(creds.client_id)
        if cached and cached.expires_at > self._clock():
            return cached.value
        lock = self._token_locks.setdefault(creds.client_id, asyncio.Lock())
        async with lock:
            cached = self._tokens.get(creds.client_id)
            if cached and cached.expires_at > self._clock():
                return cached.value
            stored = await self._stored_token(creds.client_id)
            if stored is not None:
                self._tokens[creds.client_id] = stored
                return stored.value
            token = await self._request_token(creds)
            self._tokens[creds.client_id] = token
            if self._token_store is not None:
                await self._token_store.save_token(creds.client_id, token)
            return token.value

    async def _stored_token(self, client_id: str) -> StoredToken | None:
        """The token another process (or this one before a restart) stored, if still good."""
        if self._token_store is None:
            return None
        stored = await self._token_store.get_token(client_id)
        if stored is None or stored.expires_at <= self._clock():
            return None
        forgotten = self._forgotten.get(client_id)
        if forgotten is not None and forgotten == stored.value.get_secret_value():
            return None  # the one LinkedIn just refused
        return stored

    def _forget_token(self, creds: AppCredentials, used: SecretStr) -> None:
        cached = self._tokens.get(creds.client_id)
        if cached and cached.value.get_secret_value() == used.get_secret_value():
            del self._tokens[creds.client_id]
        self._forgotten[creds.client_id] = used.get_secret_value()

    async def _request_token(self, creds: AppCredentials) -> StoredToken:
        self.token_requests += 1
        if self._observer is not None:
            self._observer.token_requested()
        form = urlencode(
            {
                "grant_type": "client_credentials",
                "client_id": creds.client_id,
                "client_secret": creds.client_secret.get_secret_value(),
            }
        )
        response = await self._send(
            "POST",
            f"{self._oauth_url}/oauth/v2/accessToken",
            endpoint="accessToken",
            content=form,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        body = _json(response)
        if response.status_code != 200:
            error = from_body(response.status_code, body, endpoint="accessToken")
            if response.status_code in (400, 401):
                raise LinkedInAuthError(error.message, status=error.status, endpoint="accessToken")
            raise error
        try:
            value = body["access_token"]
            lifetime = float(body["expires_in"])  # a number, or a string per the docs
            if not isinstance(value, str) or not value:
                raise TypeError
        except (KeyError, TypeError, ValueError):
            raise self._unexpected(
                "accessToken", "no access_token and expires_in", body, response.status_code
            ) from None
        log.info("linkedin.token", client_id=creds.client_id, expires_in=lifetime)
        return StoredToken(SecretStr(value), self._clock() + max(lifetime - self._margin, 0.0))

    # -- transport ------------------------------------------------------------------------

    async def _send(self, method: str, url: str, *, endpoint: str, **kw: Any) -> httpx.Response:
        started = time.perf_counter()
        status: int | None = None
        try:
            response = await self._http.request(method, url, **kw)
            status = response.status_code
        except httpx.TimeoutException as exc:
            log.warning("linkedin.timeout", endpoint=endpoint, error=type(exc).__name__)
            raise TransientLinkedInError(
                f"timed out ({type(exc).__name__})",
                endpoint=endpoint,
                never_sent=isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout),
            ) from None
        except httpx.TransportError as exc:
            log.warning("linkedin.transport_error", endpoint=endpoint, error=type(exc).__name__)
            raise TransientLinkedInError(
                f"connection failed ({type(exc).__name__}: {exc})",
                endpoint=endpoint,
                never_sent=isinstance(exc, httpx.ConnectError),
            ) from None
        finally:
            elapsed = time.perf_counter() - started
            if self._observer is not None:
                self._observer.call(endpoint, method, outcome_of(status), elapsed)
        log.debug(
            "linkedin.call",
            endpoint=endpoint,
            method=method,
            status=status,
            elapsed_ms=round(elapsed * 1000, 1),
            linkedin_request_id=_request_id(response),
        )
        return response

    def _path(self, endpoint: str, rest: str = "") -> str:
        """Where an endpoint lives: /rest/ (versioned) or /v2/."""
        prefix = "/rest/" if endpoint in self._versioned else "/v2/"
        return f"{prefix}{endpoint}{rest}"

    def _unexpected(
        self, endpoint: str, what: str, body: Any, status: int = 200
    ) -> UnexpectedAnswerError:
        error = unexpected_answer(what, body, endpoint=endpoint, status=status)
        log.error("linkedin.unexpected_answer", endpoint=endpoint, what=what, body=error.body)
        return error

    async def _call(
        self,
        method: str,
        endpoint: str,
        creds: AppCredentials,
        *,
        rest: str = "",
        query: str | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        answers_json: bool = True,
    ) -> Any:
        """An authorised API call (a refused token is renewed once); raises on non-2xx.

        Calls under /rest/ carry LinkedIn-Version; those LinkedIn's SDK makes in Rest.li
        2.0.0 (RESTLI_2) carry its protocol header too.
        A 2xx answer that is not a JSON object (when one is expected) is an
        UnexpectedAnswerError: permanent, with LinkedIn's body kept.
        """
        path = self._path(endpoint, rest)
        url = f"{self._api_url}{path}" + (f"?{query}" if query else "")
        all_headers = dict(headers or {})
        if path.startswith("/rest/"):
            all_headers["LinkedIn-Version"] = self._api_version
        if endpoint in RESTLI_2:
            all_headers["X-Restli-Protocol-Version"] = "2.0.0"
        response = await self._send(
            method,
            url,
            endpoint=endpoint,
            json=json,
            headers=all_headers,
            auth=_ApplicationAuth(self, creds, endpoint),
        )
        body = _json(response)
        if response.status_code >= 300:
            error = from_body(
                response.status_code,
                body,
                endpoint=endpoint,
                retry_after=_retry_after(response),
            )
            log.warning(
                "linkedin.error",
                endpoint=endpoint,
                status=error.status,
                code=error.service_error_code,
                message=error.message,
                linkedin_request_id=_request_id(response),
            )
            raise error
        if answers_json and not isinstance(body, dict):
            raise self._unexpected(endpoint, "not a JSON object", body, response.status_code)
        return body
        raise AssertionError("unreachable")  # pragma: no cover

    # -- provisioning (partner token) -----------------------------------------------------

    async def create_application(
        self, app: NewApplication
    ) -> tuple[ProvisionedApplication, AppCredentials]:
        """Create a customer's child application; LinkedIn answers its secret only now."""
        endpoint = "provisionedApplications"
        body = await self._call("POST", endpoint, self._partner, json=app.model_dump(by_alias=True))
        try:
            creds = body["credentials"]
            return (
                ProvisionedApplication(
                    key=body["key"],
                    client_id=creds["client_id"],
                    unique_foreign_id=app.unique_foreign_id,
                    name=app.name,
                    valid_js_sdk_domains=app.valid_js_sdk_domains,
                    oauth2_authorized_callback_urls=app.oauth2_authorized_callback_urls,
                ),
                AppCredentials(
                    client_id=creds["client_id"], client_secret=SecretStr(creds["client_secret"])
                ),
            )
        except (KeyError, TypeError, ValidationError):
            raise self._unexpected(endpoint, "no key and credentials", body) from None

    async def find_application(self, unique_foreign_id: str) -> ProvisionedApplication | None:
        """The child application provisioned for this foreign id, if any."""
        query = urlencode(
            {"q": "credentialsByUniqueForeignId", "uniqueForeignId": unique_foreign_id}
        )
        endpoint = "provisionedApplications"
        body = await self._call("GET", endpoint, self._partner, query=query)
        try:
            for element in body.get("elements", []):
                return ProvisionedApplication(
                    key=element["key"],
                    client_id=element["credentials"]["client_id"],
                    unique_foreign_id=element.get("uniqueForeignId"),
                    name=element.get("name"),
                    valid_js_sdk_domains=element.get("validJsSdkDomains") or [],
                    oauth2_authorized_callback_urls=element.get("oauth2AuthorizedCallbackUrls")
                    or [],
                )
        except (KeyError, TypeError, AttributeError, ValidationError):
            raise self._unexpected(endpoint, "an element without key or client_id", body) from None
        return None

    async def update_application(self, key: str, changes: Mapping[str, Any]) -> None:
        """Provisioning's update call: `$set` the given fields of a child application."""
        await self._call(
            "POST",
            "provisionedApplications",
            self._partner,
            rest=f"/{quote(key, safe='')}",
            json={"patch": {"$set": dict(changes)}},
            answers_json=False,
        )

    async def setup_hiring_contract(
        self, creds: AppCredentials, partner_contract_id: int
    ) -> HiringContract:
        """Activate a child application for P4P posting (provisionedHiringContracts)."""
        endpoint = "provisionedHiringContracts"
        body = await self._call(
            "POST",
            endpoint,
            creds,
            query="action=setup",
            json={"partnerContractId": partner_contract_id},
        )
        try:
            value = body["value"]
            return HiringContract(application=value["key"], contract=value["contract"])
        except (KeyError, TypeError, ValidationError):
            raise self._unexpected(endpoint, "no value with key and contract", body) from None

    # -- P4P reports (customer token) -----------------------------------------------------

    async def job_reports_by_date(
        self,
        creds: AppCredentials,
        date_range: DateRange,
        *,
        partner_contract_id: int | None = None,
        start: int = 0,
        count: int = MAX_REPORT_PAGE,
    ) -> JobReportPage:
        """One page of partnerJobReports by date range (P4PJobPostingClient.getP4PReportsByDate)."""
        if not 1 <= count <= MAX_REPORT_PAGE or start < 0:
            raise ValueError(f"count: 1 to {MAX_REPORT_PAGE}, start: 0 or more")
        query = f"q=dateRange&dateRange={date_range.render()}"
        if partner_contract_id is not None:
            query += f"&partnerContractId={partner_contract_id}"
        query += f"&start={start}&count={count}"
        endpoint = "partnerJobReports"
        body = await self._call("GET", endpoint, creds, query=query)
        try:
            return JobReportPage.model_validate(body)
        except ValidationError:
            raise self._unexpected(endpoint, "a page we cannot read", body) from None

    async def job_reports_by_ids(
        self,
        creds: AppCredentials,
        ids: Sequence[str],
        date_range: DateRange,
        *,
        partner_contract_id: int | None = None,
    ) -> JobReportsByIds:
        """partnerJobReports of up to MAX_REPORT_IDS jobs by externalJobPostingId
        (P4PJobPostingClient.getP4PReportByIds); each id's error comes back as its own."""
        if not 1 <= len(ids) <= MAX_REPORT_IDS:
            raise ValueError(f"ids: 1 to {MAX_REPORT_IDS}")
        listed = ",".join(quote(i, safe="") for i in ids)
        query = f"ids=List({listed})&dateRange={date_range.render()}"
        if partner_contract_id is not None:
            query += f"&partnerContractId={partner_contract_id}"
        endpoint = "partnerJobReports"
        body = await self._call("GET", endpoint, creds, query=query)
        try:
            return JobReportsByIds.model_validate(body)
        except ValidationError:
            raise self._unexpected(endpoint, "results or errors we cannot read", body) from None

    async def budget_report(self, creds: AppCredentials, partner_contract_id: int) -> BudgetReport:
        """partnerBudgetReports of one P4P contract (getPartnerBudgetReports)."""
        endpoint = "partnerBudgetReports"
        body = await self._call(
            "GET", endpoint, creds, query=f"partnerContractId={partner_contract_id}"
        )
        try:
            return BudgetReport.model_validate(body)
        except ValidationError:
            raise self._unexpected(endpoint, "a budget report we cannot read", body) from None

    # -- atsIntegrations (customer token) -------------------------------------------------

    async def enable_integrations(
        self, creds: AppCredentials, names: Mapping[IntegrationKey, str]
    ) -> dict[IntegrationKey, LinkedInError | None]:
        """Enable integrations; each key maps to None (enabled) or LinkedIn's per-key error.

        Whole-request refusals (already enabled, key mismatch, bad token) are raised.
        """
        keys = list(names)
        body = await self._call(
            "POST",
            "atsIntegrations",
            creds,
            query=_ids_query(keys),
            json={
                "entities": {
                    key.render(): {"patch": {"$set": {"integrationName": name}}}
                    for key, name in names.items()
                }
            },
            headers={"x-restli-method": "batch_partial_update"},
        )
        endpoint = "atsIntegrations"
        outcome: dict[IntegrationKey, LinkedInError | None] = {}
        for key, item in _by_key(body.get("results"), keys).items():
            status = item.get("status", 204) if isinstance(item, dict) else 204
            outcome[key] = None if status < 300 else _item_error(item, endpoint)
        for key, item in _by_key(body.get("errors"), keys).items():
            outcome[key] = _item_error(item, endpoint)
        for key in keys:
            outcome.setdefault(
                key,
                classify(
                    404, "No result for this key in LinkedIn's answer", endpoint="atsIntegrations"
                ),
            )
        return outcome

    async def enable_integration(
        self, creds: AppCredentials, key: IntegrationKey, name: str
    ) -> None:
        """Enable one integration, raising LinkedIn's error for it if any."""
        error = (await self.enable_integrations(creds, {key: name}))[key]
        if error is not None:
            raise error

    async def register_callback_url(
        self, creds: AppCredentials, key: IntegrationKey, url: str
    ) -> None:
        """Set the customer's CALLBACK_URL configuration on an integration (linkedin-inbound
        §5, PM-RSC): where LinkedIn pushes the customer's events. A PUT: repeating it is
        harmless."""
        await self._call(
            "PUT",
            "atsIntegrations",
            creds,
            rest=f"/{key.render()}/configurations",
            query="ids=CALLBACK_URL",
            json={"entities": {"CALLBACK_URL": {"configurationValue": {"string": url}}}},
            headers={"x-restli-method": "batch_update"},
        )

    async def verify_integrations(
        self, creds: AppCredentials, keys: Sequence[IntegrationKey]
    ) -> dict[IntegrationKey, VerifiedIntegration]:
        """Each requested key's status; a key the customer never requested is absent."""
        endpoint = "atsIntegrations"
        body = await self._call("GET", endpoint, creds, query=_ids_query(keys))
        errors = _by_key(body.get("errors"), keys)
        for item in errors.values():
            raise _item_error(item, endpoint)
        try:
            return {
                key: VerifiedIntegration.model_validate(item)
                for key, item in _by_key(body.get("results"), keys).items()
            }
        except ValidationError:
            raise self._unexpected(endpoint, "a result without onboardingStatus", body) from None

    async def integration_request(self, creds: AppCredentials, request_id: str) -> Any:
        """The follow-up of an integration status push (§5): what LinkedIn says the push's
        request was, with the customer's token. Its shape is not documented: the caller
        reads it tolerantly (`domain.linkedin_events.integration_request_read`)."""
        return await self._call(
            "GET",
            "atsIntegrations",
            creds,
            query=f"q=request&requestId={quote(request_id, safe='')}",
        )

    # -- Apply Connect (customer token) ---------------------------------------------------

    async def download_document(
        self, creds: AppCredentials, url: str, max_bytes: int
    ) -> tuple[bytes, str]:
        """A resume or cover letter from LinkedIn's media store (ambry), with the customer's
        token: (content, content type). Only LinkedIn's own hosts are sent the token; a
        document over `max_bytes` is refused, unread beyond that."""
        endpoint = "ambry"
        try:
            origin = _origin(url)
        except httpx.InvalidURL:
            origin = None
        if origin not in {_origin(self._api_url), _origin(self._oauth_url)}:
            raise PermanentLinkedInError(
                "the document URL is not on LinkedIn's hosts: the token is not sent there",
                endpoint=endpoint,
            )
        token = await self.access_token(creds)
        for attempt in range(2):
            status, content, response = await self._stream(url, token, max_bytes)
            if status != 401 or attempt == 1:
                break
            self._forget_token(creds, token)  # expired or revoked: one fresh token
            token = await self.access_token(creds)
        if status >= 300:
            raise from_body(
                status,
                _json(response),
                endpoint=endpoint,
                retry_after=_retry_after(response),
            )
        kind = response.headers.get("content-type", "application/octet-stream").split(";")[0]
        return content, kind[:100]

    async def _stream(
        self, url: str, token: SecretStr, max_bytes: int
    ) -> tuple[int, bytes, httpx.Response]:
        """GET url with the token, reading at most max_bytes of a 2xx body."""
        endpoint = "ambry"
        started = time.perf_counter()
        status: int | None = None
        headers = {"Authorization": f"Bearer {token.get_secret_value()}"}
        try:
            request = self._http.build_request("GET", url, headers=headers)
            response = await self._http.send(request, stream=True)
            status = response.status_code
            content = b""
            try:
                if status < 300:
                    async for chunk in response.aiter_bytes():
                        content += chunk
                        if len(content) > max_bytes:
                            raise PermanentLinkedInError(
                                f"the document is over {max_bytes} bytes",
                                status=status,
                                endpoint=endpoint,
                            )
                else:
                    await response.aread()
            finally:
                await response.aclose()
        except httpx.TimeoutException as exc:
            raise TransientLinkedInError(
                f"timed out ({type(exc).__name__})", endpoint=endpoint
            ) from None
        except httpx.TransportError as exc:
            raise TransientLinkedInError(
                f"connection failed ({type(exc).__name__})", endpoint=endpoint
            ) from None
        finally:
            if self._observer is not None:
                self._observer.call(
                    endpoint, "GET", outcome_of(status), time.perf_counter() - started
                )
        return status, content, response

    async def send_lifecycle_action(
        self,
        creds: AppCredentials,
        job_application_id: str,
        action: str,
        performed_at_ms: int,
        integration_context: str | None = None,
    ) -> None:
        """One jobApplicationLifecycleActions create: one occurrence of one action."""
        body: dict[str, Any] = {
            "jobApplicationId": job_application_id,
            "action": action,
            "performedAt": performed_at_ms,
        }
        if integration_context:
            body["integrationContext"] = integration_context
        await self._call(
            "POST",
            "jobApplicationLifecycleActions",
            creds,
            json=body,
            headers={"x-restli-method": "create"},
            answers_json=False,
        )

    # -- jobs (customer token) ------------------------------------------------------------

    async def submit_jobs(
        self, creds: AppCredentials, jobs: Sequence[JobPosting]
    ) -> list[TaskSubmission]:
        """Submit jobs in as many batch_create calls as LinkedIn's rules need.

        Batches hold at most 100 jobs and never two operations on one
        externalJobPostingId; answers come back in input order, one per job.
        """
        submissions: list[TaskSubmission] = []
        for batch in _job_batches(jobs):
            endpoint = "simpleJobPostings"
            body = await self._call(
                "POST",
                endpoint,
                creds,
                json={"elements": [job.to_wire() for job in batch]},
                headers={"x-restli-method": "batch_create"},
            )
            elements = body.get("elements")
            if not isinstance(elements, list) or len(elements) != len(batch):
                count = len(elements) if isinstance(elements, list) else "no"
                raise self._unexpected(endpoint, f"{count} elements for {len(batch)} jobs", body)
            for job, element in zip(batch, elements, strict=True):
                submission = _submission(job.external_job_posting_id, element)
                if submission is None:
                    raise self._unexpected(endpoint, "an element with neither id nor error", body)
                submissions.append(submission)
        return submissions

    async def get_tasks(
        self, creds: AppCredentials, task_ids: Sequence[str]
    ) -> BatchResult[TaskStatus]:
        return await self._batch_get(creds, "simpleJobPostingTasks", task_ids, TaskStatus)

    async def get_job_statuses(
        self, creds: AppCredentials, external_ids: Sequence[str]
    ) -> BatchResult[JobPostingStatus]:
        return await self._batch_get(creds, "jobPostingStatus", external_ids, JobPostingStatus)

    async def _batch_get(
        self,
        creds: AppCredentials,
        endpoint: str,
        ids: Sequence[str],
        model: type[Any],
    ) -> BatchResult[Any]:
        """A batch GET; an entry we cannot read becomes that id's error, not the batch's."""
        result: BatchResult[Any] = BatchResult()
        for chunk in _query_chunks(ids):
            body = await self._call(
                "GET", endpoint, creds, query=urlencode([("ids", i) for i in chunk])
            )
            results, errors = body.get("results") or {}, body.get("errors") or {}
            if not isinstance(results, dict) or not isinstance(errors, dict):
                raise self._unexpected(endpoint, "results or errors not a map", body)
            for key, item in results.items():
                try:
                    result.results[str(key)] = model.model_validate(item)
                except ValidationError as exc:
                    result.errors[str(key)] = self._unexpected(
                        endpoint, f"{exc.error_count()} unreadable fields for {key}", item
                    )
            for key, item in errors.items():
                result.errors[str(key)] = _item_error(item, endpoint)
        return result


# -- helpers ------------------------------------------------------------------------------


def _origin(url: str) -> tuple[str, str, int | None]:
    parsed = httpx.URL(url)
    return parsed.scheme, parsed.host, parsed.port


def _json(response: httpx.Response) -> Any:
    """The answer's JSON; {} when empty; its text when it is not JSON (kept for reports)."""
    if not response.content:
        return {}
    try:
        return response.json()
    except ValueError:
        return response.text


def _code(body: Any) -> int | None:
    code = body.get("serviceErrorCode") if isinstance(body, dict) else None
    return code if isinstance(code, int) else None


def _request_id(response: httpx.Response) -> str | None:
    for name in _REQUEST_ID_HEADERS:
        if name in response.headers:
            return response.headers[name]
    return None


def _retry_after(response: httpx.Response) -> float | None:
    """Retry-After in seconds, from either of its two forms."""
    raw = response.headers.get("retry-after")
    if raw is None:
        return None
    try:
        return max(float(raw), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


def _item_error(item: Any, endpoint: str) -> LinkedInError:
    """A per-item failure inside a 200 answer, in any of the shapes LinkedIn uses."""
    if isinstance(item, dict) and isinstance(item.get("error"), dict):
        item = {**item["error"], "status": item["error"].get("status", item.get("status"))}
    status = item.get("status", 400) if isinstance(item, dict) else 400
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        status = 400
    return from_body(status, item, endpoint=endpoint)


def _submission(external_id: str, element: Any) -> TaskSubmission | None:
    """One batch_create element's outcome; None when it holds neither a task nor an error."""
    if not isinstance(element, dict):
        return None
    status = element.get("status", 202)
    if "error" in element or (isinstance(status, int) and status >= 300):
        return TaskSubmission(external_id, error=_item_error(element, "simpleJobPostings"))
    task_id = element.get("id")
    return TaskSubmission(external_id, task_id=task_id) if isinstance(task_id, str) else None


def _ids_query(keys: Iterable[IntegrationKey]) -> str:
    params: list[tuple[str, str]] = []
    for index, key in enumerate(keys):
        params.extend(key.query_params(index))
    return urlencode(params)


def _by_key(section: Any, keys: Sequence[IntegrationKey]) -> dict[IntegrationKey, Any]:
    """Match LinkedIn's answer keys (any part order, maybe percent-encoded) to ours."""
    matched: dict[IntegrationKey, Any] = {}
    if not isinstance(section, dict):
        return matched
    wanted = set(keys)
    for raw, item in section.items():
        try:
            key = IntegrationKey.parse(raw)
        except (IntegrationKeyError, ValidationError):
            continue
        if key in wanted:
            matched[key] = item
    return matched


def _job_batches(jobs: Sequence[JobPosting]) -> Iterator[list[JobPosting]]:
    """Split in order into batches of at most 100 with no repeated externalJobPostingId."""
    batch: list[JobPosting] = []
    seen: set[str] = set()
    for job in jobs:
        if len(batch) == MAX_BATCH or job.external_job_posting_id in seen:
            yield batch
            batch, seen = [], set()
        batch.append(job)
        seen.add(job.external_job_posting_id)
    if batch:
        yield batch


def _query_chunks(ids: Sequence[str]) -> Iterator[list[str]]:
    """Split ids so each GET's query stays under LinkedIn's 4 KB and 100 ids."""
    chunk: list[str] = []
    size = 0
    for value in ids:
        cost = len(urlencode([("ids", value)])) + 1
        if chunk and (size + cost > MAX_QUERY_BYTES or len(chunk) == MAX_BATCH):
            yield chunk
            chunk, size = [], 0
        chunk.append(value)
        size += cost
    if chunk:
        yield chunk
