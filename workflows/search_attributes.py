"""Typed search attributes our workflows keep current, so operators can filter by them."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

CUSTOMER_ID = SearchAttributeKey.for_keyword("CustomerId")
INTEGRATION_TYPE = SearchAttributeKey.for_keyword("IntegrationType")
INTEGRATION_STATUS = SearchAttributeKey.for_keyword("IntegrationStatus")

ALL: list[SearchAttributeKey[str]] = [CUSTOMER_ID, INTEGRATION_TYPE, INTEGRATION_STATUS]
"""Register these on a cluster before starting workers (`linkedin-ats setup`)."""
