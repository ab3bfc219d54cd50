"""The live node table: ``flowexec run`` and ``flowexec watch`` refresh it until an execution ends."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator
from collections.abc import Sequence
from contextlib import AbstractContextManager
from contextlib import contextmanager
from contextlib import nullcontext
from typing import TYPE_CHECKING
from typing import Any

from api.cli.common import STATE_STYLE
from flowexec.errors import FlowexecError
from flowexec.state import RUN_TERMINAL
from flowexec.state import RunState

if TYPE_CHECKING:
    from rich.console import Console
    from rich.live import Live
    from rich.table import Table


#: Least time between two reads of the live table when its nodes move often.
LIVE_GAP = 0.125


@contextmanager
def committed_moves(task_id: int, every_move: bool) -> Iterator[threading.Event]:
    """An event set when a transaction of this process that moved the execution's nodes has
    committed: each such move (``every_move``) or only the one that settled its last node.

    ``node_transitioned`` is sent inside the transaction; the event waits for its commit, so a
    read after the wake-up sees the move. Moves made by other processes set nothing: the
    caller's wait has a timeout.
    """
    from sqlalchemy import event
    from sqlalchemy.orm import scoped_session

    from flowexec.events import Transitions
    from flowexec.events import node_transitioned

    moved = threading.Event()

    def on_commit(_session: Any) -> None:
        moved.set()

    def on_moves(sender: Any, batch: Transitions, **_: Any) -> None:
        if batch.task_id != task_id or not (every_move or batch.settled >= batch.total):
            return
        session = sender() if isinstance(sender, scoped_session) else sender
        event.listen(session, "after_commit", on_commit, once=True)

    node_transitioned.connect(on_moves, weak=False)
    try:
        yield moved
    finally:
        node_transitioned.disconnect(on_moves)


def progress_console(quiet: bool) -> Console | None:
    """stderr's console when it shows the live table (a terminal, not ``--quiet``), else None;
    rich is imported only then (``flowexec run --json`` in a pipe never loads it)."""
    if quiet or not sys.stderr.isatty():
        return None
    from rich.console import Console

    console = Console(stderr=True)
    return console if console.is_terminal else None


def watch(
    task_id: int, console: Console | None, live: bool, timeout: float | None = None, every: float = 0.05
) -> tuple[Any, Any]:
    """Refresh the node table until the execution ends: at once when this process moves its
    nodes (``flowexec run``), else every ``every`` seconds (another process runs it)."""
    from flowexec import service

    deadline = time.monotonic() + timeout if timeout else None
    view: AbstractContextManager[Live | None] = nullcontext()
    if live and console is not None:
        from rich.live import Live

        view = Live(console=console, refresh_per_second=8, transient=True)
    with view as shown, committed_moves(task_id, every_move=live) as moved:
        while True:
            moved.clear()
            read_at = time.monotonic()
            task, _, nodes = service.execution_nodes(task_id)
            if shown is not None:
                shown.update(progress_table(task, nodes))
            if RunState(task.status) in RUN_TERMINAL:
                return task, nodes
            if deadline and time.monotonic() > deadline:
                raise FlowexecError(f"execution {task_id} did not finish in {timeout} s")
            moved.wait(every)
            if shown is not None:
                time.sleep(max(0.0, read_at + LIVE_GAP - time.monotonic()))


def _duration(node: Any) -> str:
    if node.started_at is None:
        return ""
    end = node.finished_at or node.started_at.__class__.now()
    return f"{(end - node.started_at).total_seconds():.2f}s"


def node_depths(nodes: Sequence[Any]) -> dict[str, int]:
    """Each node's topological depth (longest path from a root), from the rows' children lists."""
    from api.http.svg import GraphNode
    from api.http.svg import depths

    return depths([GraphNode(n.node_key, n.title, n.state, json.loads(n.children or "[]")) for n in nodes])


def progress_table(task: Any, nodes: Sequence[Any]) -> Table:
    """The live view: nodes grouped by topological depth, state coloured, attempt and duration."""
    from rich.table import Table

    counts: dict[str, int] = {}
    for node in nodes:
        counts[node.state] = counts.get(node.state, 0) + 1
    tally = "  ".join(f"[{STATE_STYLE.get(k, '')}]{k} {v}[/]" for k, v in sorted(counts.items()))
    table = Table(title=f"task {task.id}: {task.status} {100 * (task.progress or 0):.0f}%", caption=tally)
    for column in ("depth", "node", "state", "attempt", "duration"):
        table.add_column(column, justify="right" if column in ("depth", "attempt", "duration") else "left")
    depth = node_depths(nodes)
    order = sorted(range(len(nodes)), key=lambda i: (depth[nodes[i].node_key], i))
    previous = None
    for i in order:
        node = nodes[i]
        level = depth[node.node_key]
        if previous is not None and level != previous:
            table.add_section()
        style = STATE_STYLE.get(node.state, "")
        table.add_row(
            str(level) if level != previous else "",
            node.title,
            f"[{style}]{node.state}[/]",
            str(node.attempt or ""),
            _duration(node),
        )
        previous = level
    return table
