"""``flowexec watch`` (the live view, ``--once`` off a terminal) and ``flowexec graph`` (the API's SVG)."""

from __future__ import annotations

import io
import json
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import datetime
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from rich.console import Console

from api.cli.live import progress_table
from api.cli.live import watch
from api.embedded import embedded_stack
from tests.api.cli.test_cli import flowexec
from tests.api.conftest import execute
from tests.api.conftest import headers
from tests.conftest import EXAMPLES
from tests.conftest import TOKEN

SVG = "{http://www.w3.org/2000/svg}"
DIAMOND = ["extract_sh", "agg_sh", "report_sh", "join_end"]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An embedded home where ``flowexec run`` ran the diamond (task 1) and the failing flow (task 2)."""
    path = tmp_path_factory.mktemp("watch")
    assert flowexec("run", str(EXAMPLES / "diamond.json"), "--quiet", home=path).returncode == 0
    assert flowexec("run", str(EXAMPLES / "failing.json"), "--quiet", home=path).returncode == 1
    return path


def _rows(text: str) -> list[list[str]]:
    return [
        [cell.strip() for cell in line.strip("│").split("│")]
        for line in text.splitlines()
        if line.startswith("│")
    ]


def test_watch_once_prints_one_snapshot_grouped_by_depth(home: Path) -> None:
    result = flowexec("watch", "1", "--once", home=home, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "task 1: Succeed 100%" in result.stdout
    rows = _rows(result.stdout)
    assert [r[1] for r in rows] == DIAMOND  # parents before children
    assert [r[0] for r in rows] == ["0", "1", "", "2"]  # the depth heads each group
    assert all(r[2] == "Succeed" and r[3] == "1" and r[4].endswith("s") for r in rows)
    assert result.stdout.count("├") == 2  # a rule between depths


def test_watch_returns_when_the_execution_ended(home: Path) -> None:
    started = time.monotonic()
    ok = flowexec("watch", "1", home=home, timeout=60)
    exec_id = json.loads(flowexec("show", "2", "--json", home=home, timeout=60).stdout)["execID"]
    failed = flowexec("watch", exec_id, home=home, timeout=60)
    assert time.monotonic() - started < 50
    assert ok.returncode == 0 and "Succeed" in ok.stdout
    assert failed.returncode == 1 and "Failed" in failed.stdout


def test_watch_of_an_unknown_execution_is_a_usage_error(home: Path) -> None:
    result = flowexec("watch", "999", "--once", home=home, timeout=60)
    assert result.returncode == 2 and "not found" in result.stderr


def test_graph_writes_the_svg_the_api_serves(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "g.svg"
    result = flowexec("graph", "2", "-o", str(out), home=home, timeout=60)
    assert result.returncode == 0, result.stderr
    drawn = out.read_text(encoding="utf-8")
    root = ET.fromstring(drawn)
    states = {g.get("data-key"): g.get("data-state") for g in root.iter(f"{SVG}g")}
    assert "Failed" in states.values() and "Succeed" in states.values()
    detail = json.loads(flowexec("show", "2", "--json", home=home, timeout=60).stdout)
    assert states == {n["id"]: n["status"] for n in detail["nodes"]}

    from api.app import create_app

    app = create_app({"home": str(home), "token": TOKEN})
    reply = app.test_client().get("/api/v1/executions/2/graph.svg", headers=headers(_user(detail)))
    assert reply.status_code == 200 and reply.mimetype == "image/svg+xml"
    assert reply.get_data(as_text=True) + "\n" == drawn
    assert flowexec("graph", "2", home=home, timeout=60).stdout == drawn  # default: standard output


def _user(detail: dict[str, Any]) -> str:
    return str(detail["user"])


def test_progress_table_orders_by_depth_and_colours_states() -> None:
    at = datetime(2026, 1, 1, 8, 0, 0)

    def row(key: str, state: str, children: list[str], seconds: float | None = None) -> Any:
        return SimpleNamespace(
            node_key=key,
            title=key.upper(),
            state=state,
            children=json.dumps(children),
            attempt=1 if seconds is not None else 0,
            started_at=at if seconds is not None else None,
            finished_at=at + timedelta(seconds=seconds) if seconds else None,
        )

    # given in reverse order: the table still starts from the root (within a depth, rows keep their order)
    nodes = [
        row("d", "Pending", []),
        row("c", "Running", ["d"], 0),
        row("b", "Failed", ["d"], 2.5),
        row("a", "Succeed", ["b", "c"], 1.25),
    ]
    task = SimpleNamespace(id=7, um_user="alice", status="Running", progress=0.5)
    console = Console(file=io.StringIO(), width=100, color_system="truecolor", force_terminal=True)
    console.print(progress_table(task, nodes))
    text = console.file.getvalue()  # type: ignore[attr-defined]
    plain = Console(file=io.StringIO(), width=100)
    plain.print(progress_table(task, nodes))
    rows = _rows(plain.file.getvalue())  # type: ignore[attr-defined]
    assert [r[1] for r in rows] == ["A", "C", "B", "D"]
    assert [r[0] for r in rows] == ["0", "1", "", "2"]
    assert rows[0][4] == "1.25s" and rows[2][4] == "2.50s" and rows[3][4] == ""
    assert float(rows[1][4].rstrip("s")) > 0  # running: counted up to now
    assert "task 7: Running 50%" in plain.file.getvalue()  # type: ignore[attr-defined]
    assert "\x1b[31mFailed" in text and "\x1b[32mSucceed" in text  # red, green


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    home = tmp_path_factory.mktemp("watch-live")
    with embedded_stack({"home": str(home), "token": TOKEN, "poll_first": 0.05, "poll_max": 0.2}) as running:
        yield running


def test_watch_follows_a_running_flow_to_its_end(stack: Any, client: Any) -> None:
    from tests.api.conftest import register

    register(client, "diamond.json", 7201)
    _, task_id = execute(client, 7201)
    seen: list[str] = []
    console = Console(file=io.StringIO(), width=100)
    with stack.app.app_context():
        import api.cli.live

        original = api.cli.live.progress_table

        def spy(task: Any, nodes: Any) -> Any:
            seen.append(task.status)
            return original(task, nodes)

        api.cli.live.progress_table = spy
        try:
            task, nodes = watch(task_id, console, live=True, timeout=60, every=0.02)
        finally:
            api.cli.live.progress_table = original
    assert task.status == "Succeed" and [n.state for n in nodes] == ["Succeed"] * 4
    assert len(seen) > 1 and seen[-1] == "Succeed" and seen[0] != "Succeed"  # refreshed while it ran
