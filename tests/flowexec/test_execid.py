"""DSS execIDs are built and parsed in one place."""

from __future__ import annotations

import pytest

from flowexec import execid
from flowexec.errors import NotFound


def test_build_follows_linkis_layout() -> None:
    built = execid.build(1187, "alice", instance="dss-server10.1.2.3:9043")
    assert built == "exec_id013023flowexecutiondss-server10.1.2.3:9043flowexecution_alice_flowexecution_1187"
    assert execid.task_id_of(built) == 1187


def test_a_long_user_keeps_the_short_id_within_its_column() -> None:
    short = execid.short_exec_id(5, "u" * 60)
    assert short == "flowexecution_5" and len(short) <= 50
    assert execid.task_id_of(execid.build(5, "u" * 60)) == 5


@pytest.mark.parametrize("bad", ["", "exec_id", "nope_12", "exec_id013_x", f"exec_id_{2**63}"])
def test_malformed_or_huge_is_not_found(bad: str) -> None:
    with pytest.raises(NotFound):
        execid.task_id_of(bad)


def test_parse_accepts_a_task_id_or_an_exec_id() -> None:
    assert execid.parse_task_id("42") == 42
    assert execid.parse_task_id(execid.build(42, "bob")) == 42
    with pytest.raises(NotFound):
        execid.parse_task_id(str(2**63))


def test_a_registered_instance_builds_the_execid_the_gateway_routes() -> None:
    route = execid.Route("dss-flow-entrance-server-dev", "10.1.2.3:9006")
    built = execid.build(17, "alice", route=route)
    assert built == (
        "exec_id028013dss-flow-entrance-server-dev10.1.2.3:9006flowexecution_alice_flowexecution_17"
    )
    parsed = execid.parse(built)
    assert (parsed.application, parsed.instance, parsed.task_id) == (
        "dss-flow-entrance-server-dev",
        "10.1.2.3:9006",
        17,
    )
    assert parsed.short_id == "flowexecution_alice_flowexecution_17"
    assert execid.parse_task_id(built) == 17


def test_parse_reads_todays_form_and_the_stock_services() -> None:
    today = execid.build(9, "bob", instance="host-a")
    assert execid.parse(today).instance == "host-a" and execid.parse(today).application == "flowexecution"
    stock = "exec_id017013dss-flow-entrance10.1.2.3:9006flowexecution_alice_flowexecution_88"
    assert (execid.parse(stock).application, execid.parse(stock).instance) == (
        "dss-flow-entrance",
        "10.1.2.3:9006",
    )


@pytest.mark.parametrize("bad", ["exec_idxyz", "exec_id999999a", "exec_id003003abcdef", "job_1"])
def test_parse_rejects_what_linkis_could_not_route(bad: str) -> None:
    with pytest.raises(NotFound):
        execid.parse(bad)
