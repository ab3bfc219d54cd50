"""Tests for flowexec.graph: parsing DSS flow JSON into a validated DAG."""

from __future__ import annotations

import copy
import itertools
import json
import re

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from flowexec import graph
from flowexec.errors import InvalidFlow
from flowexec.graph import NodeKind
from tests.graphs import reach

EXTRACT = "5c1d0e2a-1111-4a6b-8c3d-000000000a01"
AGG = "5c1d0e2a-2222-4a6b-8c3d-000000000a02"
SCORE = "5c1d0e2a-3333-4a6b-8c3d-000000000a03"
JOIN = "5c1d0e2a-4444-4a6b-8c3d-000000000a04"

#: dss-api.md §2.6, verbatim apart from layout.
EXAMPLE = {
    "nodes": [
        {
            "id": EXTRACT,
            "key": EXTRACT,
            "title": "extract_sh",
            "jobType": "linkis.shell.sh",
            "jobContent": {"script": "extract_sh_0301.sh"},
            "resources": [
                {
                    "fileName": "extract_sh_0301.sh",
                    "resourceId": "9e7b6a50-aaaa-4f00-9000-00000000b001",
                    "version": "v000002",
                }
            ],
            "params": {
                "variable": {},
                "configuration": {"startup": {}, "runtime": {}, "special": {}},
            },
        },
        {
            "id": AGG,
            "key": AGG,
            "title": "agg_sql",
            "jobType": "linkis.spark.sql",
            "jobContent": {"script": "agg_sql_0301.sql"},
            "resources": [
                {
                    "fileName": "agg_sql_0301.sql",
                    "resourceId": "9e7b6a50-aaaa-4f00-9000-00000000b002",
                    "version": "v000005",
                }
            ],
            "params": {
                "variable": {},
                "configuration": {
                    "startup": {"spark.executor.memory": "2g"},
                    "runtime": {},
                    "special": {},
                },
            },
        },
        {
            "id": SCORE,
            "key": SCORE,
            "title": "score_py",
            "jobType": "linkis.python.python",
            "jobContent": {"script": "score_py_0301.python"},
            "resources": [
                {
                    "fileName": "score_py_0301.python",
                    "resourceId": "9e7b6a50-aaaa-4f00-9000-00000000b003",
                    "version": "v000001",
                }
            ],
            "params": {
                "variable": {},
                "configuration": {
                    "startup": {},
                    "runtime": {},
                    "special": {"auto.disabled": "false"},
                },
            },
        },
        {
            "id": JOIN,
            "key": JOIN,
            "title": "join_end",
            "jobType": "linkis.control.empty",
            "jobContent": {},
            "resources": [],
            "params": {"configuration": {"startup": {}, "runtime": {}, "special": {}}},
        },
    ],
    "edges": [
        {"source": EXTRACT, "target": AGG},
        {"source": EXTRACT, "target": SCORE},
        {"source": AGG, "target": JOIN},
        {"source": SCORE, "target": JOIN},
    ],
    "props": [
        {"user.to.proxy": "alice"},
        {"run_date": "20250301"},
        {"target_db": "dw_sales"},
    ],
    "resources": [],
    "contextID": "{}",
    "type": "flow",
    "updateUser": "alice",
}
SCRIPTS = {
    "extract_sh_0301.sh": "echo extract ${run_date}\n",
    "agg_sql_0301.sql": "select count(*) from ${target_db}.sales\n",
    "score_py_0301.python": "print('score')\n",
}


def node(key, job_type="linkis.shell.sh", code="echo hi", **extra):
    raw = {"id": key, "title": key, "jobType": job_type, "jobContent": {"code": code}}
    raw.update(extra)
    return raw


def doc(nodes, edges=(), **extra):
    out = {
        "nodes": [node(n) if isinstance(n, str) else n for n in nodes],
        "edges": [{"source": s, "target": t} for s, t in edges],
    }
    out.update(extra)
    return out


def example():
    return copy.deepcopy(EXAMPLE)


# --- the DSS example -------------------------------------------------------------------------


