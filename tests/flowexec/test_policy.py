"""Failure policies: names and the rule beside each."""

from __future__ import annotations

import pytest

from flowexec.errors import InvalidRequest
from flowexec.policy import NAMES
from flowexec.policy import FailurePolicy
from flowexec.state import NodeState as N


def test_names_are_the_documented_ones() -> None:
    assert NAMES == ("fail_fast", "continue", "finish_running")
    assert FailurePolicy.parse(None) is FailurePolicy.FAIL_FAST
    assert FailurePolicy.parse("continue") is FailurePolicy.CONTINUE


def test_an_unknown_name_is_a_clear_400() -> None:
    with pytest.raises(InvalidRequest, match="unknown failure policy 'stop'; one of fail_fast, continue"):
        FailurePolicy.parse("stop")


def test_rules() -> None:
    assert FailurePolicy.FAIL_FAST.cancels == {N.PENDING, N.QUEUED, N.SUBMITTING, N.RUNNING}
    assert FailurePolicy.FINISH_RUNNING.cancels == {N.PENDING, N.QUEUED}
    assert FailurePolicy.CONTINUE.cancels == frozenset() and FailurePolicy.CONTINUE.skips_downstream
    assert not FailurePolicy.FAIL_FAST.skips_downstream
