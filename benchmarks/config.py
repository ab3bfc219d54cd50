"""The bench's defaults, sizes and options, and the shape of one measured figure."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

DEFAULT_DATABASE_URL = "mysql+pymysql://root@127.0.0.1:3306/flowexec_bench"
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/13"
TOKEN = "flowexec-bench"
USER = "hadoop"
QUEUES = "flowexec.control,flowexec.nodes,flowexec.poll"
#: Control nodes and the limit probes on one kind of worker; Linkis submits and polls on another.
CONTROL_QUEUES = "flowexec.control"
LINKIS_QUEUES = "flowexec.nodes,flowexec.poll"
TERMINAL = ("Succeed", "Failed", "Cancelled", "Timeout")
#: The tables the bench drops in its database before migrating it again (flowexec's, DSS's seed tables).
FLOW_TABLE_PREFIXES = ("flowexec_", "dss_workflow_", "alembic_version")
PROBE_ROWS = 64


@dataclass(frozen=True)
class Sizes:
    """How much work each measurement does."""

    hops: int = 500
    touches: int = 2000
    transactions: int = 500
    chain: int = 500
    shell_chain: int = 20
    shell_fanout: int = 500
    fanout: int = 2000
    dag: tuple[int, ...] = (100, 1000, 10000)
    polling: int = 1000
    polling_window: float = 15.0
    polling_job: float = 60.0
    long_jobs: int = 5
    long_job: float = 10.0
    embedded_runs: int = 3
    api_seconds: float = 5.0
    api_clients: int = 8


FULL = Sizes()
QUICK = Sizes(
    hops=200,
    touches=300,
    transactions=200,
    chain=100,
    shell_chain=5,
    shell_fanout=100,
    fanout=300,
    dag=(100, 1000, 2000),
    polling=100,
    polling_window=5.0,
    polling_job=30.0,
    api_seconds=2.0,
)
TINY = Sizes(
    hops=10,
    touches=10,
    transactions=10,
    chain=5,
    shell_chain=2,
    shell_fanout=3,
    fanout=10,
    dag=(10, 20),
    polling=3,
    polling_window=1.0,
    polling_job=2.0,
    long_jobs=2,
    long_job=1.0,
    embedded_runs=1,
    api_seconds=0.5,
    api_clients=2,
)


@dataclass(frozen=True)
class Options:
    database_url: str = DEFAULT_DATABASE_URL
    broker_url: str = DEFAULT_BROKER_URL
    sizes: Sizes = FULL
    workers: int = 2
    concurrency: int = 4
    linkis_workers: int = 2
    linkis_pool: str = "threads"
    linkis_concurrency: int = 4
    api_workers: int = 2
    worker_loglevel: str = "WARNING"
    poll_first: float | None = None
    poll_max: float | None = None
    skip: frozenset[str] = frozenset()
    home: str | None = None
    progress: Callable[[str], None] = lambda _text: None


def figure(
    value: float,
    unit: str,
    *,
    ref: float | None = None,
    ref_name: str | None = None,
    higher_is_better: bool = False,
    target: str | None = None,
    met: bool | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One measured figure: value and unit, its ratio to the reference (the limit), the target."""
    ratio = None
    if ref:
        ratio = value / ref
    out: dict[str, Any] = {
        "value": round(value, 4),
        "unit": unit,
        "ratio": None if ratio is None else round(ratio, 4),
        "ratio_to": ref_name,
        "higher_is_better": higher_is_better,
        "target": target,
        "met": met,
    }
    out.update(extra)
    return out
