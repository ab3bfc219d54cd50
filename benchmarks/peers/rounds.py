"""Interleaved rounds: every system once per round (their order turning each round), load recorded."""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable
from typing import Any

from benchmarks.peers.specs import Workload
from benchmarks.peers.systems import System


def load_now() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else [0.0, 0.0, 0.0]


def start_all(systems: list[System], errors: dict[str, str], say: Callable[[str], None]) -> list[System]:
    """Start each system; one that fails is reported and left out of the rounds."""
    started = []
    for system in systems:
        say(f"starting {system.title}")
        try:
            system.start()
        except Exception as exc:  # a peer that cannot start must not end the others' comparison
            errors[system.key] = f"start: {exc}"
            say(f"{system.title} did not start: {exc}\n{traceback.format_exc(limit=3)}")
            continue
        started.append(system)
    return started


def run_rounds(
    systems: list[System],
    workloads: list[Workload],
    rounds: int,
    errors: dict[str, str],
    say: Callable[[str], None],
) -> tuple[list[dict[str, Any]], list[float]]:
    """Each round runs every system's workloads and start-up; the 1-minute load after each."""
    out: list[dict[str, Any]] = []
    during: list[float] = []
    for index in range(rounds):
        entry: dict[str, Any] = {}
        turn = index % len(systems) if systems else 0
        for system in systems[turn:] + systems[:turn]:
            if system.key in errors:
                continue
            say(f"round {index + 1}/{rounds}: {system.title}")
            try:
                seconds = system.run(workloads)
                startup = system.startup()
            except Exception as exc:  # recorded, and the system sits out the remaining rounds
                errors[system.key] = f"round {index + 1}: {exc}"
                say(f"{system.title} failed: {exc}")
                continue
            load = load_now()[0]
            during.append(load)
            entry[system.key] = {
                "seconds": {k: round(v, 4) for k, v in seconds.items()},
                "startup_s": round(startup, 4),
                "load_1min": load,
            }
            walls = getattr(system, "walls", None)
            if walls:  # systems timed by their own records: each process's wall time too
                entry[system.key]["wall_s"] = dict(walls)
        out.append(entry)
    return out, during
