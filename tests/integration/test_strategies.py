"""Every skip strategy × failure policy on the shapes DSS users draw, on a real stack.

The stack is the embedded one (SQLite, in-process threads worker and beat, the local Linkis
gateway over HTTP), so nodes are real Linkis jobs polled by Celery task retries.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from api.embedded import embedded_stack
from flowexec.skip import ExecuteStrategy
from tests.graphs import reach
from tests.integration.harness import check_invariants
from tests.integration.harness import execute
from tests.integration.harness import flow
from tests.integration.harness import node

pytestmark = pytest.mark.integration

FAIL_CODE = '[ "${{ok}}" = yes ] && echo {key} || {{ echo "{key} failed" >&2; exit 1; }}'
_ids = itertools.count(1000)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    home = tmp_path_factory.mktemp("strategies")
    with embedded_stack(
        {"home": str(home), "poll_first": 0.05, "poll_max": 0.2, "reconcile_every": 0.5, "queued_grace": 10.0}
    ) as running:
        yield running


def shape(name: str, failing: str | None) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Return a flow document and its flattened edges; ``failing`` fails unless ``ok=yes``."""

    def n(key: str, **kw: Any) -> dict[str, Any]:
        return node(key, code=FAIL_CODE if key == failing else "echo {key}", **kw)

    if name == "diamond":
        edges = [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")]
        return flow([n(k) for k in "abcd"], edges), edges
    if name == "n_shape":
        edges = [("a", "c"), ("b", "c"), ("b", "d")]
        return flow([n(k) for k in "abcd"], edges), edges
    if name == "subflow":
        child = flow([n("x") if failing != "s/x" else node("x", code=FAIL_CODE), node("y")], [("x", "y")])
        sub = {
            "id": "s",
            "title": "s",
            "jobType": "workflow.subflow",
            "jobContent": {"embeddedFlowId": "77", "embeddedFlow": child},
        }
        doc = flow([n("a"), sub, n("z")], [("a", "s"), ("s", "z")])
        return doc, [("a", "s"), ("s", "s/x"), ("s/x", "s/y"), ("s/y", "z")]
    assert name == "disabled_empty"
    empty = {"id": "e", "title": "e", "jobType": "linkis.control.empty", "jobContent": {}}
    doc = flow(
        [n("a"), empty, n("b", **{"auto.disabled": "TRUE"}), n("c")], [("a", "e"), ("e", "b"), ("b", "c")]
    )
    return doc, [("a", "e"), ("e", "b"), ("b", "c")]


KEYS = {
    "diamond": "abcd",
    "n_shape": "abcd",
    "subflow": ["a", "s", "s/x", "s/y", "z"],
    "disabled_empty": "aebc",
}
DISABLED = {"disabled_empty": {"b"}}
FAILING = {"diamond": "b", "n_shape": "b", "subflow": "s/x", "disabled_empty": "a"}
ARGS = {
    ExecuteStrategy.SELECTED: {
        "diamond": {"a", "b", "d"},
        "n_shape": {"b", "c"},
        "subflow": {"a", "s/x", "z"},
        "disabled_empty": {"a", "c"},
    },
    ExecuteStrategy.FROM_NODE: {
        "diamond": {"b"},
        "n_shape": {"b"},
        "subflow": {"s"},
        "disabled_empty": {"a"},
    },
    ExecuteStrategy.TO_NODE: {
        "diamond": {"d"},
        "n_shape": {"c"},
        "subflow": {"s/y"},
        "disabled_empty": {"c"},
    },
}


def expected_skipped(name: str, strategy: ExecuteStrategy, edges: list[tuple[str, str]]) -> set[str]:
    keys = set(KEYS[name])
    skipped = set(DISABLED.get(name, set()))
    if strategy is ExecuteStrategy.SELECTED:
        skipped |= keys - ARGS[strategy][name]
    elif strategy is ExecuteStrategy.FROM_NODE:
        (start,) = ARGS[strategy][name]
        skipped |= keys - reach(edges, start) - {start}
    elif strategy is ExecuteStrategy.TO_NODE:
        (end,) = ARGS[strategy][name]
        skipped |= keys - reach(edges, end, forward=False) - {end}
    return skipped


def check_doc(doc: dict[str, Any], edges: list[tuple[str, str]]) -> dict[str, Any]:
    return {"nodes": doc["nodes"], "edges": [{"source": a, "target": b} for a, b in edges]}


STRATEGIES = [
    ExecuteStrategy.EXECUTE,
    ExecuteStrategy.SELECTED,
    ExecuteStrategy.FROM_NODE,
    ExecuteStrategy.TO_NODE,
]
SHAPES = ["diamond", "n_shape", "subflow", "disabled_empty"]


@pytest.mark.parametrize("name", SHAPES)
@pytest.mark.parametrize("strategy", STRATEGIES, ids=str)
def test_strategy_runs_exactly_the_expected_nodes(stack: Any, name: str, strategy: ExecuteStrategy) -> None:
    doc, edges = shape(name, failing=None)
    out = execute(stack, doc, next(_ids), strategy, ARGS.get(strategy, {}).get(name, ()))
    skipped = expected_skipped(name, strategy, edges)
    check_invariants(check_doc(doc, edges), out, skipped)
    assert out.status == "Succeed"
    assert {k for k, s in out.states.items() if s == "Succeed"} == set(KEYS[name]) - skipped
    assert {k for k, r in out.rows.items() if r.started_at is not None} == set(KEYS[name]) - skipped


@pytest.mark.parametrize("policy", ["fail_fast", "continue", "finish_running"])
@pytest.mark.parametrize("name", SHAPES)
@pytest.mark.parametrize("strategy", STRATEGIES, ids=str)
def test_failure_policy(stack: Any, name: str, strategy: ExecuteStrategy, policy: str) -> None:
    failing = FAILING[name]
    doc, edges = shape(name, failing)
    skipped = expected_skipped(name, strategy, edges)
    out = execute(stack, doc, next(_ids), strategy, ARGS.get(strategy, {}).get(name, ()), policy=policy)
    check_invariants(check_doc(doc, edges), out, skipped)
    if failing in skipped:
        assert out.status == "Succeed"
        return
    assert out.states[failing] == "Failed" and out.status == "Failed"
    assert failing in (out.err_desc or "")
    downstream = reach(edges, failing) - skipped
    upstream = reach(edges, failing, forward=False) - skipped
    others = set(KEYS[name]) - skipped - downstream - upstream - {failing}
    assert all(out.states[k] == "Succeed" for k in upstream), out.states
    if policy == "continue":
        assert all(out.states[k] == "Skipped" for k in downstream), out.states
        assert all("upstream failed" in (out.rows[k].error or "") for k in downstream)
        assert all(out.states[k] == "Succeed" for k in others), out.states
    else:
        assert all(out.states[k] == "Cancelled" for k in downstream), out.states
        assert all(out.rows[k].started_at is None for k in downstream)
        assert all(out.states[k] in {"Succeed", "Cancelled"} for k in others), out.states


@pytest.mark.parametrize("name", SHAPES)
def test_rerun_failed_runs_only_what_did_not_succeed(stack: Any, name: str) -> None:
    failing = FAILING[name]
    doc, edges = shape(name, failing)
    flow_id = next(_ids)
    first = execute(stack, doc, flow_id)
    assert first.status == "Failed"
    done = {k for k, s in first.states.items() if s in {"Succeed", "Skipped"}}
    second = execute(stack, doc, flow_id, ExecuteStrategy.RERUN_FAILED, variables={"ok": "yes"})
    check_invariants(check_doc(doc, edges), second, done | DISABLED.get(name, set()))
    assert second.status == "Succeed"
    assert {k for k, r in second.rows.items() if r.started_at is not None} == set(KEYS[name]) - done
    assert second.states[failing] == "Succeed"


def test_rerun_without_a_failed_execution_is_refused(stack: Any) -> None:
    from flowexec.errors import InvalidRequest

    doc, _ = shape("diamond", None)
    flow_id = next(_ids)
    assert execute(stack, doc, flow_id).status == "Succeed"
    with pytest.raises(InvalidRequest, match="nothing to rerun"):
        execute(stack, doc, flow_id, ExecuteStrategy.RERUN_FAILED)


def test_selected_with_an_unknown_node_is_refused_and_writes_nothing(stack: Any) -> None:
    from sqlalchemy import func
    from sqlalchemy import select

    from api.extensions import db
    from flowexec.errors import InvalidRequest
    from flowexec.store.models import WorkflowTask

    doc, _ = shape("diamond", None)
    with stack.app.app_context():
        before = db.session.execute(select(func.count()).select_from(WorkflowTask)).scalar_one()
        db.session.rollback()
    with pytest.raises(InvalidRequest, match="ghost"):
        execute(stack, doc, next(_ids), ExecuteStrategy.SELECTED, {"a", "ghost"})
    with stack.app.app_context():
        after = db.session.execute(select(func.count()).select_from(WorkflowTask)).scalar_one()
        db.session.rollback()
    assert after == before


@st.composite
def random_runs(
    draw: st.DrawFn,
) -> tuple[dict[str, Any], list[tuple[str, str]], ExecuteStrategy, set[str], str | None]:
    size = draw(st.integers(2, 9))
    keys = [f"n{i}" for i in range(size)]
    edges = [
        (keys[i], keys[j])
        for i in range(size)
        for j in range(i + 1, size)
        if draw(st.booleans()) and draw(st.integers(0, 2)) == 0
    ]
    strategy = draw(st.sampled_from(STRATEGIES))
    if strategy is ExecuteStrategy.SELECTED:
        ids = set(draw(st.lists(st.sampled_from(keys), min_size=1, unique=True)))
    elif strategy is ExecuteStrategy.EXECUTE:
        ids = set()
    else:
        ids = {draw(st.sampled_from(keys))}
    failing = draw(st.one_of(st.none(), st.sampled_from(keys)))
    nodes = [node(k, code=FAIL_CODE if k == failing else "echo {key}") for k in keys]
    return flow(nodes, edges), edges, strategy, ids, failing


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(random_runs())
def test_random_dags_run_exactly_what_the_strategy_selects(stack: Any, run: Any) -> None:
    doc, edges, strategy, ids, failing = run
    keys = {n["id"] for n in doc["nodes"]}
    if strategy is ExecuteStrategy.SELECTED:
        skipped = keys - ids
    elif strategy is ExecuteStrategy.FROM_NODE:
        (start,) = ids
        skipped = keys - reach(edges, start) - {start}
    elif strategy is ExecuteStrategy.TO_NODE:
        (end,) = ids
        skipped = keys - reach(edges, end, forward=False) - {end}
    else:
        skipped = set()
    out = execute(stack, doc, next(_ids), strategy, ids, policy="continue")
    check_invariants(doc, out, skipped)
    if failing is None or failing in skipped:
        expected_ran = keys - skipped
    else:
        expected_ran = keys - skipped - reach(edges, failing)
        assert out.states[failing] == "Failed"
    assert {k for k, r in out.rows.items() if r.started_at is not None} == expected_ran
