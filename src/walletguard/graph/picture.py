"""A picture of a ring for its case's evidence: an SVG drawn from the ring's flows.

Members are red circles, other wallets (money sources, most often victims) orange,
bank accounts and merchants grey squares, shared devices blue diamonds; arrows carry
the amount that flowed. The layout is seeded, so the same ring gives the same picture.
"""

from __future__ import annotations

import html
import math

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
    positions = nx.spring_layout(g, seed=7, k=1.4 / math.sqrt(max(len(g), 1)))
    xs = [p[0] for p in positions.values()]
    ys = [p[1] for p in positions.values()]
    span_x = (max(xs) - min(xs)) or 1.0
    span_y = (max(ys) - min(ys)) or 1.0

    def at(node: str) -> tuple[float, float]:
        x, y = positions[node]
        return (
            MARGIN + (x - min(xs)) / span_x * (WIDTH - 2 * MARGIN),
            MARGIN + 30 + (y - min(ys)) / span_y * (HEIGHT - 2 * MARGIN - 30),
        )

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
        out.append(
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#555" '
            'stroke-width="1.5" marker-end="url(#arrow)"/>'
        )
        label = data["amount"] + (f" ×{data['count']}" if data["count"] > 1 else "")
        out.append(
            f'<text x="{(x1 + x2) / 2:.1f}" y="{(y1 + y2) / 2 - 3:.1f}" fill="#333" '
            f'text-anchor="middle">{html.escape(label)}</text>'
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
    out.append("</svg>")
    return "\n".join(out)
