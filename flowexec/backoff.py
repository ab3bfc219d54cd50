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


def poll_countdown(polls: int, poll_min: float, poll_max: float) -> float:
    """Back off from ``poll_min`` by half again each poll, capped at ``poll_max``."""
    return delay(polls, poll_min, poll_max, factor=1.5)
