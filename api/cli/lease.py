"""A lease on each embedded ``flowexec run``: a lock file under ``$FLOWEXEC_HOME/runs`` that the
run's process holds (``flock``) for as long as it lives, with the taskID it drives.

The kernel drops the lock when the process dies, however it dies (SIGKILL, a crash, a reboot):
the next command that opens the same home finds a file it can lock, and finalizes the run the
dead process left Running (its nodes Cancelled, its jobs killed where a Linkis is reachable).
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import sys
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from flask import Flask

from flowexec.actions import Action

log = logging.getLogger(__name__)


def _runs(home: str) -> Path:
    return Path(home) / "runs"


class Lease:
    """The held lock file of one run; ``own(task_id)`` records the execution it drives."""

    def __init__(self, file: IO[str]) -> None:
        self._file = file

    def own(self, task_id: int) -> None:
        self._file.seek(0)
        self._file.truncate()
        self._file.write(f"{task_id} {os.getpid()}@{socket.gethostname()}\n")
        self._file.flush()
        os.fsync(self._file.fileno())


@contextmanager
def held(home: str) -> Iterator[Lease]:
    """Hold a lease for this process's run (taken before the execution is written)."""
    folder = _runs(home)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{os.getpid()}.lease"
    with open(path, "w+", encoding="utf-8") as file:
        fcntl.flock(file.fileno(), fcntl.LOCK_EX)
        try:
            yield Lease(file)
        finally:
            path.unlink(missing_ok=True)


def dead_runs(home: str) -> Iterator[tuple[int, str]]:
    """The (taskID, owner) of each lease whose process is gone; its file is removed once read."""
    folder = _runs(home)
    if not folder.is_dir():
        return
    for path in sorted(folder.glob("*.lease")):
        found = _if_dead(path)
        if found is not None:
            yield found


def _if_dead(path: Path) -> tuple[int, str] | None:
    """Lock a lease file nobody holds any more, read it and remove it; None while its run lives."""
    try:
        with open(path, encoding="utf-8") as file:
            try:
                fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return None  # its run still lives
            words = file.read().split()
            path.unlink(missing_ok=True)
    except FileNotFoundError:
        return None
    if words and words[0].isdigit():
        return int(words[0]), words[1] if len(words) > 1 else "?"
    return None


def finalize_dead_runs(app: Flask, send: Callable[[Flask, list[Action]], None] | None = None) -> None:
    """Cancel the executions of embedded runs whose process died (a lease nobody holds).

    ``send`` dispatches the kills (default: ``flowexec kill``'s, which runs a worker if need be).
    """
    from api.cli import kill
    from flowexec import service

    home = app.extensions["flowexec"].settings.home
    for task_id, owner in dead_runs(home):
        with app.app_context():
            actions = service.cancel_execution(
                task_id, reason=f"killed: its flowexec run process ({owner}) died"
            )
            (send or kill.send)(app, actions)
        print(
            f"flowexec: execution {task_id} lost its flowexec run process ({owner}); marked Cancelled",
            file=sys.stderr,
        )
