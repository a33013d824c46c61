"""Small inline SVG charts for the run page: a bar per agent or per turn, values scaled to the row's range.

Returned as markup strings that the templates mark safe; every label inside goes through ``html.escape``.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape


def bars(values: Sequence[float | None], labels: Sequence[str], *, width: int = 220, height: int = 36,
         color: str = "#4a6fa5", negative_color: str = "#b42318", title: str = "") -> str:
    """One bar per value around a zero line (negative values below it, in ``negative_color``); a missing
    value leaves a gap. Each bar's tooltip is its label and value."""
    present = [v for v in values if v is not None]
    if not present:
        return ""
    top, bottom = max(0.0, *present), min(0.0, *present)
    span = (top - bottom) or 1.0
    zero = height * top / span
    step = width / max(len(values), 1)
    parts = [f'<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{escape(title)}"><line x1="0" x2="{width}" y1="{zero:.1f}" y2="{zero:.1f}" '
             'stroke="#bbb" stroke-width="0.5"/>']
    for i, (value, label) in enumerate(zip(values, labels, strict=True)):
        if value is None:
            continue
        size = abs(value) * height / span
        y = zero - size if value >= 0 else zero
        fill = color if value >= 0 else negative_color
        parts.append(f'<rect x="{i * step + 1:.1f}" y="{y:.1f}" width="{max(step - 2, 1):.1f}" '
                     f'height="{max(size, 0.5):.1f}" fill="{fill}"><title>{escape(label)}: {value:.3g}</title>'
                     '</rect>')
    parts.append("</svg>")
    return "".join(parts)


def paired_bars(first: Sequence[float], second: Sequence[float], labels: Sequence[str], *, width: int = 300,
                height: int = 40, colors: tuple[str, str] = ("#4a6fa5", "#c2410c"),
                names: tuple[str, str] = ("talk", "monologue")) -> str:
    """Two bars per position (e.g. talk and monologue hits per turn), side by side, from a shared zero."""
    top = max([*first, *second, 0.0]) or 1.0
    step = width / max(len(labels), 1)
    half = max(step / 2 - 1, 1)
    parts = [f'<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{escape(names[0])} and {escape(names[1])}">']
    for i, label in enumerate(labels):
        for j, value in enumerate((first[i], second[i])):
            size = value * (height - 1) / top
            parts.append(f'<rect x="{i * step + j * half + 0.5:.1f}" y="{height - size:.1f}" width="{half:.1f}" '
                         f'height="{max(size, 0.5):.1f}" fill="{colors[j]}"><title>{escape(label)} '
                         f'{escape(names[j])}: {value:g}</title></rect>')
    parts.append("</svg>")
    return "".join(parts)
