"""The API under load: DSS entrance execute and status requests from concurrent clients."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from benchmarks.config import TOKEN
from benchmarks.config import USER
from benchmarks.config import Options
from benchmarks.config import figure
from benchmarks.workloads import Runner
from benchmarks.workloads import control_node
from benchmarks.workloads import doc


def measure_api(runner: Runner, options: Options, api_url: str) -> dict[str, Any]:
    """Execute then status requests per second from concurrent clients; the workers run what is executed."""
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
                    if kind == "execute":
                        reply = session.post(f"{entrance}/execute", json=body, headers=headers, timeout=30)
                    else:
                        exec_id = exec_ids[i % len(exec_ids)]
                        i += options.sizes.api_clients
                        reply = session.get(f"{entrance}/{exec_id}/status", headers=headers, timeout=30)
                    ok = reply.status_code == 200 and reply.json().get("status") == 0
                except requests.RequestException:
                    ok, reply = False, None
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

    out = {"execute": load("execute")}
    out["status"] = load("status")
    out["execute"]["note"] = "DSS entrance execute of a 2-node flow; the workers run them meanwhile"
    out["status"]["note"] = "DSS entrance status of the executions just submitted (most still running)"
    return out
