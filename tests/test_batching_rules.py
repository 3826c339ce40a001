"""When the batcher sends a call it is gathering: the rules alone, on made-up times.

On a busy lane an ask waits for company within its latency budget, judged by what is
waiting and the lane's usual gap between asks: it goes at its budget while others keep
coming, at once when none is expected before then, and a few usual gaps after the last
ask when a burst has ended. No fixed idle gap decides (issue 22)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from activities.batching import BatchTiming
from activities.rate_limits import JOB_SUBMISSIONS, STATUS_READS, TASK_READS
from settings import Settings

TIMING = BatchTiming(
    gather_seconds=0.002, budget_seconds=2.0, read_budget_seconds=0.25, patience=10
)


@pytest.mark.parametrize("endpoint", [JOB_SUBMISSIONS, TASK_READS, STATUS_READS])
def test_an_ask_on_an_idle_lane_goes_after_the_gather_whatever_joins_it(endpoint: str) -> None:
    for last_ask in (10.0, 10.001):
        sends = TIMING.sends_at(
            endpoint, busy=False, first_ask=10.0, last_ask=last_ask, usual_gap=0.1
        )
        assert sends == pytest.approx(10.002)


def test_a_steady_stream_waits_its_budget_through_pauses_a_fixed_gap_would_cut() -> None:
    """10 asks a second: a Poisson pause of 400 ms after an ask at 10.5 s sent the old
    200 ms quiet gap's call at 10.7 s; now the call is still gathering then, and goes at
    the budget, 2 s after its first ask."""
    paused = TIMING.sends_at(
        JOB_SUBMISSIONS, busy=True, first_ask=10.0, last_ask=10.5, usual_gap=0.1
    )
    assert paused > 10.9
    steady = TIMING.sends_at(
        JOB_SUBMISSIONS, busy=True, first_ask=10.0, last_ask=11.5, usual_gap=0.1
    )
    assert steady == pytest.approx(12.0)


def test_a_burst_that_ended_goes_a_few_usual_gaps_after_its_last_ask() -> None:
    sends = TIMING.sends_at(
        JOB_SUBMISSIONS, busy=True, first_ask=10.0, last_ask=10.3, usual_gap=0.002
    )
    assert sends == pytest.approx(10.32)


def test_an_ask_that_expects_no_company_within_its_budget_goes_now() -> None:
    """One ask a second and 0.5 s of budget left: the next is not due before the budget
    ends, so waiting would only delay it."""
    sends = TIMING.sends_at(
        JOB_SUBMISSIONS, busy=True, first_ask=10.0, last_ask=11.5, usual_gap=1.0
    )
    assert sends == pytest.approx(11.5)
    alone = TIMING.sends_at(
        JOB_SUBMISSIONS, busy=True, first_ask=10.0, last_ask=10.0, usual_gap=5.0
    )
    assert alone == pytest.approx(10.002)


def test_at_one_ask_a_second_the_wait_is_bounded_by_the_usual_gap() -> None:
    """A lone ask on a lane where one comes a second waits for the next one, not longer
    than the budget; the next, finding none due before the budget ends, goes with it."""
    first = TIMING.sends_at(
        JOB_SUBMISSIONS, busy=True, first_ask=10.0, last_ask=10.0, usual_gap=1.0
    )
    assert first == pytest.approx(12.0)
    joined = TIMING.sends_at(
        JOB_SUBMISSIONS, busy=True, first_ask=10.0, last_ask=11.1, usual_gap=1.0
    )
    assert joined == pytest.approx(11.1)


@pytest.mark.parametrize("endpoint", [TASK_READS, STATUS_READS])
def test_reads_have_their_own_shorter_budget(endpoint: str) -> None:
    """Reads arrive together, woken by the answer to the call they shared before."""
    steady = TIMING.sends_at(endpoint, busy=True, first_ask=10.0, last_ask=10.2, usual_gap=0.01)
    ended = TIMING.sends_at(endpoint, busy=True, first_ask=10.0, last_ask=10.01, usual_gap=0.001)
    assert steady == pytest.approx(10.25) and ended == pytest.approx(10.02)


def test_a_budget_shorter_than_the_patience_wins() -> None:
    timing = BatchTiming(budget_seconds=1.0, patience=1000)
    sends = timing.sends_at(JOB_SUBMISSIONS, busy=True, first_ask=0.0, last_ask=0.0, usual_gap=0.01)
    assert sends == 1.0


def test_usual_gap_is_the_median_so_one_long_pause_does_not_end_a_burst() -> None:
    from activities.batching import usual_gap

    assert usual_gap([]) == 0.0
    assert usual_gap([0.001] * 15 + [3.0]) == pytest.approx(0.001)


@pytest.mark.parametrize(
    "name",
    [
        "LINKEDIN_ATS_LINKEDIN_BATCH_WINDOW_SECONDS",
        "LINKEDIN_ATS_LINKEDIN_BATCH_QUIET_SECONDS",
        "LINKEDIN_ATS_LINKEDIN_BATCH_READ_QUIET_SECONDS",
        "LINKEDIN_ATS_LINKEDIN_BATCH_LONGEST_WAIT_SECONDS",
    ],
)
def test_a_retired_batch_setting_is_refused_not_ignored(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setenv(name, "1")
    with pytest.raises(ValidationError, match=f"{name}: no longer read; set"):
        Settings()


def test_reconciling_reads_back_off_within_the_settle_time() -> None:
    """After a lost answer LinkedIn is read at growing gaps (the poll interval, doubling up to a
    minute), not every poll: 300 s of settling cost about ten reads, not a hundred."""
    from activities.jobs import reconcile_gaps

    gaps = reconcile_gaps(poll_seconds=3.0, settle_seconds=300.0)
    assert gaps[:5] == [3.0, 6.0, 12.0, 24.0, 48.0]
    assert max(gaps) == 60.0 and sum(gaps) <= 300.0 < sum(gaps) + 60.0
    assert len(gaps) <= 10
    assert reconcile_gaps(poll_seconds=3.0, settle_seconds=0.0) == []
