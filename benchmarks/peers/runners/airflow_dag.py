"""Airflow: the DAG file ``airflow dags test`` runs, one copy per workload (``peers_<name>.py``
beside ``peers_<name>.json``, which names the nodes and edges). No-op ``PythonOperator`` tasks:
an ``EmptyOperator`` would be marked done without running."""

from __future__ import annotations

import json
from pathlib import Path

import pendulum
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG


def noop() -> None:
    return None


SPEC = json.loads(Path(__file__).with_suffix(".json").read_text(encoding="utf-8"))

with DAG(
    dag_id=SPEC["dag_id"], schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC"), catchup=False
) as dag:
    tasks = {key: PythonOperator(task_id=key, python_callable=noop) for key in SPEC["nodes"]}
    for source, target in SPEC["edges"]:
        tasks[source] >> tasks[target]
