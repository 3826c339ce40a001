"""Typed search attributes our workflows keep current, so operators can filter by them."""

from __future__ import annotations

from typing import Any

from temporalio.common import SearchAttributeKey

from domain.job_workflow import WAKE_AT_ATTRIBUTE

CUSTOMER_ID = SearchAttributeKey.for_keyword("CustomerId")
INTEGRATION_TYPE = SearchAttributeKey.for_keyword("IntegrationType")
INTEGRATION_STATUS = SearchAttributeKey.for_keyword("IntegrationStatus")
EXTERNAL_JOB_POSTING_ID = SearchAttributeKey.for_keyword("ExternalJobPostingId")
JOB_LISTING_TYPE = SearchAttributeKey.for_keyword("JobListingType")
JOB_STATUS = SearchAttributeKey.for_keyword("JobStatus")
JOB_WAKE_AT = SearchAttributeKey.for_datetime(WAKE_AT_ATTRIBUTE)
LINKEDIN_EVENT_TYPE = SearchAttributeKey.for_keyword("LinkedInEventType")
LINKEDIN_EVENT_OUTCOME = SearchAttributeKey.for_keyword("LinkedInEventOutcome")

ALL: list[SearchAttributeKey[Any]] = [
    CUSTOMER_ID,
    INTEGRATION_TYPE,
    INTEGRATION_STATUS,
    EXTERNAL_JOB_POSTING_ID,
    JOB_LISTING_TYPE,
    JOB_STATUS,
    JOB_WAKE_AT,
    LINKEDIN_EVENT_TYPE,
    LINKEDIN_EVENT_OUTCOME,
]
"""Register these on a cluster before starting workers (`linkedin-ats setup`)."""
