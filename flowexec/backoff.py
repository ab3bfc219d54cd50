"""Backoff: the one formula for polls, task retries and Linkis call retries."""

from __future__ import annotations

import random
from collections.abc import Callable


def delay(
    attempt: int,
    first: float,
    cap: float,
    factor: float = 2.0,
    jitter: Callable[[], float] | None = None,
) -> float:
    """Seconds to wait before ``attempt`` (0-based): ``first * factor**attempt``, capped at ``cap``.

    ``jitter`` returns a fraction in [0, 1); the wait is then spread over its upper half, so
    many retries of one outage do not arrive together.
    """
    base = min(cap, first * factor ** min(attempt, 64))
    if jitter is None:
        return float(base)
    return float(base * (0.5 + jitter() / 2))


def jittered(attempt: int, first: float, cap: float) -> float:
    """Exponential backoff (doubling) with jitter: retries of transient errors."""
    return delay(attempt, first, cap, jitter=random.random)


def poll_countdown(polls: int, first: float, cap: float, growth: float = 1.7) -> float:
    """Seconds before the poll after ``polls`` polls of one job: ``first``, then ``growth`` times
    the wait before, capped at ``cap``.

    The polls of a job then come at ``first * (growth**k - 1) / (growth - 1)``: a job that ran
    ``t`` seconds is seen done at most ``max(first, (growth - 1) * t)`` late (never more than
    ``cap``), after about ``log(t * (growth - 1) / first) / log(growth)`` polls while the waits
    grow and one per ``cap`` after. 20 ms and 1.7: a job that ends at once is seen after 20 ms,
    a 10 s job after 11-12 polls, at most 70% (and 5 s) late.
    """
    return delay(polls, first, cap, factor=growth)
