"""A picture of a ring for its case's evidence: an SVG drawn from the ring's flows.

Members are red circles, other wallets (money sources, most often victims) orange,
bank accounts and merchants grey squares, shared devices blue diamonds; arrows carry
the amount that flowed. Members sit on a circle, money sources on the left, where the
money leaves on the right, shared devices along the top: the same ring always gives the
same picture.
"""

from __future__ import annotations

import html
import math
from typing import Any

import networkx as nx

from walletguard.graph.rings import Ring

WIDTH, HEIGHT, MARGIN = 900, 640, 70
_COLOURS = {"member": "#d62728", "wallet": "#ff7f0e", "sink": "#7f7f7f", "device": "#1f77b4"}


def _role(node: str, members: set[str]) -> str:
    if node.startswith("a:"):
        return "member" if node[2:] in members else "wallet"
    if node.startswith(("d:", "p:")):
        return "device"
    return "sink"


def _label(node: str) -> str:
    text = node.split(":", 1)[1] if node.startswith(("a:", "t:", "d:", "p:")) else node[2:]
    return text if len(text) <= 18 else text[:17] + "…"


def _column(
    nodes: list[str], x: float, top: float, bottom: float
) -> dict[str, tuple[float, float]]:
    step = (bottom - top) / (len(nodes) + 1)
    return {n: (x, top + step * (i + 1)) for i, n in enumerate(nodes)}


def _layout(nodes: list[str], members: set[str]) -> Any:
    """Members on a circle in the middle, money sources in a column on the left, bank
    accounts and merchants on the right, shared devices along the top."""
    by_role: dict[str, list[str]] = {"member": [], "wallet": [], "sink": [], "device": []}
    for node in sorted(nodes):
        by_role[_role(node, members)].append(node)
    top, bottom = MARGIN + 90, HEIGHT - 100
    where = _column(by_role["wallet"], MARGIN + 40, top, bottom)
    where.update(_column(by_role["sink"], WIDTH - MARGIN - 40, top, bottom))
    devices = by_role["device"]
    for i, node in enumerate(devices):
        where[node] = (WIDTH / 2 + (i - (len(devices) - 1) / 2) * 110, MARGIN + 50)
    ring = by_role["member"]
    cx, cy = WIDTH / 2, (top + bottom) / 2 + 10
    radius = min(WIDTH / 4.5, (bottom - top) / 2.4)
    for i, node in enumerate(ring):
        angle = 2 * math.pi * i / max(len(ring), 1) - math.pi / 2
        where[node] = (cx + radius * math.cos(angle), cy + radius * math.sin(angle))

    def at(node: str) -> tuple[float, float]:
        return where[node]

    return at


def ring_svg(ring: Ring, title: str) -> str:
    """The ring as a standalone SVG document."""
    members = set(ring.members)
    g: nx.DiGraph[str] = nx.DiGraph()
    for flow in ring.flows:
        g.add_edge(flow["from"], flow["to"], amount=flow["amount"], count=flow["count"])
    for attribute, accounts in ring.devices.items():
        for account in accounts:
            g.add_edge(attribute, "a:" + account, amount=None, count=0)
    if not g:
        g.add_nodes_from("a:" + m for m in ring.members)
    at = _layout(list(g.nodes), members)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="11">',
        "<defs><marker id='arrow' viewBox='0 0 10 10' refX='18' refY='5' markerWidth='7' "
        "markerHeight='7' orient='auto-start-reverse'><path d='M0,0 L10,5 L0,10 z' "
        "fill='#555'/></marker></defs>",
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<text x="{MARGIN}" y="32" font-size="16" font-weight="bold">{html.escape(title)}</text>',
        f'<text x="{MARGIN}" y="52" fill="#444">patterns: {html.escape(", ".join(ring.patterns))}'
        f" · {len(ring.members)} member wallets</text>",
    ]
    for a, b, data in g.edges(data=True):
        (x1, y1), (x2, y2) = at(a), at(b)
        if data["amount"] is None:
            out.append(
                f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                'stroke="#1f77b4" stroke-dasharray="4 3"/>'
            )
            continue
        # curve each flow to its right, so money going both ways draws two arcs
        cx, cy = (x1 + x2) / 2 + (y2 - y1) * 0.15, (y1 + y2) / 2 - (x2 - x1) * 0.15
        out.append(
            f'<path d="M{x1:.1f},{y1:.1f} Q{cx:.1f},{cy:.1f} {x2:.1f},{y2:.1f}" fill="none" '
            'stroke="#555" stroke-width="1.5" marker-end="url(#arrow)"/>'
        )
        label = data["amount"] + (f" ×{data['count']}" if data["count"] > 1 else "")
        mx, my = (x1 + 2 * cx + x2) / 4, (y1 + 2 * cy + y2) / 4
        out.append(
            f'<text x="{mx:.1f}" y="{my - 3:.1f}" fill="#333" text-anchor="middle" '
            f'paint-order="stroke" stroke="white" stroke-width="3">{html.escape(label)}</text>'
        )
    for node in g.nodes:
        x, y = at(node)
        role = _role(node, members)
        colour = _COLOURS[role]
        if role in ("member", "wallet"):
            shape = f'<circle cx="{x:.1f}" cy="{y:.1f}" r="11" fill="{colour}"/>'
        elif role == "device":
            shape = (
                f'<polygon points="{x:.1f},{y - 9:.1f} {x + 9:.1f},{y:.1f} {x:.1f},{y + 9:.1f} '
                f'{x - 9:.1f},{y:.1f}" fill="{colour}"/>'
            )
        else:
            shape = (
                f'<rect x="{x - 9:.1f}" y="{y - 9:.1f}" width="18" height="18" fill="{colour}"/>'
            )
        out.append(shape)
        out.append(
            f'<text x="{x:.1f}" y="{y + 24:.1f}" text-anchor="middle">'
            f"{html.escape(_label(node))}</text>"
        )
    legend = [
        ("member", "ring member"),
        ("wallet", "other wallet (money in)"),
        ("sink", "bank account / merchant"),
        ("device", "shared device / phone"),
    ]
    for i, (role, text) in enumerate(legend):
        y = HEIGHT - 20 - 18 * (len(legend) - 1 - i)
        out.append(f'<circle cx="{MARGIN}" cy="{y - 4}" r="6" fill="{_COLOURS[role]}"/>')
        out.append(f'<text x="{MARGIN + 12}" y="{y}">{text}</text>')
    out.append("</svg>")
    return "\n".join(out)
