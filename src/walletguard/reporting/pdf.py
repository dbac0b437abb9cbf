"""The report as a PDF (ReportLab), A4, with the same blocks as the HTML.

Text is set in DejaVu Sans, taken from matplotlib's own fonts (always installed with
it), so ≥, µ and Chinese-free Unicode punctuation print correctly.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import matplotlib
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Image as RLImage
from reportlab.platypus import KeepTogether, SimpleDocTemplate, Spacer, TableStyle
from reportlab.platypus import PageBreak as RLPageBreak
from reportlab.platypus import Paragraph as RLParagraph
from reportlab.platypus import Table as RLTable

from walletguard.reporting.content import Block, Cards, Heading, Image, PageBreak, Paragraph, Table

INK = colors.HexColor("#1f2933")
MUTED = colors.HexColor("#52606d")
LINE = colors.HexColor("#d9e2ec")
HEAD = colors.HexColor("#f0f4f8")
GOOD = colors.HexColor("#2f8132")
BAD = colors.HexColor("#c63737")
WARN = colors.HexColor("#fff4e5")
WIDTH = A4[0] - 30 * mm

_fonts_ready = False


def _fonts() -> tuple[str, str]:
    global _fonts_ready
    if not _fonts_ready:
        ttf = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
        pdfmetrics.registerFont(TTFont("DejaVu", str(ttf / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont("DejaVu-Bold", str(ttf / "DejaVuSans-Bold.ttf")))
        _fonts_ready = True
    return "DejaVu", "DejaVu-Bold"


def _styles() -> dict[str, ParagraphStyle]:
    regular, bold = _fonts()
    base = ParagraphStyle("base", fontName=regular, fontSize=9, leading=12, textColor=INK)
    return {
        "h1": ParagraphStyle(
            "h1", parent=base, fontName=bold, fontSize=17, leading=21, spaceAfter=4
        ),
        "h2": ParagraphStyle(
            "h2", parent=base, fontName=bold, fontSize=13, leading=16, spaceBefore=10, spaceAfter=5
        ),
        "h3": ParagraphStyle(
            "h3", parent=base, fontName=bold, fontSize=10.5, leading=13, spaceBefore=8, spaceAfter=4
        ),
        "p": ParagraphStyle("p", parent=base, spaceAfter=4),
        "note": ParagraphStyle("note", parent=base, textColor=MUTED, fontSize=8.5, spaceAfter=4),
        "warn": ParagraphStyle(
            "warn",
            parent=base,
            backColor=WARN,
            borderPadding=5,
            spaceBefore=4,
            spaceAfter=8,
            leftIndent=6,
            rightIndent=6,
        ),
        "cell": ParagraphStyle("cell", parent=base, fontSize=7.5, leading=9.5, alignment=TA_LEFT),
        "cellb": ParagraphStyle("cellb", parent=base, fontName=bold, fontSize=7.5, leading=9.5),
        "card_label": ParagraphStyle("cl", parent=base, fontSize=7, textColor=MUTED, leading=9),
        "card_value": ParagraphStyle("cv", parent=base, fontName=bold, fontSize=15, leading=19),
        "card_detail": ParagraphStyle("cd", parent=base, fontSize=7, textColor=MUTED, leading=9),
    }


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render_pdf(title: str, blocks: list[Block], images: dict[str, bytes]) -> bytes:
    styles = _styles()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=14 * mm,
        bottomMargin=14 * mm,
        title=title,
        author="walletguard",
    )
    flow: list[Any] = []
    heading: list[Any] = []
    for block in blocks:
        made = _flowables(block, styles, images)
        if isinstance(block, Heading):
            heading += made  # keep a heading with what follows it
            continue
        if heading and made:
            made = [KeepTogether([*heading, made[0]]), *made[1:]]
            heading = []
        flow += made
    flow += heading

    def footer(canvas: Any, document: Any) -> None:
        canvas.saveState()
        canvas.setFont(_fonts()[0], 7)
        canvas.setFillColor(MUTED)
        canvas.drawString(15 * mm, 8 * mm, title)
        canvas.drawRightString(A4[0] - 15 * mm, 8 * mm, f"page {document.page}")
        canvas.restoreState()

    doc.build(flow, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def _flowables(
    block: Block, styles: dict[str, ParagraphStyle], images: dict[str, bytes]
) -> list[Any]:
    if isinstance(block, Heading):
        return [RLParagraph(_esc(block.text), styles[f"h{min(block.level, 3)}"])]
    if isinstance(block, Paragraph):
        return [RLParagraph(_esc(block.text), styles[block.tone or "p"])]
    if isinstance(block, Cards):
        return [_cards(block, styles), Spacer(1, 4 * mm)]
    if isinstance(block, Table):
        return [_table(block, styles), Spacer(1, 2 * mm)]
    if isinstance(block, Image):
        data = images.get(block.name)
        if data is None:
            return []
        reader = ImageReader(io.BytesIO(data))
        w, h = reader.getSize()
        width = WIDTH
        return [RLImage(io.BytesIO(data), width=width, height=width * h / w)]
    if isinstance(block, PageBreak):
        return [RLPageBreak()]
    raise TypeError(f"unknown block {block!r}")


def _cards(block: Cards, styles: dict[str, ParagraphStyle]) -> RLTable:
    cells = []
    for card in block.cards:
        value_style = ParagraphStyle(
            "v",
            parent=styles["card_value"],
            textColor=GOOD if card.tone == "good" else BAD if card.tone == "bad" else INK,
        )
        cells.append(
            [
                RLParagraph(_esc(card.label.upper()), styles["card_label"]),
                RLParagraph(_esc(card.value), value_style),
                RLParagraph(_esc(card.detail), styles["card_detail"]),
            ]
        )
    rows = [cells[i : i + 3] for i in range(0, len(cells), 3)]
    for row in rows:
        row += [[RLParagraph("", styles["card_label"])]] * (3 - len(row))
    table = RLTable(rows, colWidths=[WIDTH / 3] * 3)
    table.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 0.5, LINE),
                ("INNERGRID", (0, 0), (-1, -1), 0.5, LINE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    return table


def _table(block: Table, styles: dict[str, ParagraphStyle]) -> Any:
    right = ParagraphStyle("r", parent=styles["cell"], alignment=2)
    rightb = ParagraphStyle("rb", parent=styles["cellb"], alignment=2)
    header = [
        RLParagraph(_esc(h), rightb if i in block.numeric else styles["cellb"])
        for i, h in enumerate(block.header)
    ]
    body = []
    for r, row in enumerate(block.rows):
        line = []
        for c, cell in enumerate(row):
            tone = block.tones.get((r, c))
            style = right if c in block.numeric else styles["cell"]
            if tone:
                style = ParagraphStyle(
                    "t",
                    parent=styles["cellb"],
                    textColor=GOOD if tone == "good" else BAD,
                    alignment=style.alignment,
                )
            line.append(RLParagraph(_esc(cell), style))
        body.append(line)
    weights = [
        min(
            45,
            max(
                [
                    max((len(w) + 2 for w in h.split()), default=1),
                    *(len(row[i]) for row in block.rows),
                ]
            ),
        )
        + 3
        for i, h in enumerate(block.header)
    ]
    widths = [WIDTH * w / sum(weights) for w in weights]
    table = RLTable([header, *body], colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), HEAD),
                ("LINEBELOW", (0, 0), (-1, 0), 0.7, colors.HexColor("#bcccdc")),
                ("LINEBELOW", (0, 1), (-1, -1), 0.3, LINE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return table
