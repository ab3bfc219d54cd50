"""The client's other modes against the gateway: password login, legacy execute, batch kill, stages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from flowexec.errors import LinkisAuthError
from flowexec.linkis.client import LinkisClient
from flowexec.linkis.port import JobSpec
from flowexec.linkis.wire import entrance_instance
from gateway import GatewayServer
from tests.flowexec.linkis.conftest import shell
from tests.flowexec.linkis.conftest import wait_state
from tests.flowexec.linkis.conftest import wait_terminal


def test_password_login_keeps_a_session_and_logs_in_again_when_it_expires(gateway: GatewayServer) -> None:
    with LinkisClient(gateway.url, user="alice", password="secret", backoff=0.01) as linkis:
        ref = linkis.submit(JobSpec(code="echo hi", run_type="shell", engine_type="shell-1", user="alice"))
        assert wait_terminal(linkis, ref).state == "Succeed"
        assert linkis.history(ref.task_id).status == "Succeed"
        linkis._session.cookies.clear()  # the gateway's session is gone: the next call logs in again
        assert linkis.history(ref.task_id).status == "Succeed"


def test_a_wrong_password_is_an_auth_error(gateway: GatewayServer) -> None:
    with (
        LinkisClient(gateway.url, user="alice", password="wrong", backoff=0.01) as linkis,
        pytest.raises(LinkisAuthError),
    ):
        linkis.history(1)


def test_legacy_execute_submits_through_entrance_execute(
    gateway: GatewayServer, control: Callable[..., dict[str, Any]]
) -> None:
    before = control("GET", "/submits")["submits"]
    with LinkisClient(gateway.url, legacy_execute=True, backoff=0.01) as linkis:
        ref = linkis.submit(shell("echo legacy"))
        assert wait_terminal(linkis, ref).state == "Succeed"
    assert control("GET", "/submits")["submits"] == before + 1


def test_kill_jobs_kills_every_job_in_one_call(client: LinkisClient) -> None:
    refs = [client.submit(shell("sleep 60")) for _ in range(3)]
    for ref in refs:
        wait_state(client, ref, "Running")
    assert entrance_instance(refs[0].exec_id).startswith("127.0.0.1:")
    assert client.kill_jobs(refs) == []
    assert [client.history(r.task_id).status for r in refs] == ["Cancelled"] * 3


def test_progress_comes_with_its_stages(client: LinkisClient) -> None:
    ref = client.submit(shell("sleep 0.5"))
    wait_state(client, ref, "Running")
    progress, stages = client.progress_info(ref)
    assert progress is not None and 0.0 <= progress <= 1.0
    assert isinstance(stages, list)
    assert wait_terminal(client, ref).state == "Succeed"
