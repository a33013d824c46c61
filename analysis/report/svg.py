"""Small SVG charts for the report: a forest plot and small-multiple line charts.

Hand-written SVG keeps the report self-contained (no plotting library, no external files), renders text in
every script the browser has fonts for, and is fast enough to draw inside a Dagster step.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")
DIRECTION_COLOURS = {"amplified": "#d62728", "reduced": "#1f77b4", "none": "#7f7f7f"}


@dataclass(frozen=True)
class Interval:
    """One row of a forest plot."""

    label: str
    estimate: float | None
    low: float | None
    high: float | None
    direction: str | None = None
    note: str = ""
    href: str = ""
    """Where the row links (the runs of its cell in ``backfire view``); empty: no link."""


def _finite(value: float | None) -> float | None:
    """None for a missing, NaN or infinite value: charts draw only finite numbers."""
    return value if value is not None and math.isfinite(value) else None


def _range(values: list[float], pad_share: float) -> tuple[float, float]:
    """Axis limits around ``values`` with a margin; a (nearly) constant series gets a margin of 1."""
    low, high = min(values), max(values)
    pad = (high - low) * pad_share
    if pad <= 1e-9 * max(1.0, abs(low), abs(high)):
        pad = 1.0
    return low - pad, high + pad


def _ticks(low: float, high: float, count: int = 6) -> list[float]:
    span = high - low or 1.0
    step = 10 ** math.floor(math.log10(span / count))
    for factor in (1, 2, 2.5, 5, 10):
        if span / (step * factor) <= count:
            step *= factor
            break
    first = math.ceil(low / step) * step
    return [round(first + i * step, 10) + 0.0 for i in range(int((high - first) / step) + 1)]  # + 0.0: no "-0"


def forest_plot(rows: Sequence[Interval], *, title: str, x_label: str = "Hedges' g (95% CI)",
                width: int = 720) -> str:
    """Point estimates with CI bars, one row each, a zero line, coloured by direction."""
    rows = [Interval(r.label, _finite(r.estimate), _finite(r.low), _finite(r.high), r.direction, r.note, r.href)
            for r in rows]
    shown = [r for r in rows if r.estimate is not None]
    row_height, top = 22, 44
    left = max(190, 20 + 7 * max((len(r.label) for r in rows), default=0))  # room for the longest label
    right = 150 + 7 * max((len(r.note) for r in rows), default=0)  # room for "g [low, high] note"
    width += right - 150 + left - 190
    height = top + row_height * max(1, len(rows)) + 44
    low, high = _range([v for r in shown for v in (r.low, r.high, r.estimate) if v is not None] + [0.0], 0.08)
    plot_width = width - left - right

    def x(value: float) -> float:
        return left + (value - low) / (high - low) * plot_width

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12" role="img">',
             f'<title>{escape(title)}</title>',
             f'<text x="{width / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">'
             f'{escape(title)}</text>']
    for tick in _ticks(low, high):
        parts.append(f'<line x1="{x(tick):.1f}" y1="{top - 6}" x2="{x(tick):.1f}" y2="{height - 38}" '
                     'stroke="#eee"/>')
        parts.append(f'<text x="{x(tick):.1f}" y="{height - 24}" text-anchor="middle">{tick:g}</text>')
    parts.append(f'<line x1="{x(0):.1f}" y1="{top - 6}" x2="{x(0):.1f}" y2="{height - 38}" stroke="#333" '
                 'stroke-dasharray="4 3"/>')
    parts.append(f'<text x="{left + plot_width / 2}" y="{height - 6}" text-anchor="middle">{escape(x_label)}</text>')
    for i, row in enumerate(rows):
        y = top + row_height * i + row_height / 2
        label = f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{escape(row.label)}</text>'
        if row.href:  # the label opens the cell's runs in backfire view
            linked = label.replace("<text ", '<text fill="#1a4fa0" text-decoration="underline" ')
            label = (f'<a href="{escape(row.href)}" target="_blank"><title>read the runs of {escape(row.label)}'
                     f"</title>{linked}</a>")
        parts.append(label)
        colour = DIRECTION_COLOURS.get(row.direction, "#7f7f7f")
        if row.estimate is None:
            parts.append(f'<text x="{left + 4}" y="{y + 4:.1f}" fill="#999">not estimable</text>')
            continue
        if row.low is not None and row.high is not None:
            parts.append(f'<line x1="{x(row.low):.1f}" y1="{y:.1f}" x2="{x(row.high):.1f}" y2="{y:.1f}" '
                         f'stroke="{colour}" stroke-width="2"/>')
        parts.append(f'<rect x="{x(row.estimate) - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" fill="{colour}"/>')
        ci = f" [{row.low:.2f}, {row.high:.2f}]" if row.low is not None and row.high is not None else ""
        parts.append(f'<text x="{width - right + 8}" y="{y + 4:.1f}">{row.estimate:.2f}{ci} {escape(row.note)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def small_multiples(panels: dict[str, dict[str, list[tuple[float, float]]]], *, title: str, x_label: str,
                    y_label: str, columns: int = 4, panel_width: int = 200, panel_height: int = 150) -> str:
    """One panel per key (e.g. language), each with one line per series (e.g. model); shared y axis."""
    panels = {name: {series: [(x, y) for x, y in line if _finite(x) is not None and _finite(y) is not None]
                     for series, line in panel.items()} for name, panel in panels.items()}
    names = sorted(panels)
    series_names = sorted({s for panel in panels.values() for s in panel})
    colours = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(series_names)}
    points = [p for panel in panels.values() for line in panel.values() for p in line]
    if not points:
        return ""
    x_low, x_high = min(p[0] for p in points), max(p[0] for p in points)
    y_low, y_high = _range([p[1] for p in points], 0.1)
    x_span = (x_high - x_low) or 1.0
    rows = math.ceil(len(names) / columns)
    legend_height = 20 * math.ceil(len(series_names) / 3)
    width, height = columns * panel_width, 30 + rows * (panel_height + 30) + legend_height + 20
    inner_left, inner_bottom = 40, 22
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11" role="img">',
             f'<title>{escape(title)}</title>',
             f'<text x="{width / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">'
             f'{escape(title)}</text>']
    for index, name in enumerate(names):
        origin_x = (index % columns) * panel_width
        origin_y = 30 + (index // columns) * (panel_height + 30)
        plot_w, plot_h = panel_width - inner_left - 10, panel_height - inner_bottom - 20

        def px(value: float, ox: float = origin_x, w: float = plot_w) -> float:
            return ox + inner_left + (value - x_low) / x_span * w

        def py(value: float, oy: float = origin_y, h: float = plot_h) -> float:
            return oy + 20 + (y_high - value) / (y_high - y_low) * h

        parts.append(f'<text x="{origin_x + inner_left + plot_w / 2}" y="{origin_y + 14}" text-anchor="middle" '
                     f'font-weight="bold">{escape(name)}</text>')
        parts.append(f'<rect x="{origin_x + inner_left}" y="{origin_y + 20}" width="{plot_w}" height="{plot_h}" '
                     'fill="none" stroke="#ccc"/>')
        for tick in _ticks(y_low, y_high, 4):
            parts.append(f'<text x="{origin_x + inner_left - 4}" y="{py(tick) + 4:.1f}" text-anchor="end" '
                         f'font-size="9">{tick:g}</text>')
        for tick in sorted({p[0] for line in panels[name].values() for p in line}):
            parts.append(f'<text x="{px(tick):.1f}" y="{origin_y + 20 + plot_h + 12}" text-anchor="middle" '
                         f'font-size="9">{tick:g}</text>')
        for series, line in sorted(panels[name].items()):
            ordered = sorted(line)
            path = " ".join(f"{px(a):.1f},{py(b):.1f}" for a, b in ordered)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{colours[series]}" stroke-width="2"/>')
            parts += [f'<circle cx="{px(a):.1f}" cy="{py(b):.1f}" r="3" fill="{colours[series]}"/>' for a, b in ordered]
    legend_y = 30 + rows * (panel_height + 30)
    for i, series in enumerate(series_names):
        lx, ly = 10 + (i % 3) * (width / 3), legend_y + 20 * (i // 3)
        parts.append(f'<rect x="{lx:.0f}" y="{ly:.0f}" width="12" height="12" fill="{colours[series]}"/>')
        parts.append(f'<text x="{lx + 18:.0f}" y="{ly + 10:.0f}">{escape(series)}</text>')
    parts.append(f'<text x="{width / 2}" y="{height - 4}" text-anchor="middle">{escape(x_label)}; y: '
                 f'{escape(y_label)}</text>')
    parts.append("</svg>")
    return "".join(parts)
