"""Contract tests: LinkisClient against the local gateway over real HTTP on 127.0.0.1."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from flowexec.errors import LinkisAuthError
from flowexec.errors import LinkisError
from flowexec.errors import LinkisJobNotFound
from flowexec.errors import LinkisUnavailable
from flowexec.linkis.client import LinkisClient
from flowexec.linkis.port import JobRef
from flowexec.linkis.port import JobSpec
from gateway import GatewayServer
from gateway import create_gateway
from gateway import serve_gateway
from tests.flowexec.linkis.conftest import shell
from tests.flowexec.linkis.conftest import wait_state
from tests.flowexec.linkis.conftest import wait_terminal
from tests.gateway.support import process_alive
from tests.gateway.support import wait_for

Control = Callable[..., dict[str, Any]]


def test_shell_job_succeeds_with_variables_and_text_result(client: LinkisClient) -> None:
    ref = client.submit(shell("echo hello; echo ${name}", variables={"name": "world"}))

    assert wait_terminal(client, ref).state == "Succeed"
    info = client.history(ref.task_id)
    assert (info.status, info.progress, info.err_code, info.exec_id) == (
        "Succeed",
        1.0,
        None,
        ref.exec_id,
    )
    [result] = client.result_files(info.result_location or "")
    page = client.read_result(result)
    assert page.type == "1"
    assert page.rows == (("hello",), ("world",))


def test_python_job_succeeds(client: LinkisClient) -> None:
    spec = JobSpec("print(6 * 7)", run_type="python", engine_type="python-python2", user="hadoop")
    ref = client.submit(spec)

    assert wait_terminal(client, ref).state == "Succeed"
    [result] = client.result_files(client.history(ref.task_id).result_location or "")
    assert client.read_result(result).rows == (("42",),)


def test_sql_job_result_sets_are_ordered_and_readable(client: LinkisClient) -> None:
    selects = " ".join(f"select {n} as n;" for n in range(2, 13))
    code = (
        "create table t (dt text, cnt integer);"
        "insert into t values ('2025-01-15', 28), ('2025-01-14', null);"
        f"select dt, cnt from t order by dt desc; {selects}"
    )
    ref = client.submit(JobSpec(code, run_type="sql", engine_type="sqlite-1", user="hadoop"))

    assert wait_terminal(client, ref).state == "Succeed"
    files = client.result_files(client.history(ref.task_id).result_location or "")
    assert [re.search(r"_(\d+)\.dolphin$", f).group(1) for f in files] == [  # type: ignore[union-attr]
        str(n) for n in range(12)
    ]
    table = client.read_result(files[0], page_size=1)
    assert (table.type, table.columns) == ("2", ("dt", "cnt"))
    assert table.rows == (("2025-01-15", "28"), ("2025-01-14", "NULL"))
    assert client.read_result(files[11]).rows == (("12",),)


def test_failing_job_reports_stderr_in_err_desc(client: LinkisClient) -> None:
    ref = client.submit(shell("echo 'Table not found' >&2; exit 3"))

    assert wait_terminal(client, ref).state == "Failed"
    info = client.history(ref.task_id)
    assert info.err_code == 10001
    assert "Table not found" in (info.err_desc or "")


def test_unknown_engine_is_refused_at_submit(client: LinkisClient) -> None:
    with pytest.raises(LinkisError) as info:
        client.submit(JobSpec("1 + 1", run_type="scala", engine_type="spark-3.2.1", user="hadoop"))
    assert info.value.err_code == 20001
    assert "engineConnType: spark" in info.value.message and "simulate" in info.value.message


def test_kill_hanging_job_cancels_and_stops_the_process(client: LinkisClient, tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    ref = client.submit(shell(f"echo $$ > {pid_file}; sleep 60; echo never"))
    wait_state(client, ref, "Running")
    pid = int(wait_for(lambda: pid_file.exists() and pid_file.read_text().strip(), what="pid"))

    client.kill(ref)

    assert client.status(ref).state == "Cancelled"
    assert client.history(ref.task_id).status == "Cancelled"
    wait_for(lambda: not process_alive(pid), deadline=5, what="the killed process to exit")
    client.kill(ref)  # repeating a kill is harmless


def test_kill_after_the_job_finished_is_not_an_error(client: LinkisClient) -> None:
    ref = client.submit(shell("true"))
    wait_terminal(client, ref)

    client.kill(ref)

    assert client.history(ref.task_id).status == "Succeed"


def test_force_kill_of_an_evicted_running_job(client: LinkisClient, control: Control) -> None:
    ref = client.submit(shell("sleep 60"))
    wait_state(client, ref, "Running")
    control("POST", f"/evict/{ref.task_id}")

    client.kill(ref)

    assert client.status(ref).state == "Cancelled"


def test_log_pages_follow_the_cursor(client: LinkisClient) -> None:
    code = "for i in $(seq 1 250); do echo line-$i >&2; done"
    ref = client.submit(shell(code))
    wait_terminal(client, ref)

    lines: list[str] = []
    cursor = 1
    while True:
        page = client.log(ref, from_line=cursor, size=100)
        if not page.lines:
            break
        assert page.next_line == cursor + len(page.lines)
        lines.extend(page.lines)
        cursor = page.next_line

    assert "Your job is accepted" in lines[0]
    assert [line.rsplit(" ", 1)[1] for line in lines if "ERROR line-" in line] == [
        f"line-{i}" for i in range(1, 251)
    ]
    assert lines[-1].endswith("Your job completed with status Success.")


def test_evicted_job_falls_back_to_history_and_log_file(client: LinkisClient, control: Control) -> None:
    ref = client.submit(shell("echo out; echo warning-text >&2"))
    wait_terminal(client, ref)
    live = client.log(ref, from_line=1, size=1000).lines
    control("POST", f"/evict/{ref.task_id}")

    status = client.status(ref)
    assert (status.state, status.progress) == ("Succeed", 1.0)
    assert client.progress(ref) is None
    assert client.log(ref, from_line=1, size=1000).lines == live
    tail = client.log(ref, from_line=3, size=2)
    assert (tail.lines, tail.next_line) == (live[2:4], 5)


def test_evict_fault_drops_a_finished_job_from_memory(client: LinkisClient) -> None:
    ref = client.submit(shell("true", runtime={"flowexec.fault": "evict"}))

    assert wait_terminal(client, ref).state == "Succeed"
    assert client.progress(ref) is None


def test_fail_fault_ends_failed_with_the_given_code(client: LinkisClient) -> None:
    runtime = {"flowexec.fault": "fail", "flowexec.fault.errCode": 30001}
    ref = client.submit(shell("echo fine", runtime=runtime))

    assert wait_terminal(client, ref).state == "Failed"
    assert client.history(ref.task_id).err_code == 30001


def test_unknown_token_is_an_auth_error(gateway: GatewayServer, control: Control) -> None:
    with LinkisClient(gateway.url, token="WRONG", backoff=0.01) as stranger:
        with pytest.raises(LinkisAuthError):
            stranger.submit(shell("true"))
        with pytest.raises(LinkisAuthError):
            stranger.history(1)
    assert control("GET", "/submits")["submits"] == 0


def test_token_limited_to_another_user_is_an_auth_error(gateway: GatewayServer) -> None:
    with LinkisClient(gateway.url, token="ALICE-ONLY", user="alice", backoff=0.01) as alice:
        ref = alice.submit(JobSpec("true", "shell", "shell-1", user="alice"))
        assert wait_terminal(alice, ref).state == "Succeed"
        with pytest.raises(LinkisAuthError):
            alice.submit(shell("true"))  # runs as hadoop: this token may not


def test_one_unauth_answer_is_retried_once(client: LinkisClient, control: Control) -> None:
    control("POST", "/faults", {"method": "GET", "path": "/jobhistory/", "action": "unauth"})
    ref = client.submit(shell("true"))
    wait_terminal(client, ref)

    assert client.history(ref.task_id).status == "Succeed"

    control("POST", "/faults", {"path": "/jobhistory/", "action": "unauth", "times": 2})
    with pytest.raises(LinkisAuthError):
        client.history(ref.task_id)


def test_http_500_twice_on_status_is_retried(client: LinkisClient, control: Control) -> None:
    ref = client.submit(shell("true"))
    wait_terminal(client, ref)
    control("POST", "/faults", {"method": "GET", "path": "/status$", "action": "http_500", "times": 2})

    assert client.status(ref).state == "Succeed"


@pytest.mark.parametrize("action", ["http_500", "http_503", "spring_500", "not_json", "drop"])
def test_transient_faults_on_reads_are_retried(client: LinkisClient, control: Control, action: str) -> None:
    ref = client.submit(shell("true"))
    wait_terminal(client, ref)
    control("POST", "/faults", {"method": "GET", "path": "/jobhistory/", "action": action})

    assert client.history(ref.task_id).status == "Succeed"


def test_http_500_forever_is_unavailable(client: LinkisClient, control: Control) -> None:
    ref = client.submit(shell("true"))
    control("POST", "/faults", {"path": "/status$", "action": "http_500", "times": -1})

    with pytest.raises(LinkisUnavailable):
        client.status(ref)


def test_status_1_on_submit_is_permanent(client: LinkisClient, control: Control) -> None:
    control("POST", "/faults", {"method": "POST", "path": "/entrance/submit", "action": "status_1"})

    with pytest.raises(LinkisError) as raised:
        client.submit(shell("true"))

    assert not isinstance(raised.value, LinkisUnavailable)
    assert control("GET", "/submits")["submits"] == 0


def test_user_creator_of_another_user_is_rejected_with_50080(client: LinkisClient) -> None:
    spec = shell("true", labels={"userCreator": "alice-nodeexecution"})

    with pytest.raises(LinkisError) as raised:
        client.submit(spec)

    assert raised.value.err_code == 50080
    assert not isinstance(raised.value, LinkisUnavailable)


def test_exec_id_with_colon_round_trips(client: LinkisClient, gateway: GatewayServer) -> None:
    ref = client.submit(shell("true"))

    instance = f"127.0.0.1:{gateway.port}"
    assert ref.exec_id == (
        f"exec_id018{len(instance):03d}linkis-cg-entrance{instance}nodeexecution_hadoop_shell_0"
    )
    assert isinstance(ref.task_id, int)
    assert wait_terminal(client, ref).state == "Succeed"  # the gateway rejects an encoded ':'
    assert client.history(ref.task_id).exec_id == ref.exec_id


@pytest.mark.parametrize("action", ["drop", "drop_after", "http_500", "not_json"])
def test_ambiguous_submit_is_not_resent(client: LinkisClient, control: Control, action: str) -> None:
    control("POST", "/faults", {"method": "POST", "path": "/entrance/submit", "action": action})

    with pytest.raises(LinkisUnavailable):
        client.submit(shell("true"))

    assert control("GET", "/submits")["submits"] == (1 if action == "drop_after" else 0)


def test_lost_submit_reply_is_found_by_its_source_tag(client: LinkisClient, control: Control) -> None:
    since = int(time.time() * 1000) - 1000
    tag = {"flowexecNodeRunId": "17", "flowexecAttempt": "1"}
    client.submit(shell("true", source={"flowexecNodeRunId": "16", "flowexecAttempt": "1"}))
    control("POST", "/faults", {"method": "POST", "path": "/entrance/submit", "action": "drop_after"})
    with pytest.raises(LinkisUnavailable):
        client.submit(shell("true", source=tag))

    found = client.find_by_source(tag, since, creator="nodeexecution")

    assert found is not None and found.exec_id
    assert control("GET", "/submits")["submits"] == 2
    assert wait_terminal(client, JobRef(found.exec_id, found.task_id)).state == "Succeed"
    assert client.find_by_source({"flowexecNodeRunId": "99"}, since) is None


def test_slow_submit_times_out_as_unavailable(gateway: GatewayServer, control: Control) -> None:
    rule = {"method": "POST", "path": "/entrance/submit", "action": "slow", "seconds": 1}
    control("POST", "/faults", rule)
    impatient = LinkisClient(gateway.url, submit_timeout=0.3, backoff=0.01)
    with impatient, pytest.raises(LinkisUnavailable):
        impatient.submit(shell("true"))
    wait_for(lambda: control("GET", "/submits")["submits"] == 1, what="the slow submit to land")


def test_refused_connection_is_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with LinkisClient(f"http://127.0.0.1:{port}", retries=2, backoff=0.01) as nowhere:
        with pytest.raises(LinkisUnavailable):
            nowhere.submit(shell("true"))
        with pytest.raises(LinkisUnavailable):
            nowhere.history(1)


def test_unknown_task_is_not_found(client: LinkisClient) -> None:
    with pytest.raises(LinkisJobNotFound):
        client.history(123456)


def test_progress_of_a_running_job(client: LinkisClient) -> None:
    ref = client.submit(shell("sleep 60"))
    wait_state(client, ref, "Running")

    assert client.progress(ref) == 0.5
    client.kill(ref)
    assert client.progress(ref) == 1.0


def test_full_queue_is_unavailable_with_12001(tmp_path: Path) -> None:
    server = serve_gateway(create_gateway(tmp_path, max_queued_per_group=0))
    try:
        with (
            LinkisClient(server.url, backoff=0.01) as linkis,
            pytest.raises(LinkisUnavailable) as raised,
        ):
            linkis.submit(shell("true"))
    finally:
        server.shutdown()

    assert raised.value.err_code == 12001


def test_the_environment_s_proxy_is_read_once_when_the_client_is_built(
    gateway: GatewayServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every call goes to one gateway: proxies, ``NO_PROXY`` and the CA bundle are read from the
    environment when the client is built, not again at each request."""
    for name in ("NO_PROXY", "no_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    proxied = LinkisClient(gateway.url, retries=1, connect_timeout=1)
    monkeypatch.delenv("HTTP_PROXY")
    direct = LinkisClient(gateway.url, retries=1)
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    with proxied, direct:
        with pytest.raises(LinkisUnavailable):
            proxied.history(1)
        with pytest.raises(LinkisJobNotFound):  # the gateway answered: no such task
            direct.history(1)
