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
