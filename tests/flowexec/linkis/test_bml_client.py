"""The client's BML calls and script reads against the local gateway; simulated and missing engines."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowexec.errors import LinkisError
from flowexec.linkis import bml
from flowexec.linkis.client import LinkisClient
from flowexec.linkis.port import JobSpec
from flowexec.linkis.port import Script
from gateway import create_gateway
from gateway import serve_gateway
from tests.flowexec.linkis.conftest import wait_terminal

SQL = b"--@set target_db=dw\n--conf@set configuration startup spark.executor.instances=2\nselect '${target_db}'\n"


def test_upload_update_versions_download(client: LinkisClient) -> None:
    first = bml.upload(client, SQL, "a.sql", "hadoop")
    assert first.version == "v000001"
    second = bml.update_version(client, first.resource_id, b"select 2\n", "a.sql", "hadoop")
    assert (second.resource_id, second.version) == (first.resource_id, "v000002")
    assert bml.versions(client, first.resource_id, "hadoop") == ["v000002", "v000001"]
    assert bml.download(client, first.resource_id, "v000001", "hadoop") == SQL
    assert bml.download(client, first.resource_id, None, "hadoop") == b"select 2\n"
    with pytest.raises(LinkisError) as info:
        bml.download(client, first.resource_id, None, "alice")  # only the owner downloads
    assert info.value.err_code == 10905 and "75569" in info.value.message
    with pytest.raises(LinkisError) as info:
        bml.update_version(client, "unknown", b"x", "a.sql", "hadoop")
    assert info.value.err_code == 78361


def test_seeded_ids_and_open_script(client: LinkisClient) -> None:
    stored = bml.upload(client, SQL, "a.sql", "alice", resource_id="res-42", version="v000007")
    assert (stored.resource_id, stored.version) == ("res-42", "v000007")
    script = client.open_script("res-42", "v000007", "agg.sql", "hadoop")
    assert script == Script(
        "select '${target_db}'\n", {"target_db": "dw"}, {"startup": {"spark.executor.instances": "2"}}
    )
    with pytest.raises(LinkisError) as info:
        client.open_script("res-42", "v000008", "agg.sql", "hadoop")
    assert info.value.err_code == 10905
    assert "openScriptFromBML" in info.value.message and "request failed!" in info.value.message


def test_engine_the_gateway_lacks_is_refused_at_submit(client: LinkisClient) -> None:
    spec = JobSpec('{"check.object":"t"}', run_type="datachecker", engine_type="appconn-1", user="hadoop")
    with pytest.raises(LinkisError) as info:
        client.submit(spec)
    assert info.value.err_code == 20001
    assert "engineConnType: appconn" in info.value.message
    assert (
        "FLOWEXEC_GATEWAY_SIMULATE=appconn" in info.value.message
        and "--simulate appconn" in info.value.message
    )


def test_simulated_engines_succeed_without_running(tmp_path: Path) -> None:
    server = serve_gateway(create_gateway(tmp_path / "gw", simulate=frozenset({"appconn", "spark.py"})))
    try:
        with LinkisClient(server.url, retries=1) as linkis:
            code = '{"check.object":"ods.orders"}'
            ref = linkis.submit(JobSpec(code, run_type="datachecker", engine_type="appconn-1", user="hadoop"))
            assert wait_terminal(linkis, ref).state == "Succeed"
            log = linkis.open_log(linkis.history(ref.task_id).log_path or "")
            assert "simulated appconn.datachecker\n" in log and code in log
            marker = tmp_path / "ran"
            py = JobSpec(f"open('{marker}', 'w')", run_type="py", engine_type="spark-3.2.1", user="hadoop")
            assert wait_terminal(linkis, linkis.submit(py)).state == "Succeed"
            assert not marker.exists()  # simulated: never run
            # Only what is listed is simulated: spark.scala is still missing here.
            with pytest.raises(LinkisError):
                linkis.submit(JobSpec("1", run_type="scala", engine_type="spark-3.2.1", user="hadoop"))
    finally:
        server.shutdown()
