"""A real gateway on a loopback port per test, a client of it, and helpers to drive jobs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flowexec.linkis.client import LinkisClient
from flowexec.linkis.port import JobRef
from flowexec.linkis.port import JobSpec
from flowexec.linkis.port import JobStatus
from gateway import GatewayServer
from tests.gateway.support import Control
from tests.gateway.support import contract_gateway
from tests.gateway.support import control_of
from tests.gateway.support import wait_for


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[GatewayServer]:
    server = contract_gateway(tmp_path / "state")
    yield server
    server.shutdown()


@pytest.fixture
def client(gateway: GatewayServer) -> Iterator[LinkisClient]:
    with LinkisClient(gateway.url, read_timeout=5, submit_timeout=5, backoff=0.01) as linkis:
        yield linkis


@pytest.fixture
def control(gateway: GatewayServer) -> Control:
    """Call a ``flowexec-test`` control endpoint; returns the envelope's data."""
    return control_of(gateway)


def shell(code: str, **kwargs: Any) -> JobSpec:
    return JobSpec(code=code, run_type="shell", engine_type="shell-1", user="hadoop", **kwargs)


def wait_terminal(client: LinkisClient, ref: JobRef) -> JobStatus:
    status: JobStatus = wait_for(
        lambda: (s := client.status(ref)).terminal and s, what=f"task {ref.task_id} to end"
    )
    return status


def wait_state(client: LinkisClient, ref: JobRef, state: str) -> None:
    wait_for(lambda: client.status(ref).state == state, what=f"task {ref.task_id} {state}")
