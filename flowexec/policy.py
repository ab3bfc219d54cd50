"""Failure policies: what one node's failure does to the rest of its execution.

Like skip strategies, a policy is a name with its rule beside it; the service applies the
rule inside the transaction that recorded the failure.
"""

from __future__ import annotations

from enum import Enum

from flowexec.errors import InvalidRequest
from flowexec.state import NODE_UNSTARTED
from flowexec.state import NodeState


class FailurePolicy(str, Enum):
    """How an execution goes on after a node fails (DESIGN §4)."""

    #: DSS's behaviour: kill running Linkis jobs and cancel everything not yet finished.
    FAIL_FAST = "fail_fast"
    #: Independent branches go on; what is downstream of the failure is Skipped.
    CONTINUE = "continue"
    #: Nothing new starts; running nodes finish.
    FINISH_RUNNING = "finish_running"

    def __str__(self) -> str:
        return self.value

    @classmethod
    def parse(cls, value: str | FailurePolicy | None) -> FailurePolicy:
        """Return the policy named ``value`` (None is the default); an unknown name is a 400."""
        if value is None:
            return cls.FAIL_FAST
        try:
            return cls(value)
        except ValueError:
            raise InvalidRequest(f"unknown failure policy {value!r}; one of {', '.join(NAMES)}") from None

    @property
    def cancels(self) -> frozenset[NodeState]:
        """The states this policy cancels when a node fails (Running ones have their job killed)."""
        return _CANCELS[self]

    @property
    def skips_downstream(self) -> bool:
        """True when the failed node's descendants are Skipped ("upstream failed")."""
        return self is FailurePolicy.CONTINUE

    def reason(self, failed: str) -> str:
        """The error recorded on the nodes this policy cancels after node ``failed`` failed."""
        return _REASONS[self].format(node=failed)


NAMES: tuple[str, ...] = tuple(p.value for p in FailurePolicy)

#: A kill of the whole execution (by a user) cancels what fail-fast cancels.
KILL_CANCELS = frozenset(NODE_UNSTARTED | {NodeState.SUBMITTING, NodeState.RUNNING})

_CANCELS: dict[FailurePolicy, frozenset[NodeState]] = {
    FailurePolicy.FAIL_FAST: KILL_CANCELS,
    FailurePolicy.CONTINUE: frozenset(),
    FailurePolicy.FINISH_RUNNING: NODE_UNSTARTED,
}
_REASONS: dict[FailurePolicy, str] = {
    FailurePolicy.FAIL_FAST: "cancelled: fail-fast after {node} failed",
    FailurePolicy.CONTINUE: "upstream failed: {node}",
    FailurePolicy.FINISH_RUNNING: "cancelled: {node} failed; running nodes were let finish",
}