def test_example_parses_into_the_diamond():
    flow = graph.parse_flow(example(), SCRIPTS)

    assert set(flow.keys) == {EXTRACT, AGG, SCORE, JOIN}
    assert flow.keys[0] == EXTRACT and flow.keys[-1] == JOIN
    assert flow.parents[EXTRACT] == ()
    assert flow.parents[AGG] == (EXTRACT,)
    assert flow.parents[SCORE] == (EXTRACT,)
    assert set(flow.parents[JOIN]) == {AGG, SCORE}
    assert set(flow.children[EXTRACT]) == {AGG, SCORE}
    assert flow.children[AGG] == (JOIN,)
    assert flow.children[SCORE] == (JOIN,)
    assert flow.children[JOIN] == ()
    assert set(flow.edges) == {
        (EXTRACT, AGG),
        (EXTRACT, SCORE),
        (AGG, JOIN),
        (SCORE, JOIN),
    }


def test_example_nodes_are_resolved():
    flow = graph.parse_flow(example(), SCRIPTS)

    extract = flow.node(EXTRACT)
    assert (extract.title, extract.kind, extract.engine, extract.run_type) == (
        "extract_sh",
        NodeKind.LINKIS,
        "shell",
        "shell",
    )
    assert extract.code == SCRIPTS["extract_sh_0301.sh"]
    assert extract.script == "extract_sh_0301.sh"

    agg = flow.node(AGG)
    assert (agg.engine, agg.run_type, agg.job_type) == (
        "spark",
        "sql",
        "linkis.spark.sql",
    )
    assert agg.configuration["startup"] == {"spark.executor.memory": "2g"}
    assert agg.configuration["runtime"] == {} and agg.configuration["special"] == {}

    score = flow.node(SCORE)
    assert (score.engine, score.run_type) == ("python", "python")
    assert score.disabled is False

    join = flow.node(JOIN)
    assert join.kind is NodeKind.EMPTY
    assert (join.engine, join.run_type, join.code, join.script) == (
        None,
        None,
        None,
        None,
    )


def test_example_props_are_merged_from_one_key_objects():
    flow = graph.parse_flow(example(), SCRIPTS)
    assert flow.props == {
        "user.to.proxy": "alice",
        "run_date": "20250301",
        "target_db": "dw_sales",
    }


def test_example_via_loads_of_its_json_text():
    flow = graph.parse_flow(graph.loads(json.dumps(EXAMPLE)), SCRIPTS)
    assert flow == graph.parse_flow(example(), SCRIPTS)


def test_script_names_of_the_example():
    assert graph.script_names(EXAMPLE) == (
        "extract_sh_0301.sh",
        "agg_sql_0301.sql",
        "score_py_0301.python",
    )


def test_script_names_skips_inline_code_and_deduplicates():
    d = doc(
        [
            {"id": "a", "jobType": "linkis.shell.sh", "jobContent": {"script": "x.sh"}},
            {"id": "b", "jobType": "linkis.shell.sh", "jobContent": {"script": "x.sh"}},
            {
                "id": "c",
                "jobType": "linkis.shell.sh",
                "jobContent": {"script": "y.sh", "code": "ls"},
            },
            {"id": "d", "jobType": "linkis.shell.sh", "jobContent": {"script": "z.sh"}},
        ]
    )
    assert graph.script_names(d) == ("x.sh", "z.sh")


@pytest.mark.parametrize("bad", [None, [], "nodes", {"nodes": "x"}, {"edges": []}])
def test_script_names_of_non_flows_is_empty(bad):
    assert graph.script_names(bad) == ()


# --- props -----------------------------------------------------------------------------------


def test_props_later_objects_win_and_values_become_strings():
    flow = graph.parse_flow(doc(["a"], props=[{"x": "1"}, {"x": "2"}, {"n": 3}, {"none": None}]))
    assert flow.props == {"x": "2", "n": "3", "none": ""}


def test_props_may_be_missing_or_a_plain_object():
    assert graph.parse_flow(doc(["a"])).props == {}
    assert graph.parse_flow(doc(["a"], props={"k": "v"})).props == {"k": "v"}


def test_props_of_another_type_is_invalid():
    with pytest.raises(InvalidFlow, match="props"):
        graph.parse_flow(doc(["a"], props="user.to.proxy=alice"))


