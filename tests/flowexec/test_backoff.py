"""Tests of flowexec/backoff.py."""

from __future__ import annotations

import itertools

import pytest

from flowexec import backoff

# --- poll backoff ----------------------------------------------------------------------------


def test_poll_countdown_starts_at_poll_first_and_grows():
    assert backoff.poll_countdown(0, 0.5, 5.0, 1.5) == 0.5
    assert backoff.poll_countdown(1, 0.5, 5.0, 1.5) == pytest.approx(0.75)
    assert backoff.poll_countdown(2, 0.5, 5.0, 1.5) == pytest.approx(1.125)
    assert backoff.poll_countdown(1, 0.02, 5.0) == pytest.approx(0.034)
    assert isinstance(backoff.poll_countdown(0, 1, 5), float)


def _seen(job_seconds: float, first: float, cap: float, growth: float) -> tuple[int, float]:
    """Polls until a job of ``job_seconds`` is seen done, and when."""
    at, polls = 0.0, 0
    while at < job_seconds:
        at += backoff.poll_countdown(polls, first, cap, growth)
        polls += 1
    return polls, at


@pytest.mark.parametrize("job_seconds", [0.001, 0.05, 0.3, 1.0, 3.7, 10.0, 60.0, 600.0])
def test_a_job_is_seen_done_within_the_growth_share_of_its_run(job_seconds):
    first, cap, growth = 0.02, 5.0, 1.7
    polls, seen = _seen(job_seconds, first, cap, growth)
    assert seen - job_seconds <= max(first, min(cap, (growth - 1) * job_seconds)) + 1e-9
    # O(log t) polls while the waits grow, then one per cap
    assert polls <= 13 + job_seconds / cap


def test_a_ten_second_job_costs_at_most_twelve_polls_with_the_defaults():
    assert _seen(10.0, 0.02, 5.0, 1.7)[0] <= 12
    # the 25% promise (growth 1.25) costs about twice the polls
    assert _seen(10.0, 0.02, 5.0, 1.25)[0] > 20


@pytest.mark.parametrize(("poll_first", "poll_max"), [(0.5, 5.0), (0.1, 0.1), (1.0, 60.0), (2.0, 3.0)])
def test_poll_countdown_is_monotonic_and_capped(poll_first, poll_max):
    values = [backoff.poll_countdown(i, poll_first, poll_max) for i in range(200)]
    assert values[0] == poll_first
    assert all(a <= b for a, b in itertools.pairwise(values))
    assert all(poll_first <= v <= poll_max for v in values)
    assert values[-1] == poll_max


def test_poll_countdown_huge_poll_counts_do_not_overflow():
    assert backoff.poll_countdown(10**9, 0.5, 5.0) == 5.0


def test_jitter_spreads_over_the_upper_half():
    assert backoff.delay(3, 0.2, 5.0, jitter=lambda: 0.0) == pytest.approx(0.8)
    assert backoff.delay(3, 0.2, 5.0, jitter=lambda: 0.999999) == pytest.approx(1.6, rel=1e-5)
    assert backoff.delay(30, 0.2, 5.0) == 5.0
