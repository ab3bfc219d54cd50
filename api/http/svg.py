"""A flow graph as SVG: nodes in layers by topological depth, coloured by state (no graphviz)."""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

FILL = {
    "Succeed": "#52c41a",
    "Failed": "#f5222d",
    "Timeout": "#fa541c",
    "Cancelled": "#eb2f96",
    "Skipped": "#d9d9d9",
    "Running": "#1890ff",
    "Submitting": "#69c0ff",
    "Queued": "#fadb14",
    "Pending": "#ffffff",
}
BOX_W, BOX_H, GAP_X, GAP_Y, MARGIN = 180, 44, 40, 60, 20


@dataclass(frozen=True)
class GraphNode:
    key: str
    title: str
    state: str
    children: Sequence[str]


def depths(nodes: Sequence[GraphNode]) -> dict[str, int]:
    """Longest distance from a root (Kahn's order; nodes on a cycle, if any, go last)."""
    keys = {n.key for n in nodes}
    indegree = {n.key: 0 for n in nodes}
    for node in nodes:
        for child in node.children:
            if child in keys:
                indegree[child] += 1
    depth = {n.key: 0 for n in nodes}
    ready = [n.key for n in nodes if indegree[n.key] == 0]
    by_key = {n.key: n for n in nodes}
    seen = 0
    while ready:
        key = ready.pop(0)
        seen += 1
        for child in by_key[key].children:
            if child not in keys:
                continue
            depth[child] = max(depth[child], depth[key] + 1)
            indegree[child] -= 1
            if indegree[child] == 0:
                ready.append(child)
    if seen < len(nodes):
        top = max(depth.values(), default=0) + 1
        depth.update({k: top for k, n in indegree.items() if n > 0})
    return depth


def _positions(nodes: Sequence[GraphNode]) -> tuple[dict[str, tuple[int, int]], int, int]:
    depth = depths(nodes)
    layers: dict[int, list[str]] = {}
    for node in nodes:
        layers.setdefault(depth[node.key], []).append(node.key)
    widest = max((len(v) for v in layers.values()), default=1)
    width = 2 * MARGIN + widest * BOX_W + (widest - 1) * GAP_X
    height = 2 * MARGIN + len(layers) * BOX_H + max(len(layers) - 1, 0) * GAP_Y
    where: dict[str, tuple[int, int]] = {}
    for level, keys in sorted(layers.items()):
        row_w = len(keys) * BOX_W + (len(keys) - 1) * GAP_X
        x0 = (width - row_w) // 2
        for i, key in enumerate(keys):
            where[key] = (x0 + i * (BOX_W + GAP_X), MARGIN + level * (BOX_H + GAP_Y))
    return where, width, height


def _edges(nodes: Sequence[GraphNode], where: Mapping[str, tuple[int, int]]) -> list[str]:
    out = []
    for node in nodes:
        x1, y1 = where[node.key]
        for child in node.children:
            if child not in where:
                continue
            x2, y2 = where[child]
            out.append(
                f'<line class="edge" x1="{x1 + BOX_W // 2}" y1="{y1 + BOX_H}" x2="{x2 + BOX_W // 2}" '
                f'y2="{y2}" stroke="#8c8c8c" stroke-width="1.5" marker-end="url(#arrow)"/>'
            )
    return out


def _box(node: GraphNode, x: int, y: int) -> str:
    fill = FILL.get(node.state, "#ffffff")
    title = escape(node.title if len(node.title) <= 22 else node.title[:21] + "…")
    return (
        f'<g class="node" data-key="{escape(node.key)}" data-state="{escape(node.state)}">'
        f"<title>{escape(node.title)}: {escape(node.state)}</title>"
        f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="6" fill="{fill}" stroke="#595959"/>'
        f'<text x="{x + BOX_W // 2}" y="{y + 19}" text-anchor="middle" font-size="13">{title}</text>'
        f'<text x="{x + BOX_W // 2}" y="{y + 35}" text-anchor="middle" font-size="11" fill="#262626">'
        f"{escape(node.state)}</text></g>"
    )


def render(nodes: Sequence[GraphNode], caption: str = "") -> str:
    """Return a standalone SVG document of the graph."""
    where, width, height = _positions(nodes)
    height += 24 if caption else 0
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#8c8c8c"/></marker></defs>',
        *_edges(nodes, where),
        *(_box(n, *where[n.key]) for n in nodes),
    ]
    if caption:
        parts.append(f'<text x="{MARGIN}" y="{height - 8}" font-size="12">{escape(caption)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)
