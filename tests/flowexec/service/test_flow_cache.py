"""A version is parsed once per process; the owner check still runs on every load, and a flow
that looks up a subflow is parsed again each time (the child's newest version can change)."""

from __future__ import annotations

from typing import Any

import pytest

from flowexec.errors import NotAllowed
from flowexec.service import flows
from flowexec.store.db import in_transaction


def node(key: str, job_type: str = "linkis.control.empty", **content: Any) -> dict[str, Any]:
    return {"id": key, "title": key, "jobType": job_type, "jobContent": content}


def load(flow_id: int, user: str, version: str | None = None) -> Any:
    return in_transaction(lambda session: flows.load_flow(session, flow_id, version, user))


def test_a_version_is_parsed_once_and_its_owner_checked_each_time(sqlite_app: Any) -> None:
    doc = {"nodes": [node("a"), node("b")], "edges": [{"source": "a", "target": "b"}]}
    with sqlite_app.app_context():
        ref = flows.register_flow(doc, {}, flow_id=7101, user="alice")
        registered = flows._parsed[(flows.content_hash(doc, {}), None)]  # kept by the registration
        row, first = load(7101, "alice")
        assert first is registered
        again_row, again = load(7101, "alice", ref.version)
        assert again is first  # from the cache, not parsed again
        assert (row.flow_id, row.version, row.owner, again_row.version) == (
            7101,
            ref.version,
            "alice",
            ref.version,
        )
        assert first.keys == ("a", "b") and first.children["a"] == ("b",)
        with pytest.raises(NotAllowed):
            load(7101, "mallory")


def test_a_flow_naming_a_registered_subflow_sees_its_newest_version(sqlite_app: Any) -> None:
    with sqlite_app.app_context():
        flows.register_flow({"nodes": [node("x")], "edges": []}, {}, flow_id=7201, user="alice")
        parent = {"nodes": [node("s", "workflow.subflow", embeddedFlowId="7201")], "edges": []}
        flows.register_flow(parent, {}, flow_id=7202, user="alice")
        assert (flows.content_hash(parent, {}), None) not in flows._parsed
        assert load(7202, "alice")[1].keys == ("s", "s/x")
        flows.register_flow({"nodes": [node("y")], "edges": []}, {}, flow_id=7201, user="alice")
        assert load(7202, "alice")[1].keys == ("s", "s/y")


def test_the_cache_keeps_a_bounded_number_of_nodes(sqlite_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(flows, "PARSED_NODES", 5)
    with sqlite_app.app_context():
        for i in range(4):
            doc = {"nodes": [node(f"n{i}"), node("m")], "edges": []}
            flows.register_flow(doc, {}, flow_id=7300 + i, user="alice")
            load(7300 + i, "alice")
        assert sum(len(f.nodes) for f in flows._parsed.values()) <= 5
        assert flows._parsed_nodes == sum(len(f.nodes) for f in flows._parsed.values())
