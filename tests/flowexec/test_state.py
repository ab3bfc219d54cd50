"""Tests for flowexec.state: node and run states and their one transition table."""

from __future__ import annotations

import itertools

import pytest

from flowexec import state
from flowexec.errors import IllegalTransition
from flowexec.state import NodeState as N
from flowexec.state import RunState as R

#: The legal node moves, written out independently of the module (DESIGN.md §4-§5).
EXPECTED_NODE_MOVES = {
    (N.PENDING, N.QUEUED),
    (N.PENDING, N.SKIPPED),
    (N.PENDING, N.CANCELLED),
    (N.QUEUED, N.SUBMITTING),
    (N.QUEUED, N.CANCELLED),
    (N.SUBMITTING, N.RUNNING),
    (N.SUBMITTING, N.SUCCEED),
    (N.SUBMITTING, N.FAILED),
    (N.SUBMITTING, N.CANCELLED),
    (N.SUBMITTING, N.QUEUED),
    (N.RUNNING, N.SUCCEED),
    (N.RUNNING, N.FAILED),
    (N.RUNNING, N.CANCELLED),
    (N.RUNNING, N.TIMEOUT),
    (N.RUNNING, N.QUEUED),
}
TERMINAL = {N.SUCCEED, N.FAILED, N.CANCELLED, N.TIMEOUT, N.SKIPPED}
ALL_NODE_PAIRS = list(itertools.product(N, N))
ALL_RUN_PAIRS = list(itertools.product(R, R))


def pair_id(pair):
    return f"{pair[0].value}->{pair[1].value}"


def test_table_matches_the_documented_moves():
    table = {(old, new) for old, targets in state.NODE_TRANSITIONS.items() for new in targets}
    assert table == EXPECTED_NODE_MOVES
    assert set(state.NODE_TRANSITIONS) == set(N)


@pytest.mark.parametrize("pair", ALL_NODE_PAIRS, ids=[pair_id(p) for p in ALL_NODE_PAIRS])
def test_node_transition(pair):
    old, new = pair
    assert (new in state.NODE_TRANSITIONS[old]) == (pair in EXPECTED_NODE_MOVES)
    if pair in EXPECTED_NODE_MOVES:
        assert state.transition(old, new) is new
    else:
        with pytest.raises(IllegalTransition) as info:
            state.transition(old, new)
        assert info.value.message == f"node cannot go from {old.value} to {new.value}"
        assert info.value.code == 10409


@pytest.mark.parametrize("terminal", sorted(TERMINAL), ids=str)
def test_terminal_node_states_have_no_exits(terminal):
    assert state.NODE_TRANSITIONS[terminal] == frozenset()
    for new in N:
        with pytest.raises(IllegalTransition):
            state.transition(terminal, new)


def test_state_sets_partition_the_node_states():
    assert state.NODE_TERMINAL == TERMINAL
    assert {N.FAILED, N.CANCELLED, N.TIMEOUT} == state.NODE_FAILED
    assert state.NODE_FAILED < state.NODE_TERMINAL
    assert state.NODE_UNSETTLED == state.NODE_UNSTARTED | state.NODE_ACTIVE
    assert not state.NODE_UNSTARTED & state.NODE_ACTIVE
    assert not state.NODE_UNSETTLED & state.NODE_TERMINAL
    assert set(N) == state.NODE_UNSETTLED | state.NODE_TERMINAL


def test_every_unsettled_node_can_still_end():
    """No state traps a node: from each one some path leads to a terminal state."""
    for start in state.NODE_UNSETTLED:
        seen, stack = set(), [start]
        while stack:
            s = stack.pop()
            if s not in seen:
                seen.add(s)
                stack.extend(state.NODE_TRANSITIONS[s])
        assert seen & state.NODE_TERMINAL, start
        # Every unsettled node can be cancelled (kill reaches Pending/Queued/Submitting/Running).
        assert N.CANCELLED in seen