# --- jobType ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("job_type", "engine", "run_type"),
    [
        ("linkis.shell.sh", "shell", "shell"),
        ("linkis.python.python", "python", "python"),
        ("linkis.spark.sql", "spark", "sql"),
        ("linkis.spark.py", "spark", "py"),
        ("linkis.spark.scala", "spark", "scala"),
        ("linkis.hive.hql", "hive", "hql"),
        ("linkis.jdbc.jdbc", "jdbc", "jdbc"),
        ("linkis.nebula.nebula", "nebula", "nebula"),
    ],
)
def test_job_type_is_split_into_engine_and_run_type(job_type, engine, run_type):
    n = graph.parse_flow(doc([node("a", job_type)])).node("a")
    assert (n.kind, n.engine, n.run_type, n.code) == (
        NodeKind.LINKIS,
        engine,
        run_type,
        "echo hi",
    )


def test_appconn_code_is_its_job_content_json():
    content = {"source.type": "job", "check.object": "db.tbl", "max.check.hours": "1"}
    raw = {"id": "dc", "jobType": "linkis.appconn.datachecker", "jobContent": content}
    n = graph.parse_flow(doc([raw])).node("dc")
    assert (n.kind, n.engine, n.run_type, n.script) == (
        NodeKind.LINKIS,
        "appconn",
        "datachecker",
        None,
    )
    assert json.loads(n.code) == content


def test_empty_node_needs_no_code():
    raw = {"id": "e", "jobType": "linkis.control.empty"}
    n = graph.parse_flow(doc([raw])).node("e")
    assert n.kind is NodeKind.EMPTY and n.engine is None and n.code is None


def test_subflow_keeps_its_embedded_flow_id():
    raw = {
        "id": "s",
        "jobType": "workflow.subflow",
        "jobContent": {"embeddedFlowId": 42},
    }
    n = graph.parse_flow(doc([raw])).node("s")
    assert n.kind is NodeKind.SUBFLOW
    assert n.embedded_flow_id == "42"
    assert n.code is None


def test_subflow_without_embedded_flow_id():
    n = graph.parse_flow(doc([{"id": "s", "jobType": "workflow.subflow"}])).node("s")
    assert n.kind is NodeKind.SUBFLOW and n.embedded_flow_id is None


@pytest.mark.parametrize(
    "job_type",
    [
        "linkis",
        "linkis.shell",
        "linkis..sql",
        "dss.shell.sh",
        "shell.sh",
        "workflow.sub",
    ],
)
def test_unknown_job_type_is_invalid(job_type):
    with pytest.raises(InvalidFlow) as info:
        graph.parse_flow(doc([node("a", job_type)]))
    assert "unknown jobType" in info.value.message
    assert repr(job_type) in info.value.message
    assert "'a'" in info.value.message


@pytest.mark.parametrize("job_type", [None, "", 7])
def test_missing_job_type_is_invalid(job_type):
    raw = {"id": "a", "jobContent": {"code": "ls"}}
    if job_type is not None:
        raw["jobType"] = job_type
    with pytest.raises(InvalidFlow, match=r"node 'a' has no jobType"):
        graph.parse_flow(doc([raw]))


# --- auto.disabled ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "disabled"),
    [
        ("true", True),
        ("TRUE", True),
        ("True", True),
        ("tRuE", True),
        (True, True),
        ("false", False),
        ("False", False),
        ("yes", False),
        ("1", False),
        ("", False),
        (None, False),
    ],
)
def test_auto_disabled_is_case_insensitive(value, disabled):
    special = {} if value is None else {"auto.disabled": value}
    raw = node("a", params={"configuration": {"special": special}})
    assert graph.parse_flow(doc([raw])).node("a").disabled is disabled


def test_params_variables_and_missing_configuration_parts():
    raw = node("a", params={"variable": {"x": "1"}, "configuration": {"startup": {"k": "v"}}})
    n = graph.parse_flow(doc([raw])).node("a")
    assert n.variables == {"x": "1"}
    assert n.configuration == {"startup": {"k": "v"}, "runtime": {}, "special": {}}


# --- code and scripts ------------------------------------------------------------------------


