"""The report as one self-contained HTML file (charts embedded), easy to forward."""

from __future__ import annotations

import base64
from html import escape

from walletguard.reporting.content import (
    Block,
    Cards,
    Heading,
    Image,
    PageBreak,
    Paragraph,
    Table,
)

STYLE = """
body { font-family: "DejaVu Sans", "Segoe UI", Helvetica, Arial, sans-serif; color: #1f2933;
       max-width: 980px; margin: 2em auto; padding: 0 1.5em; line-height: 1.45; }
h1 { font-size: 1.7em; margin-bottom: 0.2em; }
h2 { font-size: 1.3em; margin-top: 1.8em; border-bottom: 2px solid #d9e2ec;
     padding-bottom: 0.2em; }
h3 { font-size: 1.05em; margin-top: 1.4em; }
p.note { color: #52606d; font-size: 0.9em; }
p.warn { background: #fff4e5; border-left: 4px solid #de911d; padding: 0.6em 0.8em; }
.cards { display: grid; grid-template-columns: repeat(3, 1fr); gap: 0.8em; margin: 1.2em 0; }
.card { border: 1px solid #d9e2ec; border-radius: 6px; padding: 0.7em 0.9em; }
.card .label { font-size: 0.8em; text-transform: uppercase; color: #52606d; letter-spacing: .03em; }
.card .value { font-size: 1.6em; font-weight: bold; margin: 0.1em 0; }
.card .detail { font-size: 0.8em; color: #52606d; }
.card.good .value { color: #2f8132; } .card.bad .value { color: #c63737; }
table { border-collapse: collapse; width: 100%; font-size: 0.85em; margin: 0.6em 0 1em; }
th { text-align: left; background: #f0f4f8; border-bottom: 1px solid #bcccdc;
     padding: 0.35em 0.5em; }
td { border-bottom: 1px solid #e4e7eb; padding: 0.3em 0.5em; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.good { color: #2f8132; font-weight: bold; } td.bad { color: #c63737; font-weight: bold; }
img { max-width: 100%; margin: 0.6em 0; }
hr.page { border: none; margin: 2.5em 0 0; }
@media print { hr.page { page-break-after: always; } }
"""


def render_html(title: str, blocks: list[Block], images: dict[str, bytes]) -> str:
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>",
    ]
    for block in blocks:
        parts.append(_block(block, images))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _block(block: Block, images: dict[str, bytes]) -> str:
    if isinstance(block, Heading):
        return f"<h{block.level}>{escape(block.text)}</h{block.level}>"
    if isinstance(block, Paragraph):
        tone = f' class="{block.tone}"' if block.tone else ""
        return f"<p{tone}>{escape(block.text)}</p>"
    if isinstance(block, Cards):
        cards = "".join(
            f'<div class="card {c.tone}"><div class="label">{escape(c.label)}</div>'
            f'<div class="value">{escape(c.value)}</div>'
            f'<div class="detail">{escape(c.detail)}</div></div>'
            for c in block.cards
        )
        return f'<div class="cards">{cards}</div>'
    if isinstance(block, Table):
        head = "".join(
            f'<th class="num">{escape(h)}</th>' if i in block.numeric else f"<th>{escape(h)}</th>"
            for i, h in enumerate(block.header)
        )
        rows = []
        for r, row in enumerate(block.rows):
            cells = []
            for c, cell in enumerate(row):
                classes = " ".join(
                    x
                    for x in ("num" if c in block.numeric else "", block.tones.get((r, c), ""))
                    if x
                )
                attr = f' class="{classes}"' if classes else ""
                cells.append(f"<td{attr}>{escape(cell)}</td>")
            rows.append("<tr>" + "".join(cells) + "</tr>")
        return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    if isinstance(block, Image):
        data = images.get(block.name)
        if data is None:
            return ""
        encoded = base64.b64encode(data).decode("ascii")
        alt = escape(block.caption or block.name)
        return f'<img alt="{alt}" src="data:image/png;base64,{encoded}">'
    if isinstance(block, PageBreak):
        return '<hr class="page">'
    raise TypeError(f"unknown block {block!r}")
