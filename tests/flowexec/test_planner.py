"""Tests for flowexec.planner, with hypothesis properties of the per-node counter join."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from flowexec import planner
from flowexec import skip
from flowexec import state
from flowexec.graph import NodeKind
from flowexec.graph import parse_flow
from flowexec.planner import NodePlan
from flowexec.skip import ExecuteStrategy as S
from flowexec.skip import StrategyArgs
from flowexec.state import NodeState as N
from flowexec.state import RunState as R
from tests.graphs import reach

PROPERTY = settings(max_examples=150, deadline=None, database=None)


def shell(key, disabled=False):
    raw = {
        "id": key,
        "title": key,
        "jobType": "linkis.shell.sh",
        "jobContent": {"code": f"echo {key}"},
    }
    if disabled:
        raw["params"] = {"configuration": {"special": {"auto.disabled": "true"}}}
    return raw


def flow_doc(nodes, edges):
    return {
        "nodes": [shell(n) if isinstance(n, str) else n for n in nodes],
        "edges": [{"source": s, "target": t} for s, t in edges],
    }


def make_flow(nodes, edges):
    return parse_flow(flow_doc(nodes, edges))


def by_key(plans):
    return {p.key: p for p in plans}


# --- plan_nodes on fixed shapes --------------------------------------------------------------


def test_plan_of_a_diamond():
    flow = make_flow(["a", "b", "c", "d"], [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")])
    plans = planner.plan_nodes(flow, frozenset())
    p = by_key(plans)

    assert [x.key for x in plans] == list(flow.keys)
    assert {k: p[k].pending_parents for k in p} == {"a": 0, "b": 1, "c": 1, "d": 2}
    assert set(p["a"].children) == {"b", "c"}
    assert p["b"].children == ("d",) and p["c"].children == ("d",)
    assert p["d"].children == ()
    assert all(x.state is N.PENDING for x in plans)
    assert planner.roots(plans) == ("a",)


def test_plan_of_an_n_shape():
    # a -> c, b -> c, b -> d: not series-parallel, the case canvas chords cannot express.
    flow = make_flow(["a", "b", "c", "d"], [("a", "c"), ("b", "c"), ("b", "d")])
    p = by_key(planner.plan_nodes(flow, frozenset()))

    assert {k: p[k].pending_parents for k in p} == {"a": 0, "b": 0, "c": 2, "d": 1}
    assert p["a"].children == ("c",)
    assert set(p["b"].children) == {"c", "d"}
    assert p["c"].children == () and p["d"].children == ()
    assert set(planner.roots(p.values())) == {"a", "b"}


def test_skipped_node_is_transparent():
    flow = make_flow(["A", "B", "C"], [("A", "B"), ("B", "C")])
    p = by_key(planner.plan_nodes(flow, frozenset({"B"})))

    assert p["B"].state is N.SKIPPED
    assert p["B"].pending_parents == 0 and p["B"].children == ()
    assert p["C"].pending_parents == 1
    assert p["A"].children == ("C",)
    assert planner.roots(p.values()) == ("A",)


def test_skipped_branches_of_a_diamond_join_once():
    flow = make_flow(["a", "b", "c", "d"], [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")])
    p = by_key(planner.plan_nodes(flow, frozenset({"b", "c"})))
    # d waits for a once, not once per skipped path.
    assert p["d"].pending_parents == 1
    assert p["a"].children == ("d",)


def test_skipped_root_makes_its_children_roots():
    flow = make_flow(["a", "b", "c"], [("a", "b"), ("a", "c"), ("b", "c")])
    plans = planner.plan_nodes(flow, frozenset({"a"}))
    p = by_key(plans)
    assert planner.roots(plans) == ("b",)
    assert p["c"].pending_parents == 1
    assert p["b"].children == ("c",)


def test_everything_skipped_has_no_roots():
    flow = make_flow(["a", "b"], [("a", "b")])
    plans = planner.plan_nodes(flow, frozenset({"a", "b"}))
    assert planner.roots(plans) == ()
    assert all(x.state is N.SKIPPED for x in plans)


def test_plan_carries_node_identity():
    flow = parse_flow(
        {
            "nodes": [
                {
                    "id": "k1",
                    "title": "first",
                    "jobType": "linkis.shell.sh",
                    "jobContent": {"code": "ls"},
                },
                {"id": "k2", "title": "join", "jobType": "linkis.control.empty"},
            ],
            "edges": [{"source": "k1", "target": "k2"}],
        }
    )
    plans = planner.plan_nodes(flow, frozenset())
    assert plans == (
        NodePlan("k1", "first", "linkis.shell.sh", NodeKind.LINKIS, N.PENDING, 0, ("k2",)),
        NodePlan("k2", "join", "linkis.control.empty", NodeKind.EMPTY, N.PENDING, 1, ()),
    )


def test_roots_ignore_non_pending_plans():
    plans = [
        NodePlan("a", "a", "linkis.shell.sh", NodeKind.LINKIS, N.PENDING, 0, ()),
        NodePlan("b", "b", "linkis.shell.sh", NodeKind.LINKIS, N.SKIPPED, 0, ()),
        NodePlan("c", "c", "linkis.shell.sh", NodeKind.LINKIS, N.PENDING, 1, ()),
        NodePlan("d", "d", "linkis.shell.sh", NodeKind.LINKIS, N.QUEUED, 0, ()),
    ]
    assert planner.roots(plans) == ("a",)


# --- property: simulated runs with the counter join ------------------------------------------


@st.composite
def dag_flows(draw, max_nodes=25):
    n = draw(st.integers(1, max_nodes), label="n")
    keys = [f"N{i}x" for i in range(n)]
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    edges = sorted(draw(st.sets(st.sampled_from(pairs), max_size=3 * n), label="edges")) if pairs else []
    named = [(keys[a], keys[b]) for a, b in edges]
    listed = draw(st.permutations(keys), label="listed")
    return keys, named, listed


def nearest_running_ancestors(edges, key, skipped):
    """Running ancestors reachable backwards from ``key`` through skipped nodes only."""
    parents = {}
    for a, b in edges:
        parents.setdefault(b, set()).add(a)
    found, seen, stack = set(), set(), list(parents.get(key, ()))
    while stack:
        k = stack.pop()
        if k in seen:
            continue
        seen.add(k)
        if k in skipped:
            stack.extend(parents.get(k, ()))
        else:
            found.add(k)
    return found


@PROPERTY
@given(dag=dag_flows(), data=st.data())
def test_simulated_run_with_skips_runs_each_node_once_in_order(dag, data):
    keys, edges, listed = dag
    flow = make_flow(listed, edges)
    flags = data.draw(st.lists(st.booleans(), min_size=len(keys), max_size=len(keys)), label="skip")
    skipped = frozenset(k for k, flag in zip(keys, flags, strict=True) if flag)
    plans = planner.plan_nodes(flow, skipped)
    plan = by_key(plans)

    # The plan itself: skipped nodes are inert, counters count the nearest running ancestors.
    assert [p.key for p in plans] == list(flow.keys)
    for k in keys:
        expected_parents = nearest_running_ancestors(edges, k, skipped)
        if k in skipped:
            assert plan[k].state is N.SKIPPED
            assert plan[k].pending_parents == 0 and plan[k].children == ()
        else:
            assert plan[k].state is N.PENDING
            assert plan[k].pending_parents == len(expected_parents)
        assert len(set(plan[k].children)) == len(plan[k].children)
        assert not set(plan[k].children) & skipped
        for c in plan[k].children:
            assert k in nearest_running_ancestors(edges, c, skipped)

    # Simulate: Pending -> Queued when the counter hits 0, then Submitting -> Running -> Succeed.
    priority = {k: i for i, k in enumerate(data.draw(st.permutations(keys), label="order"))}
    states = {p.key: p.state for p in plans}
    pending = {p.key: p.pending_parents for p in plans}
    runs = {k: 0 for k in keys}
    ready = []
    for k in planner.roots(plans):
        states[k] = state.transition(states[k], N.QUEUED)
        ready.append(k)
    while ready:
        # Random completion order: the ready node that comes first in a random permutation.
        k = min(ready, key=priority.__getitem__)
        ready.remove(k)
        for a in reach(edges, k, forward=False) - skipped:
            assert states[a] is N.SUCCEED, f"{k} started before its ancestor {a} ended"
        for nxt in (N.SUBMITTING, N.RUNNING, N.SUCCEED):
            states[k] = state.transition(states[k], nxt)
        runs[k] += 1
        for c in plan[k].children:
            pending[c] -= 1
            assert pending[c] >= 0
            if pending[c] == 0:
                states[c] = state.transition(states[c], N.QUEUED)
                ready.append(c)

    assert all(s in state.NODE_TERMINAL for s in states.values()), states
    assert {k for k, s in states.items() if s is N.SKIPPED} == skipped
    assert all(runs[k] == 1 for k in keys if k not in skipped)
    assert all(runs[k] == 0 for k in skipped)
    assert all(v == 0 for v in pending.values())
    assert planner.run_outcome(states.values()) is R.SUCCEED


@PROPERTY
@given(dag=dag_flows(max_nodes=15), data=st.data())
def test_selected_skips_exactly_the_unselected_and_disabled(dag, data):
    keys, edges, listed = dag
    disabled = data.draw(st.sets(st.sampled_from(keys)), label="disabled")
    flow = parse_flow(flow_doc([shell(k, k in disabled) for k in listed], edges))
    chosen = data.draw(st.sets(st.sampled_from(keys), min_size=1), label="selected")
    # DSS compares ids case-insensitively.
    spelled = frozenset(k.swapcase() if data.draw(st.booleans()) else k for k in chosen)

    got = skip.skipped_nodes(flow, StrategyArgs(S.SELECTED, spelled))
    assert got == (set(keys) - chosen) | disabled


@PROPERTY
@given(dag=dag_flows(max_nodes=15), data=st.data())
def test_from_and_to_node_match_brute_force_reachability(dag, data):
    keys, edges, listed = dag
    flow = make_flow(listed, edges)
    k = data.draw(st.sampled_from(keys), label="node")

    from_runs = set(keys) - skip.skipped_nodes(flow, StrategyArgs(S.FROM_NODE, frozenset({k})))
    to_runs = set(keys) - skip.skipped_nodes(flow, StrategyArgs(S.TO_NODE, frozenset({k.lower()})))
    assert from_runs == {k} | reach(edges, k)
    assert to_runs == {k} | reach(edges, k, forward=False)


# --- outcomes and err_desc -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("states", "cancel", "outcome"),
    [
        ([N.SUCCEED, N.SUCCEED], False, R.SUCCEED),
        ([N.SUCCEED, N.SKIPPED], False, R.SUCCEED),
        ([N.SKIPPED], False, R.SUCCEED),
        ([], False, R.SUCCEED),
        ([N.SUCCEED, N.FAILED], False, R.FAILED),
        ([N.CANCELLED, N.SUCCEED], False, R.FAILED),
        ([N.TIMEOUT], False, R.FAILED),
        ([N.SUCCEED], True, R.CANCELLED),
        ([N.FAILED, N.CANCELLED], True, R.CANCELLED),
    ],
)
def test_run_outcome(states, cancel, outcome):
    assert planner.run_outcome(iter(states), cancel_requested=cancel) is outcome


def test_failure_text():
    assert planner.failure_text([], cancelled=True) == "This Flow killed by user"
    assert planner.failure_text([("x", "Failed", "boom")], cancelled=True) == "This Flow killed by user"
    assert planner.failure_text([], cancelled=False) == "flow failed"
    text = planner.failure_text([("agg", "Failed", "exit 1"), ("load", "Timeout", None)], cancelled=False)
    assert text == "failed nodes: agg Failed: exit 1; load Timeout"


# --- execute_info lists ----------------------------------------------------------------------


def test_info_lists():
    states = {
        "a": N.SUCCEED,
        "b": N.RUNNING,
        "c": N.SUBMITTING,
        "d": N.FAILED,
        "e": N.CANCELLED,
        "f": N.TIMEOUT,
        "g": N.SKIPPED,
        "h": N.PENDING,
        "i": N.QUEUED,
    }
    assert planner.info_lists(states) == {
        "running_jobs": "b,c",
        "pending_jobs": "g,h,i",
        "succeed_jobs": "a",
        "failed_jobs": "d,e,f",
        "skipped_jobs": "g",
    }


def test_info_lists_of_nothing_are_empty_strings():
    assert planner.info_lists({}) == dict.fromkeys(planner.INFO_LISTS, "")


def test_move_in_lists_one_step():
    lists = planner.info_lists({"a": N.RUNNING, "b": N.PENDING})
    moved = planner.move_in_lists(lists, "a", N.RUNNING, N.SUCCEED)
    assert moved["running_jobs"] == "" and moved["succeed_jobs"] == "a"
    assert moved["pending_jobs"] == "b"
    assert lists["running_jobs"] == "a"  # the input is not modified


def as_sets(lists):
    return {column: set(filter(None, text.split(","))) for column, text in lists.items()}


@PROPERTY
@given(
    data=st.data(),
    start=st.dictionaries(
        st.sampled_from([f"n{i}" for i in range(8)]),
        st.sampled_from(list(N)),
        min_size=1,
    ),
)
def test_move_in_lists_agrees_with_info_lists(data, start):
    states = dict(start)
    lists = planner.info_lists(states)
    for _ in range(data.draw(st.integers(1, 15), label="moves")):
        key = data.draw(st.sampled_from(sorted(states)), label="key")
        new = data.draw(st.sampled_from(list(N)), label="new")
        lists = planner.move_in_lists(lists, key, states[key], new)
        states[key] = new
        assert as_sets(lists) == as_sets(planner.info_lists(states))
        for text in lists.values():
            items = [k for k in text.split(",") if k]
            assert len(items) == len(set(items)), text
            assert text == ",".join(items)


def test_move_in_lists_along_a_legal_node_life():
    states = {"a": N.PENDING, "b": N.SKIPPED}
    lists = planner.info_lists(states)
    for new in (N.QUEUED, N.SUBMITTING, N.RUNNING, N.QUEUED, N.SUBMITTING, N.FAILED):
        old = states["a"]
        lists = planner.move_in_lists(lists, "a", old, state.transition(old, new))
        states["a"] = new
        assert as_sets(lists) == as_sets(planner.info_lists(states))
    assert lists["failed_jobs"] == "a" and lists["pending_jobs"] == "b" and lists["running_jobs"] == ""
