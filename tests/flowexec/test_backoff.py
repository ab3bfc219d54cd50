"""Tests of flowexec/backoff.py."""

from __future__ import annotations

import itertools

import pytest

from flowexec import backoff

# --- poll backoff ----------------------------------------------------------------------------


def test_poll_countdown_starts_at_poll_min_and_grows():
    assert backoff.poll_countdown(0, 0.5, 5.0) == 0.5
    assert backoff.poll_countdown(1, 0.5, 5.0) == pytest.approx(0.75)
    assert backoff.poll_countdown(2, 0.5, 5.0) == pytest.approx(1.125)
    assert isinstance(backoff.poll_countdown(0, 1, 5), float)


@pytest.mark.parametrize(("poll_min", "poll_max"), [(0.5, 5.0), (0.1, 0.1), (1.0, 60.0), (2.0, 3.0)])
def test_poll_countdown_is_monotonic_and_capped(poll_min, poll_max):
    values = [backoff.poll_countdown(i, poll_min, poll_max) for i in range(200)]
    assert values[0] == poll_min
    assert all(a <= b for a, b in itertools.pairwise(values))
    assert all(poll_min <= v <= poll_max for v in values)
    assert values[-1] == poll_max


def test_poll_countdown_huge_poll_counts_do_not_overflow():
    assert backoff.poll_countdown(10**9, 0.5, 5.0) == 5.0


def test_jitter_spreads_over_the_upper_half():
    assert backoff.delay(3, 0.2, 5.0, jitter=lambda: 0.0) == pytest.approx(0.8)
    assert backoff.delay(3, 0.2, 5.0, jitter=lambda: 0.999999) == pytest.approx(1.6, rel=1e-5)
    assert backoff.delay(30, 0.2, 5.0) == 5.0