def test_inline_code_wins_over_script():
    raw = {
        "id": "a",
        "jobType": "linkis.shell.sh",
        "jobContent": {"code": "ls", "script": "a.sh"},
    }
    n = graph.parse_flow(doc([raw]), {"a.sh": "echo script"}).node("a")
    assert (n.code, n.script) == ("ls", None)


def test_missing_script_fails_the_node_not_the_parse():
    raw = {"id": "a", "jobType": "linkis.shell.sh", "jobContent": {"script": "gone.sh"}}
    for scripts in ({"other.sh": "ls"}, None):
        n = graph.parse_flow(doc([raw]), scripts).node("a")
        assert (n.code, n.script, n.bml) == (None, "gone.sh", None)
        assert n.script_error == graph.NO_SCRIPT_RESOURCE == "Failed to get script resource"


def test_script_in_resources_is_read_from_bml_first():
    raw = {
        "id": "a",
        "jobType": "linkis.spark.sql",
        "jobContent": {"script": "a.sql"},
        "resources": [
            {"fileName": "b.sql", "resourceId": "r-b", "version": "v000001"},
            {"fileName": "a.sql", "resourceId": "r-a", "version": "v000003"},
            {"fileName": "a.sql", "resourceId": "r-a2", "version": "v000009"},
        ],
    }
    n = graph.parse_flow(doc([raw])).node("a")
    assert n.bml == graph.ScriptRef("a.sql", "r-a", "v000003")
    assert (n.code, n.script_error) == (None, None)
    # A local copy is kept as the fallback when BML has no such resource.
    local = graph.parse_flow(doc([raw]), {"a.sql": "select 1"}).node("a")
    assert (local.bml, local.code) == (n.bml, "select 1")


@pytest.mark.parametrize(
    ("job_type", "engine", "run_type"),
    [
        ("linkis.cobol.cbl", "cobol", "cbl"),
        ("linkis.spark.py", "spark", "py"),
        ("linkis.appconn.eventchecker.sender", "appconn", "eventchecker.sender"),
        ("linkis.appjoint.qualitis", "appconn", "qualitis"),
        ("linkis.appjoint.datachecker", "appconn", "datachecker"),
    ],
)
def test_any_linkis_engine_is_accepted(job_type, engine, run_type):
    content = {"code": "x"} if engine != "appconn" else {"check.object": "db.t", "max.check.hours": "1"}
    n = graph.parse_flow(doc([{"id": "a", "jobType": job_type, "jobContent": content}])).node("a")
    assert (n.kind, n.engine, n.run_type) == (NodeKind.LINKIS, engine, run_type)
    if engine == "appconn":
        assert n.code == '{"check.object":"db.t","max.check.hours":"1"}'


@pytest.mark.parametrize("text", ["", "   \n\t"])
def test_empty_script_is_invalid(text):
    raw = {"id": "a", "jobType": "linkis.shell.sh", "jobContent": {"script": "e.sh"}}
    with pytest.raises(InvalidFlow) as info:
        graph.parse_flow(doc([raw]), {"e.sh": text})
    assert "'e.sh'" in info.value.message and "empty" in info.value.message


@pytest.mark.parametrize("content", [None, {}, {"code": ""}, {"code": "  "}, {"script": ""}, {"code": 5}])
def test_node_without_code_fails_at_submit_as_dss(content):
    raw = {"id": "a", "jobType": "linkis.shell.sh"}
    if content is not None:
        raw["jobContent"] = content
    n = graph.parse_flow(doc([raw])).node("a")
    assert n.code is None
    assert n.script_error == ("Script is empty" if content is None else "Failed to get script resource")


# --- structural errors -----------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "{", '{"nodes": [}', "nodes: []", "{'nodes': []}"])
def test_loads_malformed_json_is_invalid(text):
    with pytest.raises(InvalidFlow, match="not valid JSON"):
        graph.loads(text)


def test_loads_names_the_position():
    with pytest.raises(InvalidFlow, match=r"line 1 column \d+"):
        graph.loads('{"nodes": [}')


def test_invalid_flow_carries_the_dss_error_code():
    with pytest.raises(InvalidFlow) as info:
        graph.loads("{")
    assert info.value.code == 90100


