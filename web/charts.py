"""Charts drawn on the server as inline SVG: a line over time, bars, an interval and a calendar heat map.

Every chart scales to its card (``viewBox``; app.css gives the dark colours), is one ``role="img"`` with an
``aria-label`` that says what it shows, and carries its scale as data attributes (``data-x0`` … ``data-v1``) so a
test can read its points back into money and time and hold them to the API's numbers. A chart with nothing to draw
says why in words instead of drawing an empty box.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from reactpy import html, svg
from reactpy.core.types import VdomChild, VdomDict
from reactpy.core.vdom import make_vdom_constructor

from shared.stats import CalendarDay
from web.widgets import money

# reactpy.svg.text and svg.title are declared childless (a reactpy 1.1 slip); both need their words.
svg_text = make_vdom_constructor("text")
svg_title = make_vdom_constructor("title")
WIDTH = 360  # the viewBox width: a phone's width in CSS pixels, so 12px text is 12px on a phone


@dataclass(frozen=True)
class LinePoint:
    """One point of a line over time; ``kind`` other than ``plain`` is marked (deposit, withdrawal, expense)."""

    at: datetime
    value: int
    kind: str = "plain"


@dataclass(frozen=True)
class Bar:
    """One bar: its label, its value in minor units, where a tap leads, and a few words under the label."""

    label: str
    value: int
    href: str = ""
    note: str = ""


@dataclass(frozen=True)
class Scale:
    """A linear map from values to pixels: ``v0`` lands on ``p0`` and ``v1`` on ``p1``."""

    v0: float
    v1: float
    p0: float
    p1: float

    def __call__(self, value: float) -> float:
        span = self.v1 - self.v0
        return self.p0 + ((value - self.v0) / span if span else 0.5) * (self.p1 - self.p0)


def empty(reason: str, testid: str) -> VdomDict:
    """What stands where a chart would: the reason there is none (never a blank box)."""
    return html.p({"class_name": "muted small chart-empty", "data_testid": f"{testid}-empty"}, reason)


def nice_step(span: float, count: int) -> float:
    """A round step (1, 2 or 5 × 10ⁿ) that cuts ``span`` into about ``count`` parts."""
    raw = max(span, 1) / max(count, 1)
    power = 10.0 ** math.floor(math.log10(raw))
    return next(m * power for m in (1.0, 2.0, 5.0, 10.0) if m * power >= raw)


def value_ticks(low: float, high: float, count: int = 4) -> list[int]:
    """Round values from at or below ``low`` to at or above ``high``."""
    step = nice_step(high - low, count)
    first, last = math.floor(low / step), math.ceil(high / step)
    return [round(i * step) for i in range(first, max(last, first + 1) + 1)]


def time_ticks(first: datetime, last: datetime, count: int = 4) -> list[tuple[datetime, str]]:
    """Dates spread over [first, last], labelled by month and year over long spans, by day over short ones."""
    span = (last - first).total_seconds()
    fmt = "%b %Y" if span > 120 * 86400 else "%d %b"
    if span <= 0:
        return [(first, first.strftime("%d %b %Y"))]
    moments = [first + timedelta(seconds=span * i / count) for i in range(count + 1)]
    return [(at, at.strftime(fmt)) for at in moments]


def thin(points: Sequence[LinePoint], columns: int) -> list[LinePoint]:
    """At most two points per pixel column (its lowest and highest), in time order; marked points always stay."""
    if len(points) <= 2 * columns:
        return list(points)
    t0, t1 = points[0].at.timestamp(), points[-1].at.timestamp()
    span = max(t1 - t0, 1.0)
    buckets: dict[int, list[LinePoint]] = {}
    for p in points:
        buckets.setdefault(min(columns - 1, int((p.at.timestamp() - t0) / span * columns)), []).append(p)
    kept: list[LinePoint] = []
    for column in sorted(buckets):
        group = buckets[column]
        keep = {id(min(group, key=lambda p: p.value)), id(max(group, key=lambda p: p.value)), id(group[-1])}
        kept += [p for p in group if id(p) in keep or p.kind != "plain"]
    if kept[0] is not points[0]:
        kept.insert(0, points[0])
    return kept


def _frame(label: str, testid: str, height: int, scale_x: Scale, scale_v: Scale, *body: VdomChild) -> VdomDict:
    return svg.svg(
        {
            "class_name": "chart",
            "viewBox": f"0 0 {WIDTH} {height}",
            "role": "img",
            "aria_label": label,
            "data_testid": testid,
            "data_x0": f"{scale_x.p0:.2f}",
            "data_x1": f"{scale_x.p1:.2f}",
            "data_t0": f"{scale_x.v0:.3f}",
            "data_t1": f"{scale_x.v1:.3f}",
            "data_y0": f"{scale_v.p0:.2f}",
            "data_y1": f"{scale_v.p1:.2f}",
            "data_v0": f"{scale_v.v0:.0f}",
            "data_v1": f"{scale_v.v1:.0f}",
        },
        svg_title(label),
        *body,
    )


def line_chart(points: Sequence[LinePoint], currency: str, label: str, testid: str = "line-chart") -> VdomDict:
    """A value over time (the bankroll): dated time axis, money value axis, marked points as symbols.

    The polyline's vertices are the points (thinned to two a pixel column past 720); each marked point is a
    symbol with ``data-at`` and ``data-value``.
    """
    if len(points) < 2:
        return empty("The curve starts with the second session or money movement.", testid)
    height, left, right, top, bottom = 220, 58, WIDTH - 8, 10, 220 - 24
    values = [p.value for p in points]
    ticks = value_ticks(min(min(values), 0), max(max(values), 0))
    scale_v = Scale(ticks[0], ticks[-1], bottom, top)
    first, last = points[0].at, points[-1].at
    scale_x = Scale(first.timestamp(), max(last.timestamp(), first.timestamp() + 1), left, right)
    drawn = thin(points, right - left)
    vertices = " ".join(f"{scale_x(p.at.timestamp()):.1f},{scale_v(p.value):.1f}" for p in drawn)
    body: list[VdomChild] = []
    for tick in ticks:
        ty = f"{scale_v(tick):.1f}"
        css = "grid zero" if tick == 0 else "grid"
        body.append(
            svg.line({"class_name": css, "x1": str(left), "x2": str(right), "y1": ty, "y2": ty, "key": f"g{tick}"})
        )
        body.append(
            svg_text(
                {"x": str(left - 4), "y": ty, "class_name": "axis v", "key": f"t{tick}"},
                money(tick, currency, whole=True),
            )
        )
    ticks_t = time_ticks(first, last, 3)
    for i, (at, text) in enumerate(ticks_t):
        # The first and last dates keep inside the chart: anchored at their start and end.
        side = " start" if i == 0 else " end" if i == len(ticks_t) - 1 else ""
        tx = f"{scale_x(at.timestamp()):.1f}"
        body.append(svg_text({"x": tx, "y": str(height - 6), "class_name": f"axis t{side}", "key": f"d{i}"}, text))
    body.append(svg.polyline({"class_name": "line", "points": vertices, "data_points": str(len(drawn))}))
    for p in points:
        if p.kind == "plain":
            continue
        x, y = scale_x(p.at.timestamp()), scale_v(p.value)
        body.append(
            svg.g(
                {
                    "class_name": f"mark {p.kind}",
                    "data_kind": p.kind,
                    "data_at": p.at.isoformat(),
                    "data_value": str(p.value),
                    "key": f"m{p.at.isoformat()}{p.kind}{p.value}",
                },
                svg.circle({"cx": f"{x:.1f}", "cy": f"{y:.1f}", "r": "4"}),
                svg_title(f"{p.kind} {p.at:%d %b %Y}: balance {money(p.value, currency)}"),
            )
        )
    return _frame(label, testid, height, scale_x, scale_v, *body)


def bar_chart(bars: Sequence[Bar], currency: str, label: str, testid: str = "bar-chart") -> VdomDict:
    """Horizontal bars from a zero line, one row each (long stake names fit a phone); a bar with ``href`` is a link.

    Each bar is a ``rect`` inside a group with ``data-label`` and ``data-value``.
    """
    if not bars:
        return empty("No sessions in this selection.", testid)
    row, top, left, right = 42, 4, 150, WIDTH - 96
    height = top + row * len(bars) + 4
    values = [b.value for b in bars]
    scale_v = Scale(min(min(values), 0), max(max(values), 0) or 1, left, right)
    zero = scale_v(0)
    zero_line = {"class_name": "grid zero", "x1": f"{zero:.1f}", "x2": f"{zero:.1f}", "y1": "0", "y2": str(height)}
    body: list[VdomChild] = [svg.line(zero_line)]
    for i, bar in enumerate(bars):
        y = top + i * row
        x0, x1 = sorted((zero, scale_v(bar.value)))
        parts: list[VdomChild] = [
            # The whole row takes the tap, not only the painted bar and words.
            svg.rect({"class_name": "hit", "x": "0", "y": str(y), "width": str(WIDTH), "height": str(row)}),
            svg.rect(
                {
                    "class_name": "bar up" if bar.value >= 0 else "bar down",
                    "x": f"{x0:.1f}",
                    "y": str(y + 9),
                    "width": f"{max(x1 - x0, 1):.1f}",
                    "height": str(row - 18),
                }
            ),
            svg_text({"x": "0", "y": str(y + 17), "class_name": "axis name"}, bar.label[:18]),
            svg_text({"x": "0", "y": str(y + 34), "class_name": "axis note"}, bar.note) if bar.note else "",
            svg_text(
                {"x": str(WIDTH - 2), "y": str(y + 22), "class_name": "axis v " + ("up" if bar.value >= 0 else "down")},
                money(bar.value, currency, signed=True, whole=True),
            ),
        ]
        attributes = {"class_name": "bar-row", "data_label": bar.label, "data_value": str(bar.value), "key": bar.label}
        group = svg.g(attributes, *parts)
        link = {"href": bar.href, "key": bar.label}  # its name is its words: label, sessions, rate, profit
        body.append(svg.a(link, group) if bar.href else group)
    return svg.svg(
        {
            "class_name": "chart bars",
            "viewBox": f"0 0 {WIDTH} {height}",
            "role": "group" if any(b.href for b in bars) else "img",
            "aria_label": label,
            "data_testid": testid,
            "data_x0": f"{scale_v.p0:.2f}",
            "data_x1": f"{scale_v.p1:.2f}",
            "data_v0": f"{scale_v.v0:.0f}",
            "data_v1": f"{scale_v.v1:.0f}",
        },
        svg_title(label),
        *body,
    )


def interval_chart(low: int, high: int, point: int, currency: str, label: str, testid: str = "interval") -> VdomDict:
    """A confidence interval as a band on a money axis with zero marked and the measured value as a dot."""
    height, left, right = 64, 24, WIDTH - 24
    ticks = value_ticks(min(low, 0), max(high, 0), 4)
    scale = Scale(ticks[0], ticks[-1], left, right)
    mid = 22
    body: list[VdomChild] = []
    for tick in ticks:
        x = f"{scale(tick):.1f}"
        css = "grid zero" if tick == 0 else "grid"
        body.append(svg.line({"class_name": css, "x1": x, "x2": x, "y1": "6", "y2": "38", "key": f"g{tick}"}))
        body.append(
            svg_text(
                {"x": x, "y": str(height - 8), "class_name": "axis t", "key": f"t{tick}"},
                money(tick, currency, whole=True),
            )
        )
    body += [
        svg.rect(
            {
                "class_name": "band",
                "x": f"{scale(low):.1f}",
                "y": str(mid - 8),
                "width": f"{max(scale(high) - scale(low), 1):.1f}",
                "height": "16",
                "rx": "8",
                "data_low": str(low),
                "data_high": str(high),
            }
        ),
        svg.circle(
            {"class_name": "dot", "cx": f"{scale(point):.1f}", "cy": str(mid), "r": "6", "data_value": str(point)}
        ),
    ]
    return _frame(label, testid, height, scale, Scale(0, 1, 0, 1), *body)


HEAT_WEEKS = 53  # a year of weeks: one column a week, so a phone still shows every day of it


def heat_map(days: Sequence[CalendarDay], currency: str, label: str, testid: str = "heat-map") -> VdomDict:
    """Results per playing day as a calendar: a column per week (Monday on top), green for won, red for lost.

    Shows the last year of ``days`` (older days are in the breakdown by month); each day is a ``rect`` with
    ``data-day`` and ``data-profit``, and a title for a pointer.
    """
    if not days:
        return empty("No playing days in this selection.", testid)
    last = days[-1].day
    end_week = last - timedelta(days=last.weekday())
    start = end_week - timedelta(weeks=HEAT_WEEKS - 1)
    shown = [d for d in days if d.day >= start]
    cell, top, left = 6.2, 14, 22
    height = int(top + 7 * cell + 4)
    biggest = max(abs(d.profit) for d in shown) or 1
    body: list[VdomChild] = [
        svg_text({"x": "0", "y": f"{top + cell * (i + 0.9):.1f}", "class_name": "axis small", "key": name}, name)
        for i, name in ((0, "Mo"), (2, "We"), (4, "Fr"))
    ]
    month, labelled = None, -9
    for week in range(HEAT_WEEKS):
        monday = start + timedelta(weeks=week)
        if monday.month != month and week - labelled >= 3:  # a month's name needs three columns
            month, labelled = monday.month, week
            body.append(
                svg_text(
                    {"x": f"{left + week * cell:.1f}", "y": "10", "class_name": "axis small", "key": f"mo{week}"},
                    monday.strftime("%b") if week < HEAT_WEEKS - 2 else "",
                )
            )
    for d in shown:
        week, weekday = (d.day - start).days // 7, d.day.weekday()
        level = min(4, 1 + int(3 * abs(d.profit) / biggest)) if d.profit else 0
        # Size comes from app.css and there is no title per day: a year of days stays small on the wire.
        tint = "up" if d.profit > 0 else "down" if d.profit < 0 else "even"
        body.append(
            svg.rect(
                {
                    "class_name": f"day {tint} l{level}",
                    "x": f"{left + week * cell:.1f}",
                    "y": f"{top + weekday * cell:.1f}",
                    "data_day": d.day.isoformat(),
                    "data_profit": str(d.profit),
                }
            )
        )
    days_span = Scale(_ordinal(start), _ordinal(start + timedelta(weeks=HEAT_WEEKS)), left, left + HEAT_WEEKS * cell)
    return _frame(label, testid, height, days_span, Scale(0, 7, top, top + 7 * cell), *body)


def _ordinal(day: date) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()
