"""An insights summary as an inline SVG bar chart: one stacked bar per UTC day, one colour per event type.

Rendered on the server, so pages need no JavaScript and no third-party script or font: the markup uses
presentation attributes only (no `style`, which a strict Content-Security-Policy would block), names itself
with `<title>`/`<desc>` for screen readers (`role="img"`), and gives every bar segment a `<title>` tooltip.
"""

from __future__ import annotations

import math
import re
from xml.sax.saxutils import escape, quoteattr

from resource_api.insights.summary import InsightsSummary

__all__ = ["PALETTE", "render_svg"]

# Okabe & Ito's colour-blind-safe palette (black left out: it is the axes' colour), then two greys.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#7F7F7F", "#BBBBBB")
WIDTH = 720
PLOT_HEIGHT = 220
LEFT, RIGHT, TOP, AXIS = 56, 16, 36, 52
LEGEND_ROW = 20
LEGEND_COLUMNS = 3
FONT = 'font-family="sans-serif" font-size="11"'
BIG = 'font-family="sans-serif" font-size="13"'
_ID = re.compile(r"[^A-Za-z0-9_-]")


def _scale(value: int) -> tuple[int, int]:
    """(ceiling, step) of the vertical axis: a round step (1, 2 or 5 × 10^k) and at most five intervals up to a
    ceiling at or above `value`, so the gridlines fall on round numbers and the tallest bar fills most of the plot."""
    value = max(1, value)
    magnitude = 1
    while True:
        for step in (magnitude, 2 * magnitude, 5 * magnitude):
            if math.ceil(value / step) <= 5:
                return step * math.ceil(value / step), step
        magnitude *= 10


def _attr(value: object) -> str:
    return quoteattr(str(value))


def _num(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def render_svg(summary: InsightsSummary, *, element_id: str = "insights-chart") -> str:
    """The summary as a standalone `<svg>` element (also valid inline in HTML); `element_id` prefixes its ids."""
    prefix = _ID.sub("-", element_id) or "insights-chart"
    types = summary.types
    colour = {event_type: PALETTE[index % len(PALETTE)] for index, event_type in enumerate(types)}
    legend_rows = math.ceil(len(types) / LEGEND_COLUMNS) if types else 0
    height = TOP + PLOT_HEIGHT + AXIS + legend_rows * LEGEND_ROW + 8
    plot_width = WIDTH - LEFT - RIGHT
    slot = plot_width / len(summary.days)
    bar = max(1.0, slot * 0.7)
    ceiling, step = _scale(max((summary.day_total(day) for day in summary.days), default=0))
    bottom = TOP + PLOT_HEIGHT

    def y(value: float) -> float:
        return bottom - value / ceiling * PLOT_HEIGHT

    window = f"{summary.start.isoformat()} to {summary.end.isoformat()} (UTC)"
    title = f"Application events per day, {window}"
    if summary.total:
        parts = ", ".join(f"{event_type} {summary.type_total(event_type)}" for event_type in types)
        desc = f"{summary.total} events in {len(summary.days)} days: {parts}."
    else:
        desc = f"No events in these {len(summary.days)} days."
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}"'
        f' role="img" aria-labelledby="{prefix}-title {prefix}-desc" id={_attr(prefix)}>',
        f'<title id="{prefix}-title">{escape(title)}</title>',
        f'<desc id="{prefix}-desc">{escape(desc)}</desc>',
        f'<text x="{LEFT}" y="20" {BIG} font-weight="bold" fill="#222">{escape(title)}</text>',
    ]
    # Gridlines and the vertical axis' labels.
    for tick in range(0, ceiling + 1, step):
        ty = _num(y(tick))
        out.append(f'<line x1="{LEFT}" y1="{ty}" x2="{WIDTH - RIGHT}" y2="{ty}" stroke="#ddd" stroke-width="1"/>')
        out.append(
            f'<text x="{LEFT - 6}" y="{ty}" {FONT} text-anchor="end" dominant-baseline="middle" fill="#333">'
            f"{tick}</text>"
        )
    out.append(
        f'<text transform="translate(14 {_num(TOP + PLOT_HEIGHT / 2)}) rotate(-90)" {FONT} text-anchor="middle"'
        ' fill="#333">Events</text>'
    )
    # The bars: one group per day, one segment per type, stacked from the bottom in legend order.
    label_every = max(1, math.ceil(len(summary.days) / 10))
    for index, day in enumerate(summary.days):
        x = LEFT + index * slot + (slot - bar) / 2
        total = summary.day_total(day)
        out.append(f"<g><title>{escape(f'{day.isoformat()}: {total} event' + ('' if total == 1 else 's'))}</title>")
        stacked = 0
        for event_type in types:
            count = summary.count(day, event_type)
            if not count:
                continue
            top, base = y(stacked + count), y(stacked)
            stacked += count
            out.append(
                f'<rect x="{_num(x)}" y="{_num(top)}" width="{_num(bar)}" height="{_num(base - top)}"'
                f' fill="{colour[event_type]}"><title>{escape(f"{day.isoformat()} · {event_type}: {count}")}</title>'
                "</rect>"
            )
        if not total:  # an invisible target, so the empty day still has its tooltip
            out.append(f'<rect x="{_num(x)}" y="{TOP}" width="{_num(bar)}" height="{PLOT_HEIGHT}" fill="transparent"/>')
        out.append("</g>")
        if index % label_every == 0 or index == len(summary.days) - 1:
            cx = _num(x + bar / 2)
            out.append(
                f'<text x="{cx}" y="{bottom + 14}" {FONT} text-anchor="middle" fill="#333">{day.strftime("%m-%d")}'
                "</text>"
            )
    out.append(f'<line x1="{LEFT}" y1="{bottom}" x2="{WIDTH - RIGHT}" y2="{bottom}" stroke="#333" stroke-width="1"/>')
    out.append(f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bottom}" stroke="#333" stroke-width="1"/>')
    out.append(
        f'<text x="{_num(LEFT + plot_width / 2)}" y="{bottom + 32}" {FONT} text-anchor="middle" fill="#333">'
        "Day (UTC, month-day)</text>"
    )
    # The legend: a swatch and "type (total)" per type, in rows of three.
    column_width = plot_width / LEGEND_COLUMNS
    for index, event_type in enumerate(types):
        lx = LEFT + (index % LEGEND_COLUMNS) * column_width
        ly = bottom + AXIS + (index // LEGEND_COLUMNS) * LEGEND_ROW
        out.append(
            f'<g><rect x="{_num(lx)}" y="{ly - 10}" width="12" height="12" fill="{colour[event_type]}"/>'
            f'<text x="{_num(lx + 18)}" y="{ly}" {FONT} fill="#222">'
            f"{escape(f'{event_type} ({summary.type_total(event_type)})')}</text></g>"
        )
    if not summary.total:
        out.append(
            f'<text x="{_num(LEFT + plot_width / 2)}" y="{_num(TOP + PLOT_HEIGHT / 2)}" {BIG}'
            f' text-anchor="middle" fill="#555">No events in these {len(summary.days)} days</text>'
        )
    out.append("</svg>")
    return "\n".join(out)
