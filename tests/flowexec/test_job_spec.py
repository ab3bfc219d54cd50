"""A node's Linkis job: labels, engine versions from configuration, variables, source tag."""

from __future__ import annotations

import json

from flowexec.config import Settings
from flowexec.service.jobs import job_spec
from flowexec.store.models import NodeRun
from flowexec.store.models import WorkflowTask


def _spec(settings: Settings, engine: str = "spark") -> object:
    node = NodeRun(
        id=7,
        title="agg_sql",
        attempt=0,
        spec=json.dumps(
            {
                "engine": engine,
                "runType": "sql",
                "code": "select '${run_date}'",
                "title": "agg_sql",
                "variables": {"run_date": "20250301"},
                "configuration": {"startup": {"spark.executor.memory": "2g"}},
            }
        ),
    )
    task = WorkflowTask(
        um_user="alice",
        params=json.dumps({"labels": {"route": "prod"}}),
        script_path=json.dumps({"projectName": "sales"}),
    )
    return job_spec(node, task, settings)


def test_engine_versions_come_from_configuration_over_the_defaults() -> None:
    assert _spec(Settings()).engine_type == "spark-3.2.1"
    assert _spec(Settings(engine_versions={"spark": "2.4.3"})).engine_type == "spark-2.4.3"
    assert _spec(Settings(engine_versions={"spark": "2.4.3"}), "hive").engine_type == "hive-3.1.3"


def test_the_job_carries_code_variables_labels_and_its_source_tag() -> None:
    spec = _spec(Settings())
    assert spec.code == "select '20250301'" and spec.user == "alice" and spec.creator == "nodeexecution"
    assert spec.labels == {"route": "prod"} and spec.startup == {"spark.executor.memory": "2g"}
    assert spec.source["flowexecNodeRunId"] == "7" and spec.source["flowexecAttempt"] == "1"
    assert spec.source["projectName"] == "sales" and spec.source["nodeName"] == "agg_sql"
    assert _spec(Settings(linkis_user="hadoop")).user == "hadoop"
