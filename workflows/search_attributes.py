"""Typed search attributes our workflows keep current, so operators can filter by them."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

CUSTOMER_ID = SearchAttributeKey.for_keyword("CustomerId")
INTEGRATION_TYPE = SearchAttributeKey.for_keyword("IntegrationType")
INTEGRATION_STATUS = SearchAttributeKey.for_keyword("IntegrationStatus")
EXTERNAL_JOB_POSTING_ID = SearchAttributeKey.for_keyword("ExternalJobPostingId")
JOB_LISTING_TYPE = SearchAttributeKey.for_keyword("JobListingType")
JOB_STATUS = SearchAttributeKey.for_keyword("JobStatus")

ALL: list[SearchAttributeKey[str]] = [
    CUSTOMER_ID,
    INTEGRATION_TYPE,
    INTEGRATION_STATUS,
    EXTERNAL_JOB_POSTING_ID,
    JOB_LISTING_TYPE,
    JOB_STATUS,
]
"""Register these on a cluster before starting workers (`linkedin-ats setup`)."""
