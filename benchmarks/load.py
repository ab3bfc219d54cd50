"""The API under load: DSS entrance execute and status requests from concurrent clients."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

from benchmarks.config import TOKEN
from benchmarks.config import USER
from benchmarks.config import Options
from benchmarks.config import figure
from benchmarks.limits import ROUNDS
from benchmarks.limits import load_average
from benchmarks.workloads import Runner
from benchmarks.workloads import control_node
from benchmarks.workloads import doc


def _loader(runner: Runner, options: Options, api_url: str, bare_url: str) -> Callable[[str], dict[str, Any]]:
    """A function that loads one kind of request for ``api_seconds`` and returns its figure."""
    import requests

    flow_id, version = runner.register(doc([control_node("a"), control_node("b")], [("a", "b")]))
    headers = {"Token-Code": TOKEN, "Token-User": USER}
    entrance = f"{api_url}/api/rest_j/v1/dss/flow/entrance"
    body: dict[str, Any] = {
        "executeApplicationName": "flowexecution",
        "requestApplicationName": "flowexecution",
        "runType": "json",
        "executionCode": json.dumps({"flowId": flow_id, "version": version}),
        "params": {},
        "labels": {"route": "dev"},
        "source": {"projectName": "bench", "flowName": "api"},
    }
    exec_ids: list[str] = []
    lock = threading.Lock()

    def send(session: Any, kind: str, i: int) -> Any:
        return _send(session, kind, i, entrance, bare_url, body, headers, exec_ids)

    def load(kind: str) -> dict[str, Any]:
        latencies: list[float] = []
        errors = [0]
        stop_at = time.monotonic() + options.sizes.api_seconds

        def client(index: int) -> None:
            session = requests.Session()
            i = index
            while time.monotonic() < stop_at:
                t0 = time.perf_counter()
                try:
                    reply = send(session, kind, i)
                    ok = reply.status_code == 200 and reply.json().get("status") == 0
                except requests.RequestException:
                    ok, reply = False, None
                i += options.sizes.api_clients
                elapsed = time.perf_counter() - t0
                with lock:
                    if ok:
                        latencies.append(elapsed)
                        if kind == "execute" and reply is not None:
                            exec_ids.append(reply.json()["data"]["execID"])
                    else:
                        errors[0] += 1
            session.close()

        start = time.monotonic()
        threads = [threading.Thread(target=client, args=(i,)) for i in range(options.sizes.api_clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.monotonic() - start
        if not latencies:
            raise RuntimeError(f"no {kind} request succeeded; see the API log")
        ordered = sorted(latencies)
        return figure(
            len(latencies) / wall,
            "req/s",
            higher_is_better=True,
            requests=len(latencies),
            errors=errors[0],
            clients=options.sizes.api_clients,
            p50_ms=round(ordered[len(ordered) // 2] * 1000, 3),
            p99_ms=round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 3),
        )

    return load


def measure_api(runner: Runner, options: Options, api_url: str, bare_url: str) -> dict[str, Any]:
    """Requests per second from concurrent clients: the bare route (the limit), ``execute`` of a
    2-node flow (the workers run them meanwhile) and ``status``, interleaved; medians of 3."""
    load = _loader(runner, options, api_url, bare_url)
    rounds: dict[str, list[dict[str, Any]]] = {"bare": [], "execute": [], "status": []}
    loads = []
    for _ in range(ROUNDS):
        for kind in rounds:
            rounds[kind].append(load(kind))
        loads.append(load_average())
    out = {kind: _median(figures) for kind, figures in rounds.items()}
    limit = out["bare"]["value"]
    for kind, share in (("status", 0.5), ("execute", 0.15)):
        value = out[kind]["value"]
        out[kind].update(
            figure(
                value,
                "req/s",
                ref=limit,
                ref_name="api.bare",
                higher_is_better=True,
                target=f">= {share:g}x api.bare",
                met=value >= share * limit,
            )
        )
    out["bare"]["note"] = "a Flask route reading one row by key, gunicorn with the API's settings"
    out["execute"]["note"] = "DSS entrance execute of a 2-node flow; the workers run them meanwhile"
    out["status"]["note"] = "DSS entrance status of the executions just submitted (most still running)"
    out["bare"]["load"] = loads
    return out


def _send(
    session: Any,
    kind: str,
    i: int,
    entrance: str,
    bare_url: str,
    body: dict[str, Any],
    headers: dict[str, str],
    exec_ids: list[str],
) -> Any:
    """One request of ``kind``: an execute, the bare route's read, or the status of an execution."""
    if kind == "execute":
        return session.post(f"{entrance}/execute", json=body, headers=headers, timeout=30)
    if kind == "bare":
        return session.get(f"{bare_url}/bare/{i}", timeout=30)
    exec_id = exec_ids[i % len(exec_ids)]
    return session.get(f"{entrance}/{exec_id}/status", headers=headers, timeout=30)


def _median(figures: list[dict[str, Any]]) -> dict[str, Any]:
    """The round with the median rate, and every round's rate."""
    ordered = sorted(figures, key=lambda f: f["value"])
    middle = dict(ordered[len(ordered) // 2])
    middle["rounds"] = [f["value"] for f in figures]
    return middle
