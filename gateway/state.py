"""Everything one gateway app holds: sessions, fault rules, the history file and the entrance."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from gateway.auth import Sessions
from gateway.bml import Bml
from gateway.entrance import Entrance
from gateway.faults import Faults
from gateway.history import History


class Gateway:
    """The state of one gateway, kept in its app's ``extensions`` (see ``gateway_of``)."""

    def __init__(
        self,
        state_dir: Path,
        *,
        users: Mapping[str, str],
        tokens: Mapping[str, str],
        faults_enabled: bool,
        max_running_per_group: int,
        max_queued_per_group: int,
        sqlite_path: str | None,
        memory_retention: float,
        kill_grace: float,
        simulate: frozenset[str] = frozenset(),
    ) -> None:
        self.root = state_dir.resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.sessions = Sessions(users, tokens)
        self.faults_enabled = faults_enabled
        self.faults = Faults()
        self.history = History(self.root / "history.db")
        self.bml = Bml(self.root)
        self.entrance = Entrance(
            self.root, self.history, faults_enabled=faults_enabled,
            max_running_per_group=max_running_per_group, max_queued_per_group=max_queued_per_group,
            sqlite_path=sqlite_path, memory_retention=memory_retention, kill_grace=kill_grace,
            simulate=simulate,
        )  # fmt: skip

    def reset(self) -> None:
        """Forget jobs, history, faults and counters; running processes are killed."""
        self.entrance.reset()
        self.faults.clear()
        self.history.clear()

    def close(self) -> None:
        """Kill every process and wait for the job threads, then close the history file."""
        if self.entrance.close():
            self.history.close()