@pytest.mark.parametrize("bad", [None, [], "flow", 3, [{"nodes": []}]])
def test_flow_that_is_not_an_object(bad):
    with pytest.raises(InvalidFlow, match="must be a JSON object"):
        graph.parse_flow(bad)


@pytest.mark.parametrize("bad", [{}, {"nodes": []}, {"nodes": None}, {"nodes": {"a": {}}}, {"edges": []}])
def test_flow_without_nodes(bad):
    with pytest.raises(InvalidFlow, match="no nodes"):
        graph.parse_flow(bad)


def test_node_that_is_not_an_object():
    with pytest.raises(InvalidFlow, match="node #1 must be an object"):
        graph.parse_flow({"nodes": [node("a"), "b"]})


@pytest.mark.parametrize("key", [None, "", "  ", 12])
def test_node_without_id(key):
    raw = {"jobType": "linkis.shell.sh", "jobContent": {"code": "ls"}}
    if key is not None:
        raw["id"] = key
    with pytest.raises(InvalidFlow, match="node #0 has no 'id'"):
        graph.parse_flow({"nodes": [raw]})


def test_key_is_used_when_id_is_missing():
    raw = {"key": "k1", "jobType": "linkis.shell.sh", "jobContent": {"code": "ls"}}
    flow = graph.parse_flow({"nodes": [raw]})
    assert flow.keys == ("k1",)
    assert flow.node("k1").title == "k1"


def test_duplicate_ids():
    with pytest.raises(InvalidFlow, match="duplicate node id 'b'"):
        graph.parse_flow(doc(["a", "b", "c", "b"]))


@pytest.mark.parametrize(
    ("edges", "message"),
    [
        ([("a", "zz")], "edge #0 target 'zz' names no node"),
        ([("a", "b"), ("zz", "b")], "edge #1 source 'zz' names no node"),
        ([("a", None)], "edge #0 target None names no node"),
    ],
)
def test_edge_to_missing_node(edges, message):
    with pytest.raises(InvalidFlow) as info:
        graph.parse_flow(doc(["a", "b"], edges))
    assert info.value.message == message


def test_edges_must_be_a_list_of_objects():
    with pytest.raises(InvalidFlow, match="'edges' must be a list"):
        graph.parse_flow({"nodes": [node("a")], "edges": {"source": "a"}})
    with pytest.raises(InvalidFlow, match="edge #0 must be an object"):
        graph.parse_flow({"nodes": [node("a")], "edges": ["a->a"]})


def test_duplicate_edges_count_once():
    flow = graph.parse_flow(doc(["a", "b"], [("a", "b"), ("a", "b")]))
    assert flow.parents["b"] == ("a",)
    assert flow.children["a"] == ("b",)


def test_self_loop():
    with pytest.raises(InvalidFlow) as info:
        graph.parse_flow(doc(["a", "b"], [("a", "b"), ("b", "b")]))
    assert info.value.message == "cycle: b -> b"


def cycle_path(message):
    assert message.startswith("cycle: ")
    return message[len("cycle: ") :].split(" -> ")


def assert_real_cycle(path, edges):
    assert len(path) >= 2
    assert path[0] == path[-1]
    assert len(set(path[:-1])) == len(path) - 1, f"not a simple cycle: {path}"
    for a, b in itertools.pairwise(path):
        assert (a, b) in set(edges), f"{a} -> {b} is not an edge"


def test_cycle_names_its_path():
    edges = [("a", "b"), ("b", "c"), ("c", "a")]
    with pytest.raises(InvalidFlow) as info:
        graph.parse_flow(doc(["a", "b", "c"], edges))
    path = cycle_path(info.value.message)
    assert_real_cycle(path, edges)
    assert set(path) == {"a", "b", "c"}
    # The same cycle, whichever node it starts with.
    rotations = {("a", "b", "c", "a"), ("b", "c", "a", "b"), ("c", "a", "b", "c")}
    assert tuple(path) in rotations


