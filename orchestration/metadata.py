"""Materialization metadata the UI renders that is not a table (tables: ``analysis.tables.render_table``)."""

from __future__ import annotations

import base64


def svg_markdown(name: str, svg: str) -> str:
    """An SVG as a markdown image (data URI), which the Dagster UI renders inline."""
    return f"![{name}](data:image/svg+xml;base64,{base64.b64encode(svg.encode()).decode()})"
