"""Tests for flowexec.skip: which nodes each execute strategy skips."""

from __future__ import annotations

import pytest

from flowexec import skip
from flowexec.errors import InvalidRequest
from flowexec.graph import parse_flow
from flowexec.skip import ExecuteStrategy as S
from flowexec.skip import StrategyArgs


def shell(key, title=None, disabled=None):
    raw = {
        "id": key,
        "title": title or key,
        "jobType": "linkis.shell.sh",
        "jobContent": {"code": "ls"},
    }
    if disabled is not None:
        raw["params"] = {"configuration": {"special": {"auto.disabled": disabled}}}
    return raw


def make_flow(nodes, edges):
    return parse_flow(
        {
            "nodes": [shell(n) if isinstance(n, str) else n for n in nodes],
            "edges": [{"source": s, "target": t} for s, t in edges],
        }
    )


# a -> b -> c -> d, b -> e, with a disabled node x (-> d) and a subflow s (c -> s).
FLOW = make_flow(
    [
        shell("A1", "load"),
        "b2",
        "c3",
        "d4",
        "e5",
        shell("x6", "off", disabled="TRUE"),
        {
            "id": "s7",
            "title": "child",
            "jobType": "workflow.subflow",
            "jobContent": {"embeddedFlowId": 9},
        },
    ],
    [
        ("A1", "b2"),
        ("b2", "c3"),
        ("c3", "d4"),
        ("b2", "e5"),
        ("x6", "d4"),
        ("c3", "s7"),
    ],
)
ALL = frozenset(FLOW.keys)
ALWAYS = frozenset({"x6", "s7"})


def skipped(strategy, *ids):
    return skip.skipped_nodes(FLOW, StrategyArgs(strategy, frozenset(ids)))


def test_registry_has_every_strategy():
    assert set(skip.REGISTRY) == set(S)
    assert {s.value for s in S} >= {"execute", "reExecute", "selectedExecute"}


def test_strategy_args_default_to_execute():
    assert StrategyArgs() == StrategyArgs(S.EXECUTE, frozenset())


def test_always_skipped_is_disabled_and_subflow_nodes():
    assert skip.always_skipped(FLOW) == ALWAYS


@pytest.mark.parametrize("ids", [(), ("b2",), ("nonsense", "A1")])
def test_execute_skips_only_disabled_and_subflows_and_ignores_ids(ids):
    assert skipped(S.EXECUTE, *ids) == ALWAYS


def test_execute_on_a_plain_flow_skips_nothing():
    flow = make_flow(["a", "b"], [("a", "b")])
    assert skip.skipped_nodes(flow, StrategyArgs()) == frozenset()


# --- selectedExecute -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ids", "runs"),
    [
        (("A1", "c3"), {"A1", "c3"}),
        (("a1", "C3"), {"A1", "c3"}),
        ((" A1 ",), {"A1"}),
        (("load", "E5"), {"A1", "e5"}),
        (("LOAD",), {"A1"}),
        (tuple(sorted(ALL)), ALL - ALWAYS),
    ],
)
def test_selected_skips_exactly_the_unselected(ids, runs):
    assert skipped(S.SELECTED, *ids) == (ALL - runs) | ALWAYS


def test_selected_disabled_node_stays_skipped():
    assert "x6" in skipped(S.SELECTED, "x6", "off")


def test_selected_unknown_id_is_named():
    with pytest.raises(InvalidRequest) as info:
        skipped(S.SELECTED, "A1", "nope-1", "zz")
    assert info.value.message == "unknown node id(s): nope-1, zz"
    assert info.value.code == 10400


def test_selected_needs_a_selection():
    with pytest.raises(InvalidRequest, match="at least one node id"):
        skipped(S.SELECTED)


def test_resolve_ids_maps_ids_and_titles_to_keys():
    assert skip.resolve_ids(FLOW, ["a1", "OFF", "child", "d4"]) == {
        "A1",
        "x6",
        "s7",
        "d4",
    }
    assert skip.resolve_ids(FLOW, []) == frozenset()


# --- reExecute -------------------------------------------------------------------------------


def test_rerun_failed_skips_the_given_ids():
    assert skipped(S.RERUN_FAILED, "A1", "b2") == {"A1", "b2"} | ALWAYS


def test_rerun_failed_is_case_insensitive_and_ignores_removed_nodes():
    assert skipped(S.RERUN_FAILED, "a1", " C3 ", "deleted-node") == {"A1", "c3"} | ALWAYS


def test_rerun_failed_does_not_take_titles():
    # The execute_info lists hold node ids; a title is not one.
    assert skipped(S.RERUN_FAILED, "load") == ALWAYS


def test_rerun_failed_with_nothing_to_skip_is_a_full_run():
    assert skipped(S.RERUN_FAILED) == ALWAYS


# --- fromNode / toNode -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "runs"),
    [
        ("A1", {"A1", "b2", "c3", "d4", "e5", "s7"}),
        ("b2", {"b2", "c3", "d4", "e5", "s7"}),
        ("C3", {"c3", "d4", "s7"}),
        ("e5", {"e5"}),
        ("off", {"x6", "d4"}),
    ],
)
def test_from_node_runs_the_node_and_its_descendants(start, runs):
    assert skipped(S.FROM_NODE, start) == (ALL - runs) | ALWAYS


@pytest.mark.parametrize(
    ("end", "runs"),
    [
        ("A1", {"A1"}),
        ("c3", {"A1", "b2", "c3"}),
        ("d4", {"A1", "b2", "c3", "d4", "x6"}),
        ("E5", {"A1", "b2", "e5"}),
        ("child", {"A1", "b2", "c3", "s7"}),
    ],
)
def test_to_node_runs_the_node_and_its_ancestors(end, runs):
    assert skipped(S.TO_NODE, end) == (ALL - runs) | ALWAYS


@pytest.mark.parametrize("strategy", [S.FROM_NODE, S.TO_NODE])
@pytest.mark.parametrize("ids", [(), ("A1", "b2")])
def test_from_and_to_need_exactly_one_node(strategy, ids):
    with pytest.raises(InvalidRequest, match=f"exactly one node id, got {len(ids)}"):
        skipped(strategy, *ids)


@pytest.mark.parametrize("strategy", [S.FROM_NODE, S.TO_NODE])
def test_from_and_to_unknown_node_is_named(strategy):
    with pytest.raises(InvalidRequest, match="unknown node id\\(s\\): ghost"):
        skipped(strategy, "ghost")


def test_strategy_values_are_dss_spellings():
    assert S("selectedExecute") is S.SELECTED
    assert S("reExecute") is S.RERUN_FAILED
    assert str(S.FROM_NODE) == "fromNode"