def test_cycle_behind_an_acyclic_prefix_and_with_a_tail():
    # root -> x -> y -> z -> x, z -> tail: only x, y, z are on the cycle.
    edges = [("root", "x"), ("x", "y"), ("y", "z"), ("z", "x"), ("z", "tail")]
    with pytest.raises(InvalidFlow) as info:
        graph.parse_flow(doc(["tail", "root", "x", "y", "z"], edges))
    path = cycle_path(info.value.message)
    assert_real_cycle(path, edges)
    assert set(path) == {"x", "y", "z"}


@settings(max_examples=100, deadline=None, database=None)
@given(data=st.data())
def test_any_back_edge_is_reported_as_a_real_cycle(data):
    n = data.draw(st.integers(2, 12), label="n")
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    edges = set(data.draw(st.lists(st.sampled_from(pairs), max_size=30), label="edges"))
    i, j = data.draw(st.sampled_from(pairs), label="back")
    edges.add((i, j))
    keys = [f"n{k}" for k in range(n)]
    named = [(keys[a], keys[b]) for a, b in edges] + [(keys[j], keys[i])]
    order = data.draw(st.permutations(keys), label="order")
    with pytest.raises(InvalidFlow) as info:
        graph.parse_flow(doc(order, named))
    assert_real_cycle(cycle_path(info.value.message), named)


# --- order and reachability ------------------------------------------------------------------


@st.composite
def dags(draw, max_nodes=15):
    n = draw(st.integers(1, max_nodes))
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    edges = draw(st.sets(st.sampled_from(pairs), max_size=40)) if pairs else set()
    perm = draw(st.permutations(range(n)))
    keys = [f"k{i}" for i in range(n)]
    return keys, [(keys[a], keys[b]) for a, b in sorted(edges)], [keys[p] for p in perm]


@settings(max_examples=150, deadline=None, database=None)
@given(dags())
def test_random_dag_topological_order_and_links(dag):
    keys, edges, listed = dag
    flow = graph.parse_flow(doc(listed, edges))

    assert sorted(flow.keys) == sorted(keys)
    position = {k: i for i, k in enumerate(flow.keys)}
    for a, b in edges:
        assert position[a] < position[b], f"{a} -> {b} out of order"
    assert set(flow.edges) == set(edges)
    for k in keys:
        assert set(flow.parents[k]) == {a for a, b in edges if b == k}
        assert set(flow.children[k]) == {b for a, b in edges if a == k}
        assert graph.descendants(flow, k) == reach(edges, k)
        assert graph.ancestors(flow, k) == reach(edges, k, forward=False)
        assert k not in graph.descendants(flow, k)


def test_descendants_and_ancestors_of_the_example():
    flow = graph.parse_flow(example(), SCRIPTS)
    assert graph.descendants(flow, EXTRACT) == {AGG, SCORE, JOIN}
    assert graph.descendants(flow, AGG) == {JOIN}
    assert graph.descendants(flow, JOIN) == frozenset()
    assert graph.ancestors(flow, JOIN) == {EXTRACT, AGG, SCORE}
    assert graph.ancestors(flow, SCORE) == {EXTRACT}
    assert graph.ancestors(flow, EXTRACT) == frozenset()


def test_flow_is_frozen():
    flow = graph.parse_flow(doc(["a"]))
    with pytest.raises(AttributeError):
        flow.nodes = ()  # type: ignore[misc]
    with pytest.raises(AttributeError):
        flow.node("a").code = "rm -rf /"  # type: ignore[misc]


def test_topological_order_keeps_an_already_sorted_input():
    assert graph.topological_order(["a", "b", "c"], {"a": [], "b": [], "c": []}) == [
        "a",
        "b",
        "c",
    ]


def test_topological_order_cycle_error_is_raised_directly():
    with pytest.raises(InvalidFlow) as info:
        graph.topological_order(["p", "q"], {"p": ["q"], "q": ["p"]})
    assert_real_cycle(cycle_path(info.value.message), [("p", "q"), ("q", "p")])


def test_cycle_message_format():
    with pytest.raises(InvalidFlow) as info:
        graph.parse_flow(doc(["a", "b"], [("a", "b"), ("b", "a")]))
    assert re.fullmatch(r"cycle: (a -> b -> a|b -> a -> b)", info.value.message)
