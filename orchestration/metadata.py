"""Materialization metadata the UI renders that is not a table (tables: ``analysis.tables.render_table``)."""

from __future__ import annotations

import base64
from typing import Any


def svg_markdown(name: str, svg: str) -> str:
    """An SVG as a markdown image (data URI), which the Dagster UI renders inline."""
    return f"![{name}](data:image/svg+xml;base64,{base64.b64encode(svg.encode()).decode()})"


def viewer_links(study: str, languages: list[str]) -> dict[str, Any]:
    """``view_<language>``: a link to the study's runs in that language in ``backfire view``, one per language,
    when ``BACKFIRE_VIEW_URL`` says where a viewer runs (read at materialization time); nothing otherwise."""
    import dagster as dg

    from analysis.view_links import configured_view_url, runs_url

    base = configured_view_url()
    if base is None:
        return {}
    return {f"view_{language}": dg.MetadataValue.url(runs_url(base, {"study": study, "language": language}))
            for language in languages}
