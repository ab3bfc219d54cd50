"""Exported DSS flows run as a DSS user runs them: scripts uploaded to BML, AppConn and Spark
simulated on the local gateway, and DSS's errors failing the node they belong to."""

from __future__ import annotations

import collections
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from api.cli import main
from tests.api.cli.test_cli import flowexec
from tests.conftest import EXAMPLES

DSS = EXAMPLES / "dss"


def upload_all(home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """``flowexec bml upload FILE --resource-id … --version …`` for every script the flow names."""
    monkeypatch.setenv("FLOWEXEC_HOME", str(home))
    for name in ("FLOWEXEC_DATABASE_URL", "FLOWEXEC_BROKER_URL", "FLOWEXEC_LINKIS_URL"):
        monkeypatch.delenv(name, raising=False)
    for entry in json.loads((DSS / "resources.json").read_text()):
        args = ["bml", "upload", str(DSS / entry["file"]), "--resource-id", entry["resourceId"]]
        assert main([*args, "--version", entry["version"]]) == 0
        printed = json.loads(capsys.readouterr().out)
        assert printed == {"resourceId": entry["resourceId"], "version": entry["version"]}


def jobs_per_node(home: Path) -> collections.Counter[str]:
    with sqlite3.connect(home / "gateway" / "history.db") as conn:
        rows = conn.execute("SELECT source_json FROM task").fetchall()
    return collections.Counter(json.loads(r[0])["nodeName"] for r in rows)


def test_production_flow_runs_once_per_node_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = json.loads((DSS / "daily_dw.json").read_text())
    assert len(doc["nodes"]) >= 120
    upload_all(tmp_path, monkeypatch, capsys)
    # Run from elsewhere: the scripts are not next to the flow, only in BML.
    flow = tmp_path / "daily_dw.json"
    flow.write_text(json.dumps(doc))
    result = flowexec("run", str(flow), "--simulate", "appconn,spark", "--json", home=tmp_path, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    run: dict[str, Any] = json.loads(result.stdout)
    assert run["status"] == "Succeed"
    by_id = {n["id"]: n for n in run["nodes"]}
    raw = {n["id"]: n for n in doc["nodes"]}
    skipped = {k for k, n in raw.items() if n["jobType"] == "workflow.subflow"}
    skipped |= {
        k for k, n in raw.items() if n["params"]["configuration"]["special"].get("auto.disabled") == "true"
    }
    assert {k for k, n in by_id.items() if n["status"] == "Skipped"} == skipped
    assert all(n["status"] == "Succeed" for k, n in by_id.items() if k not in skipped)
    # In dependency order (a skipped node is transparent: order holds through it).
    finished = {k: n["finishedAt"] for k, n in by_id.items()}
    for edge in doc["edges"]:
        child = by_id[edge["target"]]
        if edge["target"] not in skipped and edge["source"] not in skipped:
            assert child["startedAt"] >= finished[edge["source"]], edge
    # Exactly one Linkis job per node that runs in Linkis (not empty joins, not skipped ones).
    linkis_titles = {
        n["title"] for k, n in raw.items() if n["jobType"].startswith("linkis.") and k not in skipped
    }
    linkis_titles -= {n["title"] for n in raw.values() if n["jobType"] == "linkis.control.empty"}
    assert jobs_per_node(tmp_path) == collections.Counter(dict.fromkeys(linkis_titles, 1))
    # The script's header variables reached the job: `#@set stage=ods` under the flow's variables.
    with sqlite3.connect(tmp_path / "gateway" / "history.db") as conn:
        codes = [r[0] for r in conn.execute("SELECT code FROM task WHERE engine_type = 'shell'")]
    assert codes and all(c.startswith('echo "ods sh_') and "${" not in c for c in codes)


def node(
    key: str, job_type: str, content: Any, resources: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    raw: dict[str, Any] = {"id": key, "key": key, "title": key, "jobType": job_type}
    if content is not None:
        raw["jobContent"] = content
    if resources is not None:
        raw["resources"] = resources
    return raw


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (node("bad", "linkis.shell.sh", None), "Script is empty (errCode 90102)"),
        (
            node(
                "bad",
                "linkis.shell.sh",
                {"script": "b.sh"},
                [{"fileName": "other.sh", "resourceId": "r", "version": "v000001"}],
            ),
            "Failed to get script resource (errCode 90102)",
        ),
        (
            node(
                "bad",
                "linkis.shell.sh",
                {"script": "b.sh"},
                [{"fileName": "b.sh", "resourceId": "gone", "version": "v000001"}],
            ),
            "request failed! ResponseBody is",
        ),
        (node("bad", "linkis.appjoint.qualitis", {"ruleGroupId": "1"}), "engineConnType: appconn"),
    ],
)
def test_dss_errors_fail_that_node_not_the_parse(tmp_path: Path, bad: dict[str, Any], message: str) -> None:
    doc = {
        "nodes": [
            node("first", "linkis.shell.sh", {"code": "echo first"}),
            bad,
            node("after", "linkis.shell.sh", {"code": "echo x"}),
        ],
        "edges": [{"source": "first", "target": "bad"}, {"source": "bad", "target": "after"}],
        "props": [],
    }
    flow = tmp_path / "flow.json"
    flow.write_text(json.dumps(doc))
    result = flowexec("run", str(flow), "--json", home=tmp_path)
    assert result.returncode == 1, result.stderr
    nodes = {n["id"]: n for n in json.loads(result.stdout)["nodes"]}
    assert nodes["first"]["status"] == "Succeed"
    assert nodes["bad"]["status"] == "Failed" and message in nodes["bad"]["error"]
    assert nodes["after"]["status"] == "Cancelled" and nodes["after"]["startedAt"] is None


def test_simulate_is_refused_for_a_real_linkis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWEXEC_LINKIS_URL", "http://linkis.example:9001")
    monkeypatch.setenv("FLOWEXEC_HOME", str(tmp_path))
    assert main(["run", str(EXAMPLES / "diamond.json"), "--simulate", "spark"]) == 2
