"""A statement as PDF (ReportLab): the same content as the CSV, on A4 pages, with the
audit stamp and the statement digest on the first page."""

from __future__ import annotations

import io

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from walletguard.ledger.statements import Statement, money


def statement_pdf(statement: Statement) -> bytes:
    """Render `statement` as a PDF document."""
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4),
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=f"Statement {statement.account} {statement.currency}",
        author="walletguard",
    )
    styles = getSampleStyleSheet()
    f = statement.filters
    stamp = statement.stamp
    story = [
        Paragraph(f"Statement — {statement.account} ({statement.currency})", styles["Title"]),
        Paragraph(
            f"Period: {f.start.isoformat() if f.start else 'beginning'} to "
            f"{f.end.isoformat() if f.end else statement.made_at.isoformat()}. "
            f"Type: {', '.join(sorted(f.kinds)) or 'any'}; channel: {f.channel or 'any'}; "
            f"counterparty: {f.counterparty or 'any'}.",
            styles["Normal"],
        ),
        Paragraph(
            f"Opening balance {money(statement.opening)}, closing balance "
            f"{money(statement.closing)}.",
            styles["Normal"],
        ),
        Paragraph(
            (
                f"Audit chain head when made: chain {stamp.chain}, record {stamp.seq}, "
                f"hash {stamp.hash}."
                if stamp
                else "Audit chain empty when made."
            )
            + f" Statement digest (SHA-256): {statement.digest}.",
            styles["Code"],
        ),
        Spacer(1, 4 * mm),
    ]
    rows = [["at (UTC)", "transaction", "type", "counterparty", "amount", "balance"]]
    for ln in statement.lines:
        rows.append(
            [
                ln.at.strftime("%Y-%m-%d %H:%M:%S"),
                ln.transaction_id[:40],
                ln.kind,
                ln.counterparty[:48],
                money(ln.amount),
                money(ln.balance),
            ]
        )
    table = Table(rows, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), "Helvetica", 8),
                ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 8),
                ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
                ("ALIGN", (4, 0), (5, -1), "RIGHT"),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
            ]
        )
    )
    story.append(table)
    doc.build(story)
    return buffer.getvalue()
