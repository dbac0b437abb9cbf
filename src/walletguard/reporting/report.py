"""Write the risk report of an evaluation: `report.html` (self-contained), `report.pdf`
and the charts as PNG files beside them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from walletguard.evaluate.service import Evaluation
from walletguard.reporting.charts import all_charts
from walletguard.reporting.content import build_content
from walletguard.reporting.html import render_html
from walletguard.reporting.pdf import render_pdf


def write_report(
    evaluation: Evaluation,
    doc: dict[str, Any],
    directory: Path,
    *,
    title: str = "walletguard risk report",
    context: dict[str, Any] | None = None,
) -> list[Path]:
    """Write the report into `directory` (created if needed); returns the files written
    (HTML first, then PDF)."""
    directory.mkdir(parents=True, exist_ok=True)
    charts = all_charts(evaluation, doc)
    chart_dir = directory / "charts"
    chart_dir.mkdir(exist_ok=True)
    for name, data in charts.items():
        (chart_dir / name).write_bytes(data)
    heading, blocks = build_content(evaluation, doc, title=title, context=context)
    html = directory / "report.html"
    html.write_text(render_html(heading, blocks, charts), encoding="utf-8")
    pdf = directory / "report.pdf"
    pdf.write_bytes(render_pdf(heading, blocks, charts))
    return [html, pdf]
