"""One bench run: start the services, take every figure, stop everything."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from benchmarks.cluster import Processes
from benchmarks.cluster import prepare_database
from benchmarks.cluster import start_api
from benchmarks.cluster import start_gateway
from benchmarks.cluster import start_workers
from benchmarks.cluster import worker_env
from benchmarks.config import TOKEN
from benchmarks.config import Options
from benchmarks.config import figure
from benchmarks.embedded_run import measure_embedded
from benchmarks.limits import drain
from benchmarks.limits import measure_limits
from benchmarks.load import measure_api
from benchmarks.polling import measure_long_jobs
from benchmarks.polling import measure_polling
from benchmarks.report import machine
from benchmarks.report import targets
from benchmarks.scheduling import measure_chains
from benchmarks.scheduling import measure_fanout
from benchmarks.scheduling import measure_planning
from benchmarks.workloads import Runner
from flowexec.config import Settings


@contextmanager
def services(options: Options) -> Iterator[tuple[Runner, Any, Path, Processes, dict[str, str]]]:
    """Database, gateway, workers and an in-process submitting app; every process stopped at the end."""
    import redis

    from api.app import create_app

    home = Path(options.home or tempfile.mkdtemp(prefix="flowexec-bench-"))
    home.mkdir(parents=True, exist_ok=True)
    procs = Processes()
    redis_client = redis.Redis.from_url(options.broker_url)
    runner: Runner | None = None
    try:
        options.progress("preparing the database and the broker")
        prepare_database(options)
        redis_client.flushdb()
        linkis_url = start_gateway(procs, home, max_running=options.sizes.polling + 100)
        env = worker_env(options, linkis_url, home)
        app = create_app(
            {
                "database_url": options.database_url,
                "broker_url": options.broker_url,
                "linkis_url": linkis_url,
                "token": TOKEN,
                "home": str(home),
                # the largest random DAG is planned and persisted here (FLOWEXEC_MAX_NODES)
                "max_nodes": max(options.sizes.dag),
            }
        )
        runner = Runner(app, options.database_url)
        options.progress(f"starting {options.workers} + {options.linkis_workers} worker processes")
        start_workers(procs, options, env, home, app)
        yield runner, redis_client, home, procs, env
    finally:
        if runner is not None:
            runner.close()
        procs.stop_all()
        try:
            redis_client.flushdb()
        finally:
            redis_client.close()


def run_bench(options: Options) -> dict[str, Any]:
    """Run every measurement in one go and return the result object."""
    began = time.monotonic()
    result: dict[str, Any] = {
        "flowexec_bench": 1,
        "taken": datetime.now().isoformat(timespec="seconds"),
        "machine": machine(),
        "sizes": asdict(options.sizes),
        "setup": {
            "workers": options.workers,
            "concurrency": options.concurrency,
            "linkis_workers": options.linkis_workers,
            "linkis_pool": options.linkis_pool,
            "linkis_concurrency": options.linkis_concurrency,
            "api_workers": options.api_workers,
            "database_url": sa.engine.make_url(options.database_url).render_as_string(hide_password=True),
            "broker_url": options.broker_url,
        },
    }
    poll_max = options.poll_max or Settings().poll_max
    with services(options) as (runner, redis_client, home, procs, env):
        result["machine"]["database"] = runner.scalar("SELECT VERSION()")
        options.progress("limits: Celery hop, MariaDB transaction, raw fan-out")
        limits = result["limit"] = measure_limits(runner, options, redis_client)
        options.progress("chains, interleaved with the serial-node limit")
        result["chain"] = measure_chains(runner, options, limits, redis_client)
        options.progress("fan-outs, interleaved with the raw fan-out")
        result["fanout"] = measure_fanout(runner, options, limits, redis_client)
        options.progress("planning random DAGs")
        result["plan"] = measure_planning(runner, options)
        if "polling" not in options.skip:
            options.progress(f"polls of {options.sizes.long_jobs} jobs of {options.sizes.long_job:g} s")
            result["long_jobs"] = measure_long_jobs(runner, options, poll_max)
            options.progress(f"polling load: {options.sizes.polling} running nodes")
            try:
                result["polling"] = measure_polling(runner, options, poll_max)
            except RuntimeError as exc:  # a figure missed, not the end of the run
                result["polling"] = {"error": figure(0.0, "s", met=False, error=str(exc))}
            drain(runner, redis_client)
        if "api" not in options.skip:
            options.progress("API under load, interleaved with a bare route")
            api_url = start_api(procs, options, env, home)
            bare_url = start_api(procs, options, env, home, target="benchmarks.bare:app")
            result["api"] = measure_api(runner, options, api_url, bare_url)
    # A newcomer's one process, measured once the production-shaped processes above are gone
    # (their last executions would otherwise still be running beside it).
    if "embedded" not in options.skip:
        options.progress("embedded: flowexec run")
        result["embedded"] = measure_embedded(options, home)
    result["machine"]["load_after"] = [round(x, 2) for x in os.getloadavg()]
    result["targets"] = targets(result)
    result["duration_s"] = round(time.monotonic() - began, 1)
    return result
