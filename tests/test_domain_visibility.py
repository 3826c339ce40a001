"""Visibility queries never hold a quote or backslash; such values are matched exactly."""

from domain.visibility import first, where


def test_where_joins_the_given_attributes_and_skips_none() -> None:
    listing = where(WorkflowType="JobPostingWorkflow", CustomerId=None, JobStatus="LISTED")
    assert listing.query == 'WorkflowType = "JobPostingWorkflow" AND JobStatus = "LISTED"'
    assert listing.exact == {}


def test_values_never_enter_a_literal_with_a_quote_or_backslash() -> None:
    listing = where(WorkflowType="W", CustomerId='acme" OR CustomerId = "x')
    assert listing.query == 'WorkflowType = "W" AND CustomerId STARTS_WITH "acme"'
    assert listing.admits({"CustomerId": ['acme" OR CustomerId = "x']})
    assert not listing.admits({"CustomerId": ["acme"]})
    assert where(CustomerId="\\back").query == ""  # nothing safe to narrow by: checked after
    assert where(CustomerId="it's").query == 'CustomerId STARTS_WITH "it"'


def test_first() -> None:
    assert first(["a"]) == "a" and first([]) is None and first(None) is None
