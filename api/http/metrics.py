"""``GET /metrics``: Prometheus text, computed from the database at scrape time, plus this process's own.

- ``flowexec_executions{status}``: executions (``dss_workflow_task`` rows) by status;
- ``flowexec_nodes{state}``: node runs by state;
- ``flowexec_node_queue_wait_seconds`` and ``flowexec_node_duration_seconds``: histograms over the
  node runs that finished in the last :data:`WINDOW` (queued → started, started → finished);
- on the embedded stack only (one process, its worker inside), the Linkis call and reconciler
  metrics (:mod:`workers.metrics`); a deployment's workers each serve theirs on
  ``FLOWEXEC_METRICS_PORT``, and the web shows none of them (they would always read 0).
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Sequence
from datetime import datetime
from datetime import timedelta

from flask import Blueprint
from flask import Flask
from flask import Response
from flask import current_app
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client import CollectorRegistry
from prometheus_client import generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.core import HistogramMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from sqlalchemy import func
from sqlalchemy import select

from api.extensions import db
from api.http.openapi import operation
from flowexec.state import NodeState
from flowexec.state import RunState
from flowexec.store.models import NodeRun
from flowexec.store.models import WorkflowTask
from workers import metrics as worker_metrics

bp = Blueprint("metrics", __name__)
EXTENSION = "flowexec.metrics"
WINDOW = timedelta(minutes=15)
#: At most this many finished node runs feed the histograms of one scrape (newest first).
WINDOW_ROWS = 20_000
BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)


class DatabaseCollector(Collector):
    """Reads the counts and the recent node timings from the database on every scrape."""

    def collect(self) -> Iterator[GaugeMetricFamily | HistogramMetricFamily]:
        session = db.session
        try:
            by_status = {
                str(k): n
                for k, n in session.execute(
                    select(WorkflowTask.status, func.count()).group_by(WorkflowTask.status)
                )
            }
            by_state = {
                str(k): n
                for k, n in session.execute(select(NodeRun.state, func.count()).group_by(NodeRun.state))
            }
            since = datetime.now() - WINDOW
            timings = session.execute(
                select(NodeRun.queued_at, NodeRun.started_at, NodeRun.finished_at)
                .where(NodeRun.finished_at >= since)
                .order_by(NodeRun.finished_at.desc())
                .limit(WINDOW_ROWS)
            ).all()
            session.commit()
        except BaseException:
            session.rollback()
            raise
        executions = GaugeMetricFamily(
            "flowexec_executions", "Executions by status (all rows)", labels=["status"]
        )
        for status in _all(RunState, by_status):
            executions.add_metric([status], by_status.get(status, 0))
        yield executions
        nodes = GaugeMetricFamily("flowexec_nodes", "Node runs by state (all rows)", labels=["state"])
        for state in _all(NodeState, by_state):
            nodes.add_metric([state], by_state.get(state, 0))
        yield nodes
        window = f"node runs finished in the last {int(WINDOW.total_seconds() // 60)} minutes"
        yield _histogram(
            "flowexec_node_queue_wait_seconds",
            f"Queued until started, {window}",
            [(s - q).total_seconds() for q, s, _ in timings if q is not None and s is not None],
        )
        yield _histogram(
            "flowexec_node_duration_seconds",
            f"Started until finished, {window}",
            [(f - s).total_seconds() for _, s, f in timings if s is not None and f is not None],
        )


def _all(states: Iterable[object], seen: Iterable[str]) -> list[str]:
    """Every known state (so a zero is a zero, not a missing series), then any unknown ones."""
    known = [str(getattr(s, "value", s)) for s in states]
    return known + sorted(set(seen) - set(known))


def _histogram(name: str, documentation: str, values: Sequence[float]) -> HistogramMetricFamily:
    counts = [sum(1 for v in values if v <= bound) for bound in BUCKETS]
    buckets = [(repr(bound), count) for bound, count in zip(BUCKETS, counts, strict=True)]
    buckets.append(("+Inf", len(values)))
    family = HistogramMetricFamily(name, documentation)
    family.add_metric([], buckets, sum_value=sum(values))
    return family


class _WorkerMetrics(Collector):
    """This process's :data:`workers.metrics.REGISTRY`, collected along."""

    def collect(self) -> Iterable[Metric]:
        yield from worker_metrics.REGISTRY.collect()


def registry_of(app: Flask) -> CollectorRegistry:
    """The app's own registry (never prometheus_client's global one), made on first use."""
    registry: CollectorRegistry | None = app.extensions.get(EXTENSION)
    if registry is None:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(DatabaseCollector())
        if app.extensions["flowexec"].settings.embedded:
            # One process with its own worker: its Linkis and reconciler counters are real here.
            # The web of a deployment makes no Linkis calls: each worker serves its own.
            registry.register(_WorkerMetrics())
        app.extensions[EXTENSION] = registry
    return registry


@bp.get("/metrics")
@operation(
    "Prometheus metrics: executions and nodes by state, node timings, Linkis calls, reconciler",
    tags=("meta",),
    errors=(),
    content="text/plain",
    public=True,
)
def metrics() -> Response:
    """Prometheus text exposition format, computed at scrape time."""
    body = generate_latest(registry_of(current_app._get_current_object()))  # type: ignore[attr-defined]
    return Response(body, content_type=CONTENT_TYPE_LATEST)
