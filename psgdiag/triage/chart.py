"""An inline SVG chart of tickets by cause over time, with incident windows drawn behind the bars.

Tickets are stacked per time bucket (hour, day, week or month, whichever keeps the chart
readable). Only a time the ticket's text gives is plotted: a ticket without one (dated at most by
its file or mail date, or by the era of its clients) is counted in a separate bar beside the axis.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Sequence
from html import escape

from psgdiag.model import Incident
from psgdiag.triage.batch import TriageItem

WIDTH, HEIGHT = 960, 360
LEFT, RIGHT, TOP, BOTTOM = 48, 96, 44, 48
PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#59a14f",
    "#e15759",
    "#76b7b2",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#1f77b4",
    "#8c564b",
    "#17becf",
)
GREY = "#9aa0a6"


def colors(labels: Sequence[str]) -> dict[str, str]:
    """Give each cause label a colour (unexplained and unreadable ones grey)."""
    out: dict[str, str] = {}
    n = 0
    for label in labels:
        if label.startswith("("):
            out[label] = {"(unrecognised)": GREY, "(unreadable)": "#e6a1a1"}.get(label, "#cfd3d7")
        else:
            # Past the fixed palette, golden-angle hues keep neighbouring causes apart.
            hue = (n * 137.508) % 360
            out[label] = PALETTE[n] if n < len(PALETTE) else f"hsl({hue:.0f},55%,48%)"
            n += 1
    return out


def _floor(when: dt.datetime, unit: str) -> dt.datetime:
    when = when.astimezone(dt.UTC)
    if unit == "hour":
        return when.replace(minute=0, second=0, microsecond=0)
    day = when.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "day":
        return day
    if unit == "week":
        return day - dt.timedelta(days=day.weekday())
    return day.replace(day=1)


def _next(when: dt.datetime, unit: str) -> dt.datetime:
    if unit == "hour":
        return when + dt.timedelta(hours=1)
    if unit == "day":
        return when + dt.timedelta(days=1)
    if unit == "week":
        return when + dt.timedelta(days=7)
    return (when.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def pick_unit(lo: dt.datetime, hi: dt.datetime) -> str:
    """Choose the bucket size for a time span."""
    span = hi - lo
    if span <= dt.timedelta(days=2):
        return "hour"
    if span <= dt.timedelta(days=120):
        return "day"
    if span <= dt.timedelta(days=3 * 365):
        return "week"
    return "month"


def _label(when: dt.datetime, unit: str) -> str:
    return when.strftime("%Y-%m-%d %H:00" if unit == "hour" else "%Y-%m-%d")


def svg(
    items: Sequence[TriageItem],
    labels: Sequence[str],
    incidents: Sequence[Incident],
    label_of: dict[int, str],
    named: Sequence[str] = (),
) -> str:
    """Return the chart as an <svg> element (labels: cause labels in legend order).

    Every incident window overlapping the chart is drawn; only those in `named` (the incidents
    tickets were attributed to) are labelled, staggered so the labels do not overlap.
    """
    palette = colors(labels)
    # Only a time the ticket's text gives is plotted; a file or mail date merely bounds it.
    dated = [(it.time, label_of[i]) for i, it in enumerate(items) if it.time is not None]
    undated = Counter(label_of[i] for i, it in enumerate(items) if it.time is None)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg id="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="Tickets by cause over time">',
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" class="plot"/>',
    ]
    buckets: dict[dt.datetime, Counter[str]] = {}
    unit = "day"
    start = end = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    if dated:
        lo = min(t for t, _ in dated if t is not None)
        hi = max(t for t, _ in dated if t is not None)
        unit = pick_unit(lo, hi)
        start = _floor(lo, unit)
        end = _next(_floor(hi, unit), unit)
        for when, key in dated:
            assert when is not None
            buckets.setdefault(_floor(when, unit), Counter())[key] += 1
    # The axis is scaled to the dated bars; a taller bar of tickets without a time is drawn
    # to its own scale beside it (marked so), never squashing the dated bars.
    undated_total = sum(undated.values())
    peak = max([sum(c.values()) for c in buckets.values()] + [1])
    if not buckets:
        peak = max(undated_total, 1)
    span = (end - start).total_seconds() or 1.0

    def x_of(when: dt.datetime) -> float:
        return LEFT + (when - start).total_seconds() / span * plot_w

    def y_of(count: float) -> float:
        return TOP + plot_h - count / peak * plot_h

    # Bars first, incident windows over them (translucent), so a short window stays visible.
    for b_start, counts in sorted(buckets.items()):
        x0, x1 = x_of(b_start), x_of(_next(b_start, unit))
        bar_w = max((x1 - x0) * 0.8, 1.5)
        base = 0
        for label in labels:
            n = counts.get(label, 0)
            if not n:
                continue
            y_top, y_base = y_of(base + n), y_of(base)
            tip = f"{_label(b_start, unit)}: {n} x {label}"
            parts.append(
                f'<rect class="bar" data-cause="{escape(label)}" data-count="{n}" '
                f'x="{x0 + (x1 - x0) * 0.1:.1f}" y="{y_top:.1f}" width="{bar_w:.1f}" '
                f'height="{y_base - y_top:.1f}" fill="{palette[label]}">'
                f"<title>{escape(tip)}</title></rect>"
            )
            base += n
    rows: list[float] = []  # where the last label of each label row ends
    if dated:
        for inc in incidents:
            a, b = max(inc.start, start), min(inc.window_end, end)
            if a > b:
                continue
            x0, x1 = x_of(a), x_of(b)
            width = max(x1 - x0, 2.0)
            tip = f"{inc.id}: {inc.title}"
            parts.append(
                f'<rect class="incident" data-incident="{escape(inc.id)}" x="{x0:.1f}" '
                f'y="{TOP}" width="{width:.1f}" height="{plot_h}">'
                f"<title>{escape(tip)}</title></rect>"
            )
            if inc.id in named:
                row = _free_row(rows, x0, len(inc.id) * 5.6)
                parts.append(
                    f'<text class="incident-label" x="{x0 + 2:.1f}" y="{TOP - 4 - 10 * row}">'
                    f"{escape(inc.id)}</text>"
                )
    parts.extend(_axes(start, end, unit, peak, dated != [], x_of, y_of))
    parts.extend(_undated(undated, labels, palette, y_of, peak))
    parts.append("</svg>")
    return "\n".join(parts)


def _nice_step(peak: int) -> int:
    """Return a tick step of 1, 2 or 5 times a power of ten giving at most six ticks."""
    magnitude = 1
    while True:
        for mult in (1, 2, 5):
            if peak // (mult * magnitude) <= 5:
                return mult * magnitude
        magnitude *= 10


def _free_row(rows: list[float], x: float, width: float) -> int:
    """Return the first label row (at most three) whose last label ends before x; claim it."""
    for i, end in enumerate(rows):
        if x > end + 4:
            rows[i] = x + width
            return i
    if len(rows) < 3:
        rows.append(x + width)
        return len(rows) - 1
    i = rows.index(min(rows))
    rows[i] = x + width
    return i


def _axes(
    start: dt.datetime,
    end: dt.datetime,
    unit: str,
    peak: int,
    has_dates: bool,
    x_of: Callable[[dt.datetime], float],
    y_of: Callable[[float], float],
) -> list[str]:
    """Yield the axis lines, the count ticks and up to seven date ticks."""
    plot_h = HEIGHT - TOP - BOTTOM
    out = [
        f'<line class="axis" x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" '
        f'y2="{TOP + plot_h}"/>',
        f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}"/>',
    ]
    step = _nice_step(peak)
    for n in range(0, peak + 1, step):
        out.append(
            f'<text class="tick" x="{LEFT - 6}" y="{y_of(n) + 4:.1f}" text-anchor="end">{n}</text>'
        )
    if not has_dates:
        out.append(
            f'<text class="tick" x="{LEFT + 8}" y="{TOP + plot_h / 2:.1f}">'
            "no ticket has a time</text>"
        )
        return out
    starts = [start]
    while _next(starts[-1], unit) < end:
        starts.append(_next(starts[-1], unit))
    step = -(-len(starts) // 7)
    for b_start in starts[::step]:
        middle = x_of(b_start) + (x_of(_next(b_start, unit)) - x_of(b_start)) / 2
        out.append(
            f'<text class="tick date" x="{middle:.1f}" y="{TOP + plot_h + 18}" '
            f'text-anchor="middle">{_label(b_start, unit)}</text>'
        )
    out.append(f'<text class="tick" x="{LEFT}" y="{HEIGHT - 8}">tickets per {unit} (UTC)</text>')
    return out


def _undated(
    undated: Counter[str],
    labels: Sequence[str],
    palette: dict[str, str],
    y_of: Callable[[float], float],
    peak: int,
) -> list[str]:
    """Draw the tickets without a time as one stacked bar beside the axis.

    A bar taller than the axis (many tickets without a written time, few with one) is drawn to
    its own scale, filling the plot's height, and says so.
    """
    total = sum(undated.values())
    x = WIDTH - RIGHT + 44
    own_scale = total > peak
    bar_y = y_of
    if own_scale:
        plot_h = HEIGHT - TOP - BOTTOM

        def bar_y(count: float) -> float:
            return TOP + plot_h - count / total * plot_h

    scale = ' data-scale="own"' if own_scale else ""
    out = [f'<g class="undated" data-count="{total}"{scale}>']
    base = 0
    for label in labels:
        n = undated.get(label, 0)
        if not n:
            continue
        y_top, y_base = bar_y(base + n), bar_y(base)
        out.append(
            f'<rect class="bar undated-bar" data-cause="{escape(label)}" data-count="{n}" x="{x}" '
            f'y="{y_top:.1f}" width="28" height="{y_base - y_top:.1f}" fill="{palette[label]}">'
            f"<title>{n} x {escape(label)} without a written time</title></rect>"
        )
        base += n
    below = ["no written", f"time: {total}"] + (["(own scale)"] if own_scale else [])
    out.append(
        f'<text class="tick" x="{x + 14}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle">'
        + "".join(
            f'<tspan x="{x + 14}" dy="{0 if i == 0 else 12}">{line}</tspan>'
            for i, line in enumerate(below)
        )
        + "</text></g>"
    )
    return out
