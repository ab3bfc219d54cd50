"""Submit bodies: ``entrance/submit`` and legacy ``entrance/execute`` checked as Linkis checks them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from typing import Any

from flowexec.linkis.port import DEFAULT_ENGINE_VERSIONS
from flowexec.names import valid_user
from gateway.protocol import Refusal

VARIABLE = re.compile(r"\$\{\s*([A-Za-z_][\w.]*)\s*\}")
#: A creator names a folder (``log/<day>/<creator>/<user>``): letters, digits, ``_`` only.
CREATOR = re.compile(r"^[A-Za-z0-9_]{1,50}$")


@dataclass(frozen=True)
class SubmitRequest:
    """A validated submit body (``/submit`` or legacy ``/execute``)."""

    code: str
    run_type: str
    labels: dict[str, str]
    variables: dict[str, Any]
    runtime: dict[str, Any]
    params: dict[str, Any]
    source: dict[str, Any]
    execute_user: str | None = None


def parse_submit(body: Any) -> SubmitRequest:
    """Validate an ``entrance/submit`` body as Linkis does (errors 20007-20010)."""
    if not isinstance(body, dict):
        raise Refusal("request body must be a JSON object")
    content = body.get("executionContent")
    if not isinstance(content, dict) or "code" not in content:
        raise Refusal("executionContent.code is required", 20010)
    code = content["code"]
    if not isinstance(code, str) or not code.strip():
        raise Refusal("code can not be empty(执行代码不能为空)", 20007)
    labels = _labels(body.get("labels"))
    run_type = content.get("runType") or labels.get("codeType")
    if not run_type or not isinstance(run_type, str):
        raise Refusal("runType or codeType is required", 20009)
    params = _dict(body.get("params"))
    configuration = _dict(params.get("configuration"))
    return SubmitRequest(
        code=code, run_type=run_type, labels=labels,
        variables=_dict(params.get("variable")), runtime=_dict(configuration.get("runtime")),
        params=params, source=_dict(body.get("source")),
        execute_user=_execute_user(body.get("executeUser")),
    )  # fmt: skip


def _execute_user(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not valid_user(value):
        raise Refusal("executeUser is not a valid user name", 20009)
    return value


def parse_execute(body: Any, user: str) -> SubmitRequest:
    """Translate a legacy 0.x ``entrance/execute`` body (runs as the login user) into a submit."""
    if not isinstance(body, dict):
        raise Refusal("request body must be a JSON object")
    if "executionCode" not in body:
        raise Refusal("executionCode is required", 20010)
    engine = str(body.get("executeApplicationName") or "spark")
    creator = str(body.get("requestApplicationName") or "IDE")
    labels = {"engineType": f"{engine}-{DEFAULT_ENGINE_VERSIONS.get(engine, '1')}"}
    labels.update({str(k): str(v) for k, v in _dict(body.get("labels")).items()})
    labels.setdefault("userCreator", f"{user}-{creator}")
    return parse_submit({
        "executionContent": {"code": body.get("executionCode"), "runType": body.get("runType") or "sql"},
        "params": _dict(body.get("params")), "labels": labels, "source": _dict(body.get("source")),
    })  # fmt: skip


def _dict(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}


def _labels(value: Any) -> dict[str, str]:
    """Check the labels map: non-empty (20008), ``engineType`` and numeric timeouts (20009)."""
    if not isinstance(value, dict) or not value:
        raise Refusal("labels can not be empty(标签不能为空)", 20008)
    labels = {str(k): str(v) for k, v in value.items()}
    if not labels.get("engineType"):
        raise Refusal("engineType label is required", 20009)
    for key in ("jobRunningTimeout", "jobQueuingTimeout"):
        if key in labels and not labels[key].isdigit():
            raise Refusal(f"{key} must be a number of seconds", 20009)
    return labels


def check_user_creator(labels: Mapping[str, str], user: str) -> str:
    """Return the creator of ``userCreator``; its user must be the execute user (50080)."""
    user_creator = labels.get("userCreator") or f"{user}-IDE"
    parts = user_creator.split("-")
    if len(parts) != 2 or not CREATOR.match(parts[1]):
        raise Refusal(f"userCreator label {user_creator} is invalid, need user-creator", 50079)
    if parts[0].lower() != user.lower():
        raise Refusal(
            f"SubmitUser : {parts[0]} must be the same as ExecuteUser : {user} , "
            "and userCreator's user", 50080,
        )  # fmt: skip
    return parts[1]


def substitute(code: str, variables: Mapping[str, Any]) -> str:
    """Replace ``${name}`` from variables; ``run_date`` defaults to yesterday (``yyyyMMdd``)."""
    values = {"run_date": (datetime.now() - timedelta(days=1)).strftime("%Y%m%d")}
    values.update({str(k): str(v) for k, v in variables.items()})
    return VARIABLE.sub(lambda m: values.get(m.group(1), m.group(0)), code)
