"""DSS's merge of a BML script into a node's job (linkis-protocol.md §12.4)."""

from __future__ import annotations

import pytest

from flowexec.linkis.port import JobSpec
from flowexec.linkis.port import Script
from flowexec.service.scripts import ScriptError
from flowexec.service.scripts import ScriptSource
from flowexec.service.scripts import resolve
from flowexec.service.scripts import with_script

SCRIPT = Script(
    "select '${db}', '${run_date}', '${only_script}'\n",
    {"db": "from_script", "only_script": "s"},
    {"startup": {"spark.executor.instances": "2"}, "runtime": {"wds.linkis.rm.yarnqueue": "q1"}},
)


def spec(**groups: dict[str, str]) -> JobSpec:
    return JobSpec("", run_type="sql", engine_type="spark-3.2.1", user="alice", **groups)  # type: ignore[arg-type]


def test_flow_variables_win_and_node_groups_replace_the_scripts() -> None:
    source = ScriptSource(
        "r", "v000001", "a.sql", configured=("startup",), variables={"db": "dw", "run_date": "20250301"}
    )
    job = with_script(
        spec(startup={"spark.executor.memory": "4g"}, runtime={"nodeName": "a"}), SCRIPT, source
    )
    assert job.code == "select 'dw', '20250301', 's'\n"
    # The node sets startup (even {} would replace): the script's startup is gone; runtime merges.
    assert job.startup == {"spark.executor.memory": "4g"}
    assert job.runtime == {"wds.linkis.rm.yarnqueue": "q1", "nodeName": "a"}
    assert job.special == {}


@pytest.mark.parametrize(
    ("error", "code"), [("Script is empty", 90102), ("Failed to get script resource", 90102)]
)
def test_dss_script_errors_fail_the_node(error: str, code: int) -> None:
    with pytest.raises(ScriptError) as info:
        resolve(spec(), ScriptSource(error=error), linkis=None)  # type: ignore[arg-type]
    assert (info.value.message, info.value.err_code) == (error, code)
