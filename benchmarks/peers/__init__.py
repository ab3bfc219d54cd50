"""``python -m benchmarks.peers``: flowexec next to Celery canvas, Dagster, Prefect and Airflow on
the same no-op workloads, in interleaved rounds; each peer in its own virtualenv."""
