"""The embedded start's shortcuts: migrations only when not at head, a timer and a broker that
notice a stop, an event-driven wait, and the ``flowexec`` command importing what it uses."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from api import embedded
from api.app import create_app
from api.app import migrations_dir
from api.cli.live import committed_moves
from flowexec.events import Change
from flowexec.events import Transitions
from flowexec.events import node_transitioned
from flowexec.state import NodeState


def _app(home: Path):  # type: ignore[no-untyped-def]
    return create_app({"home": str(home), "broker_url": "memory://", "token": "t"}, http=False)


def test_script_head_is_the_last_revision_of_the_scripts() -> None:
    names = sorted(p.stem for p in Path(migrations_dir(), "versions").glob("*.py"))
    assert embedded.script_head(migrations_dir()) == names[-1]


def test_script_head_is_none_when_the_scripts_branch(tmp_path: Path) -> None:
    (tmp_path / "versions").mkdir()
    for name, parent in (("a", None), ("b", "a"), ("c", "a")):
        text = f'revision = "{name}"\ndown_revision = {parent!r}\n'
        (tmp_path / "versions" / f"{name}.py").write_text(text)
    assert embedded.script_head(str(tmp_path)) is None


def test_upgrade_runs_on_a_new_database_and_is_skipped_at_head(tmp_path: Path) -> None:
    app = _app(tmp_path)
    assert not embedded.at_head(app)
    embedded.upgrade_database(app)
    assert embedded.at_head(app)
    again = _app(tmp_path)
    embedded.upgrade_database(again)  # at head: Flask-Migrate is never bound
    assert "migrate" not in dict.keys(again.extensions)
    with app.app_context():
        from api.extensions import db

        with db.engine.begin() as conn:
            conn.execute(sa.text("UPDATE alembic_version SET version_num = '0008_idempotency_key'"))
    assert not embedded.at_head(again)  # behind: the next start upgrades


def test_waking_timer_stops_with_nothing_scheduled() -> None:
    timer = embedded.WakingTimer()
    timer.ensure_started()
    stopped = threading.Thread(target=timer.stop)
    stopped.start()
    stopped.join(0.5)  # the plain timer waits out its one-second wait for an entry
    assert not stopped.is_alive()


def test_committed_moves_wakes_after_the_commit_of_the_last_move(tmp_path: Path) -> None:
    app = _app(tmp_path)
    embedded.upgrade_database(app)
    from api.extensions import db

    def batch(task_id: int, settled: int) -> Transitions:
        change = Change("a", NodeState.RUNNING, NodeState.SUCCEED)
        return Transitions(task_id, 1, "v1", settled, 2, (change,))

    with app.app_context(), committed_moves(7, every_move=False) as moved:
        node_transitioned.send(db.session, batch=batch(7, 1))  # not the last node
        db.session.commit()
        assert not moved.is_set()
        node_transitioned.send(db.session, batch=batch(8, 2))  # another execution
        db.session.commit()
        assert not moved.is_set()
        node_transitioned.send(db.session, batch=batch(7, 2))
        assert not moved.is_set()  # sent inside the transaction: not yet
        db.session.commit()
        assert moved.is_set()


@pytest.mark.parametrize("argv", [["--help"], ["run", "--help"]])
def test_help_imports_no_database_broker_or_web_framework(argv: list[str]) -> None:
    code = (
        "import sys, runpy; sys.argv = ['flowexec', *sys.argv[1:]]\n"
        "try:\n    runpy.run_module('api.cli', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "print(sorted(m for m in ('sqlalchemy', 'celery', 'flask', 'alembic', 'rich') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("value", ["0", "many"])
def test_gateway_max_running_must_be_a_positive_whole_number(value: str) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "api.cli", "gateway", "--max-running", value], capture_output=True, text=True
    )
    assert out.returncode == 2 and "--max-running" in out.stderr
