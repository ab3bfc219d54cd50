"""The README's scaling recipe: three workers started from the Procfile's ``worker`` line appear
as three distinct workers in Flower's API (not merged under one ``celery@host``)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import TOKEN
from tests.conftest import spawn

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration


def _procfile(name: str) -> str:
    text = (ROOT / "Procfile").read_text()
    found = re.search(rf"^{name}: (.+)$", text, re.M)
    assert found, f"Procfile has no {name} line"
    return found.group(1)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_three_workers_from_the_recipe_are_three_in_flower(
    migrated_mysql: str, clean_redis: str, tmp_path: Path
) -> None:
    port = _free_port()
    env: dict[str, Any] = {
        **os.environ,
        "FLOWEXEC_HOME": str(tmp_path),
        "FLOWEXEC_DATABASE_URL": migrated_mysql,
        "FLOWEXEC_BROKER_URL": clean_redis,
        "FLOWEXEC_TOKEN": TOKEN,
        "FLOWER_PORT": str(port),
        "FLOWER_UNAUTHENTICATED_API": "true",
        "WORKER_THREADS": "2",
    }
    env.pop("WORKER_NAME", None)
    # What ``honcho start -c worker=3`` does: the same Procfile line, three times, each in its shell.
    lines = [_procfile("worker")] * 3 + [_procfile("flower")]
    procs = [
        spawn(["bash", "-c", line], env, tmp_path / f"p{i}.log", start_new_session=True)
        for i, line in enumerate(lines)
    ]
    try:
        names: set[str] = set()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(names) < 3:
            time.sleep(1)
            try:
                reply = requests.get(
                    f"http://127.0.0.1:{port}/api/workers", params={"refresh": 1}, timeout=10
                )
            except requests.ConnectionError:
                continue
            if reply.status_code == 200:
                names = set(reply.json())
        logs = {p.name: p.read_text()[-500:] for p in tmp_path.glob("p*.log")}
        assert len(names) == 3, (names, logs)
        assert all(re.fullmatch(r"worker\.\d+@.+", name) for name in names), names
    finally:
        for proc in procs:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for proc in procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
