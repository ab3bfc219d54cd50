"""Each peer in its own virtualenv, pinned, made once under ``--venvs`` and reused.

A venv is ``DIR/<peer>-<version>-py<major><minor>``; it is reused when its marker file names the
same requirement and constraints, and made again (from scratch) otherwise. Every install is
pinned by a constraints file shipped here (``constraints/<peer>.txt``, a ``pip freeze`` of a venv
that ran the comparison); Airflow's own constraints file is tried first and these pins are the
fallback when it cannot be downloaded.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
RUNNERS = HERE / "runners"
CONSTRAINTS = HERE / "constraints"
MARKER = ".flowexec-peers.json"
DEFAULT_VENVS = "~/.cache/flowexec-peers"


@dataclass(frozen=True)
class Peer:
    """A peer: what to install, which packages' versions to print, its official constraints."""

    name: str
    requirement: str
    packages: tuple[str, ...]
    official_constraints: str | None = None

    @property
    def version(self) -> str:
        return self.requirement.rsplit("==", 1)[1]


PEERS = {
    "celery": Peer("celery", "celery[redis]==5.7.0", ("celery", "kombu", "redis")),
    "dagster": Peer("dagster", "dagster==1.13.29", ("dagster",)),
    "prefect": Peer("prefect", "prefect==3.9.1", ("prefect",)),
    "airflow": Peer(
        "airflow",
        "apache-airflow==3.3.2",
        ("apache-airflow", "apache-airflow-core", "apache-airflow-task-sdk"),
        official_constraints=(
            "https://raw.githubusercontent.com/apache/airflow/constraints-{version}/constraints-{py}.txt"
        ),
    ),
}


def python_tag() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def venv_dir(root: Path, peer: Peer) -> Path:
    return root / f"{peer.name}-{peer.version}-py{python_tag().replace('.', '')}"


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def constraints(peer: Peer, venv: Path, say: Callable[[str], None]) -> tuple[Path, str]:
    """The constraints file to install with, and where it came from."""
    shipped = CONSTRAINTS / f"{peer.name}.txt"
    if peer.official_constraints is None:
        return shipped, f"pinned here ({shipped.name}, Python 3.11)"
    url = peer.official_constraints.format(version=peer.version, py=python_tag())
    target = venv.parent / f"{venv.name}.constraints.txt"
    try:
        with urllib.request.urlopen(url, timeout=10) as reply:  # noqa: S310 (a fixed https URL)
            target.write_bytes(reply.read())
        return target, url
    except OSError as exc:
        say(f"{peer.name}: its constraints file could not be downloaded ({exc}); using the pins shipped here")
        return shipped, f"pinned here ({shipped.name}, Python 3.11): {url} could not be downloaded"


def ensure(peer: Peer, root: Path, say: Callable[[str], None]) -> tuple[Path, str]:
    """The peer's venv python, made (or made again) when missing or stale; and the pins' source."""
    venv = venv_dir(root, peer)
    marker = venv / MARKER
    shipped = CONSTRAINTS / f"{peer.name}.txt"
    digest = hashlib.sha256(shipped.read_bytes()).hexdigest()[:16]
    if marker.is_file():
        seen = json.loads(marker.read_text(encoding="utf-8"))
        if seen.get("requirement") == peer.requirement and seen.get("pins") == digest:
            return venv_python(venv), str(seen.get("constraints"))
    if venv.exists():
        shutil.rmtree(venv)
    root.mkdir(parents=True, exist_ok=True)
    say(f"{peer.name}: installing {peer.requirement} into {venv} (a minute or two)")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pins, source = constraints(peer, venv, say)
    log = root / f"{venv.name}.install.log"
    with open(log, "wb") as out:
        done = subprocess.run(
            [str(venv_python(venv)), "-m", "pip", "install", "--constraint", str(pins), peer.requirement],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    if done.returncode != 0:
        raise RuntimeError(f"{peer.name}: pip install failed (exit {done.returncode}); see {log}")
    marker.write_text(
        json.dumps({"requirement": peer.requirement, "pins": digest, "constraints": source}), encoding="utf-8"
    )
    return venv_python(venv), source


def installed_versions(python: Path, packages: tuple[str, ...]) -> dict[str, str]:
    """The installed versions of ``packages`` (and Python) in a venv."""
    code = (
        "import json, platform, sys; from importlib import metadata; "
        "print(json.dumps({'python': platform.python_version(), "
        "**{n: metadata.version(n) for n in sys.argv[1:]}}))"
    )
    done = subprocess.run([str(python), "-c", code, *packages], capture_output=True, text=True, check=True)
    return dict(json.loads(done.stdout))
