"""When the batcher sends a call it is gathering: the rules alone, on made-up times."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from activities.batching import BatchTiming
from activities.rate_limits import JOB_SUBMISSIONS, STATUS_READS, TASK_READS
from settings import Settings

TIMING = BatchTiming(
    gather_seconds=0.002, quiet_seconds=0.2, read_quiet_seconds=0.05, longest_wait_seconds=3.0
)


@pytest.mark.parametrize("endpoint", [JOB_SUBMISSIONS, TASK_READS, STATUS_READS])
def test_an_ask_on_an_idle_lane_goes_after_the_gather_whatever_joins_it(endpoint: str) -> None:
    for last_ask in (10.0, 10.001):
        sends = TIMING.sends_at(endpoint, busy=False, first_ask=10.0, last_ask=last_ask)
        assert sends == pytest.approx(10.002)


def test_a_busy_lane_sends_once_submissions_stop_arriving() -> None:
    """A burst that ends goes out a quiet gap after its last ask, long before the cap."""
    sends = TIMING.sends_at(JOB_SUBMISSIONS, busy=True, first_ask=10.0, last_ask=10.0)
    assert sends == pytest.approx(10.2)
    sends = TIMING.sends_at(JOB_SUBMISSIONS, busy=True, first_ask=10.0, last_ask=11.5)
    assert sends == pytest.approx(11.7)


def test_each_new_ask_on_a_busy_lane_puts_the_call_off_by_the_quiet_gap() -> None:
    arrivals = [10.0, 10.15, 10.3, 10.45]
    due = [
        TIMING.sends_at(JOB_SUBMISSIONS, busy=True, first_ask=arrivals[0], last_ask=last)
        for last in arrivals
    ]
    assert due == pytest.approx([10.2, 10.35, 10.5, 10.65])


def test_a_stream_that_never_pauses_is_cut_at_the_longest_wait() -> None:
    """A steady stream (an ask every 100 ms) goes out the longest wait after its first ask."""
    sends = TIMING.sends_at(JOB_SUBMISSIONS, busy=True, first_ask=10.0, last_ask=12.9)
    assert sends == pytest.approx(13.0)
    sends = TIMING.sends_at(JOB_SUBMISSIONS, busy=True, first_ask=10.0, last_ask=25.0)
    assert sends == pytest.approx(13.0)


@pytest.mark.parametrize("endpoint", [TASK_READS, STATUS_READS])
def test_reads_have_their_own_shorter_quiet_gap_and_the_same_cap(endpoint: str) -> None:
    """Reads arrive together, woken by the answer to the call they shared before."""
    ended = TIMING.sends_at(endpoint, busy=True, first_ask=10.0, last_ask=10.01)
    steady = TIMING.sends_at(endpoint, busy=True, first_ask=10.0, last_ask=14.0)
    assert ended == pytest.approx(10.06) and steady == pytest.approx(13.0)


def test_a_cap_shorter_than_the_quiet_gap_wins() -> None:
    timing = BatchTiming(quiet_seconds=5.0, longest_wait_seconds=1.0)
    assert timing.sends_at(JOB_SUBMISSIONS, busy=True, first_ask=0.0, last_ask=0.0) == 1.0


def test_a_retired_batch_window_setting_is_refused_not_ignored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LINKEDIN_ATS_LINKEDIN_BATCH_WINDOW_SECONDS", "1")
    with pytest.raises(ValidationError, match="BATCH_WINDOW_SECONDS: no longer read; set"):
        Settings()
