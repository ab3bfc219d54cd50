"""A real gateway on a loopback port per test, raw protocol calls to it, and its test controls."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway import GatewayServer
from tests.gateway.support import Api
from tests.gateway.support import Control
from tests.gateway.support import contract_gateway
from tests.gateway.support import control_of


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[GatewayServer]:
    server = contract_gateway(tmp_path / "state")
    yield server
    server.shutdown()


@pytest.fixture
def control(gateway: GatewayServer) -> Control:
    """Call a ``flowexec-test`` control endpoint; returns the envelope's data."""
    return control_of(gateway)


@pytest.fixture
def api(gateway: GatewayServer) -> Iterator[Api]:
    client = Api(gateway.url)
    yield client
    client.session.close()
