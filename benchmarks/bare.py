"""The API's limit: a bare Flask route that reads one row by key, served by gunicorn with the
API's settings (``flowexec bench`` starts it as ``benchmarks.bare:app``)."""

from __future__ import annotations

import os
from typing import Any

import sqlalchemy as sa
from flask import Flask

from benchmarks.config import PROBE_ROWS

app = Flask("flowexec-bench-bare")
_engine = sa.create_engine(os.environ["FLOWEXEC_DATABASE_URL"], pool_pre_ping=True, pool_size=20)
_query = sa.text("SELECT id, n FROM flowexec_bench_tx WHERE id = :i")


@app.get("/bare/<int:key>")
def bare(key: int) -> dict[str, Any]:
    with _engine.connect() as conn:
        row = conn.execute(_query, {"i": key % PROBE_ROWS + 1}).one()
    return {"method": "/bare", "status": 0, "message": "", "data": {"id": row.id, "n": row.n}}
