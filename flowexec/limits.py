"""Bounds on what a caller can make flowexec do: expanded nodes, subflow depth (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from flowexec.errors import InvalidFlow


@dataclass(frozen=True)
class Limits:
    """How large a flow may grow once its subflows are expanded (``FLOWEXEC_MAX_*``)."""

    max_nodes: int = 5_000
    max_depth: int = 8


class Budget:
    """Nodes left to parse across every nested subflow: parsing stops as soon as it runs out."""

    def __init__(self, limits: Limits) -> None:
        self.limits, self.left = limits, limits.max_nodes

    def take(self, count: int) -> None:
        self.left -= count
        if self.left < 0:
            raise InvalidFlow(
                f"flow expands to more than {self.limits.max_nodes} nodes with its subflows "
                "(FLOWEXEC_MAX_NODES)"
            )


#: Deepest JSON nesting a request body may have (a flow with subflows needs far less).
MAX_JSON_DEPTH = 64


def json_depth_exceeds(value: object, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when lists/objects nest deeper than ``limit`` (checked without recursion)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: list[object] = list(item.values())
        elif isinstance(item, list):
            children = list(item)
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False
