"""Brute-force graph facts the tests check flowexec against."""

from __future__ import annotations

from collections.abc import Iterable


def reach(edges: Iterable[tuple[str, str]], start: str, forward: bool = True) -> set[str]:
    """Every node reachable from ``start`` along ``edges`` (backwards when not ``forward``)."""
    links: dict[str, set[str]] = {}
    for a, b in edges:
        src, dst = (a, b) if forward else (b, a)
        links.setdefault(src, set()).add(dst)
    seen: set[str] = set()
    stack = list(links.get(start, ()))
    while stack:
        key = stack.pop()
        if key not in seen:
            seen.add(key)
            stack.extend(links.get(key, ()))
    return seen
