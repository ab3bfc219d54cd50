"""A node's Linkis job, built from its rows: code, labels, source, and the user it runs as."""

from __future__ import annotations

import json

from flowexec import variables as vars_
from flowexec.config import Settings
from flowexec.linkis.port import DEFAULT_ENGINE_VERSIONS
from flowexec.linkis.port import JobSpec
from flowexec.linkis.port import engine_type
from flowexec.store.models import NodeRun
from flowexec.store.models import WorkflowTask


def job_spec(node: NodeRun, task: WorkflowTask, settings: Settings) -> JobSpec:
    """Build the Linkis job of a node: code with variables substituted, DSS's labels and source."""
    spec = json.loads(node.spec or "{}")
    configuration = spec.get("configuration") or {}
    variables = {str(k): str(v) for k, v in (spec.get("variables") or {}).items()}
    params = json.loads(task.params or "{}")
    source = json.loads(task.script_path or "{}") if (task.script_path or "").startswith("{") else {}
    versions = {**DEFAULT_ENGINE_VERSIONS, **settings.engine_versions}
    return JobSpec(
        code=vars_.render(spec.get("code") or "", variables, settings.max_code_chars),
        run_type=spec.get("runType") or "shell",
        engine_type=engine_type(spec.get("engine") or "shell", versions),
        user=linkis_user(task, settings),
        # substituted here, once: Linkis gets no variables to substitute a second time
        variables={},
        startup=configuration.get("startup") or {},
        runtime={**(configuration.get("runtime") or {}), "nodeName": spec.get("title") or node.title},
        special=configuration.get("special") or {},
        labels={"route": str((params.get("labels") or {}).get("route", "dev"))},
        source={
            **{k: str(v) for k, v in source.items()},
            "nodeName": node.title,
            "flowexecNodeRunId": str(node.id),
            "flowexecAttempt": str(node.attempt + 1),
        },
    )


def linkis_user(task: WorkflowTask, settings: Settings) -> str:
    """The Linkis user a node's job runs as: the configured one, else the submitter."""
    return settings.linkis_user or task.um_user or "hadoop"