def test_node_unstarted_cannot_jump_to_an_outcome():
    for old in state.NODE_UNSTARTED:
        for new in (N.SUCCEED, N.FAILED, N.TIMEOUT, N.RUNNING):
            with pytest.raises(IllegalTransition):
                state.transition(old, new)


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        (N.PENDING, set()),
        (N.QUEUED, {N.PENDING, N.SUBMITTING, N.RUNNING}),
        (N.SUBMITTING, {N.QUEUED}),
        (N.RUNNING, {N.SUBMITTING}),
        (N.SUCCEED, {N.SUBMITTING, N.RUNNING}),
        (N.FAILED, {N.SUBMITTING, N.RUNNING}),
        (N.CANCELLED, {N.PENDING, N.QUEUED, N.SUBMITTING, N.RUNNING}),
        (N.TIMEOUT, {N.RUNNING}),
        (N.SKIPPED, {N.PENDING}),
    ],
    ids=lambda v: str(v) if isinstance(v, N) else None,
)
def test_sources(new, expected):
    assert state.sources(new) == expected
    for old in N:
        assert (old in state.sources(new)) == ((old, new) in EXPECTED_NODE_MOVES)


def test_sources_covers_every_state():
    assert {n for n in N if state.sources(n)} == set(N) - {N.PENDING}


# --- run states ------------------------------------------------------------------------------

RUN_ORDER = [
    R.INITED,
    R.WAIT_FOR_RETRY,
    R.SCHEDULED,
    R.RUNNING,
    R.SUCCEED,
    R.FAILED,
    R.CANCELLED,
    R.TIMEOUT,
]
RUN_TERMINAL = {R.SUCCEED, R.FAILED, R.CANCELLED, R.TIMEOUT}


def test_run_states_keep_the_dss_ordinals():
    assert list(R) == RUN_ORDER
    assert [r.value for r in R] == [
        "Inited",
        "WaitForRetry",
        "Scheduled",
        "Running",
        "Succeed",
        "Failed",
        "Cancelled",
        "Timeout",
    ]
    assert state.RUN_TERMINAL == RUN_TERMINAL
    assert set(state.RUN_TRANSITIONS) == set(R)


@pytest.mark.parametrize("pair", ALL_RUN_PAIRS, ids=[pair_id(p) for p in ALL_RUN_PAIRS])
def test_run_transitions_go_forward_only(pair):
    old, new = pair
    forward = RUN_ORDER.index(new) > RUN_ORDER.index(old)
    allowed = new in state.RUN_TRANSITIONS[old]
    # Forward only, and nothing leaves a terminal state.
    if allowed:
        assert forward and old not in RUN_TERMINAL
        assert state.run_transition(old, new) is new
    else:
        with pytest.raises(IllegalTransition) as info:
            state.run_transition(old, new)
        assert info.value.message == f"run cannot go from {old.value} to {new.value}"
    # Every unfinished run may still move forward to any later state (the row only refuses
    # a lower ordinal).
    if forward and old not in RUN_TERMINAL:
        assert allowed


def test_every_unfinished_run_can_end_each_way():
    for old in set(R) - RUN_TERMINAL:
        assert state.RUN_TRANSITIONS[old] >= RUN_TERMINAL


def test_str_is_the_stored_spelling():
    assert str(N.SUCCEED) == "Succeed" and f"{N.SKIPPED}" == "Skipped"
    assert str(R.WAIT_FOR_RETRY) == "WaitForRetry"
    assert N("Running") is N.RUNNING and R("Running") is R.RUNNING


@pytest.mark.parametrize("pair", ALL_NODE_PAIRS, ids=pair_id)
def test_check_moves_refuses_any_illegal_source(pair):
    old, new = pair
    if (old, new) in EXPECTED_NODE_MOVES:
        assert state.check_moves([old], new) == {old}
    else:
        with pytest.raises(IllegalTransition):
            state.check_moves([old], new)


def test_check_path_checks_every_step():
    assert state.check_path([N.QUEUED, N.SUBMITTING, N.SUCCEED]) == (N.QUEUED, N.SUCCEED)
    with pytest.raises(IllegalTransition):
        state.check_path([N.QUEUED, N.SUCCEED])
