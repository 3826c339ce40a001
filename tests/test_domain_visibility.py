"""Visibility queries are built with escaped literals."""

from domain.visibility import first, quoted, where


def test_where_joins_the_given_attributes_and_skips_none() -> None:
    assert where(WorkflowType="JobPostingWorkflow", CustomerId=None, JobStatus="LISTED") == (
        'WorkflowType = "JobPostingWorkflow" AND JobStatus = "LISTED"'
    )


def test_values_cannot_break_out_of_their_literal() -> None:
    assert quoted('acme" OR CustomerId = "x') == '"acme\\" OR CustomerId = \\"x"'
    assert quoted("back\\slash") == '"back\\\\slash"'


def test_first() -> None:
    assert first(["a"]) == "a" and first([]) is None and first(None) is None
