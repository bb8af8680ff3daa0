"""Small widgets the screens share: the page frame, figures, money, the stack chart and capture buttons."""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from reactpy import html, svg
from reactpy.core.types import VdomChild, VdomDict
from reactpy.core.vdom import make_vdom_constructor

from shared.money import format_money
from shared.reducer import StackPoint

# reactpy.svg.text is declared childless (a reactpy 1.1 slip); an SVG <text> needs its words.
svg_text = make_vdom_constructor("text")
# The one list of screens: the tabs a thumb reaches on a phone, and the rest under "More".
NAV = (("/app/", "Home"), ("/app/stats", "Stats"), ("/app/bankroll", "Bankroll"), ("/app/history", "History"))
MORE = (("/app/breakdowns", "Breakdowns"), ("/capture", "Capture"))


def money(amount: int | None, currency: str, *, signed: bool = False, whole: bool = False) -> str:
    """Money for people, short enough for a phone tile: ``$1,234.50``; ``signed`` puts + on gains."""
    return "–" if amount is None else format_money(amount, currency or "USD", signed=signed, whole=whole)


def stakes(small_blind: int, big_blind: int, currency: str) -> str:
    return f"{money(small_blind, currency, whole=True)}/{money(big_blind, currency, whole=True)}"


def plural(count: int, noun: str) -> str:
    """``1 session``, ``2 sessions``: a count in words a player reads."""
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"


def duration(seconds: int) -> str:
    hours, rest = divmod(max(0, seconds), 3600)
    return f"{hours}h {rest // 60:02d}m"


def local_time(at: datetime | None, fmt: str = "%a %d %b, %H:%M") -> str:
    """The time as the device that recorded it saw it (its own offset is kept in the event)."""
    return at.strftime(fmt) if at is not None else "–"


def pct(fraction: float | None, digits: int = 0) -> str:
    return "–" if fraction is None else f"{fraction * 100:.{digits}f} %"


def chance(fraction: float | None) -> str:
    """A probability to one decimal, never rounded up to a certainty it is not."""
    if fraction is not None and 0.999 < fraction < 1:
        return "> 99.9 %"
    if fraction is not None and 0 < fraction < 0.001:
        return "< 0.1 %"
    return pct(fraction, 1)


def tone(amount: int | None) -> str:
    return "" if not amount else ("up" if amount > 0 else "down")


def page(title: str, current: str, *children: VdomChild) -> VdomDict:
    """The frame of every screen: the top bar with navigation, then the screen's content."""

    def link(href: str, label: str) -> VdomDict:
        here = href == current
        return html.a(
            {"href": href, "class_name": "on" if here else "", "key": href, "aria_current": "page" if here else None},
            label,
        )

    more_here = any(href == current for href, _ in MORE)
    return html.div(
        html.header(
            {"class_name": "top tabs"},
            html.a({"class_name": "brand", "href": "/app/"}, "♠ Bankroll"),
            html.nav(
                {"class_name": "nav", "aria_label": "Screens"},
                *[link(href, label) for href, label in NAV],
                html.details(
                    {"class_name": "more", "key": "more"},
                    html.summary({"class_name": "on" if more_here else ""}, "More"),
                    html.div({"class_name": "menu"}, *[link(href, label) for href, label in MORE]),
                ),
            ),
        ),
        html.main({"class_name": "screen", "data_screen": title}, *children),
    )


def stat(label: str, value: str, css: str = "", testid: str = "") -> VdomDict:
    return html.div(
        {"class_name": "stat"},
        html.span({"class_name": "label"}, label),
        html.span({"class_name": f"value {css}", "data_testid": testid or label.lower()}, value),
    )


def notice(title: str, text: str, *more: VdomChild) -> VdomDict:
    return html.section(
        {"class_name": "card", "role": "status"}, html.h1(title), html.p({"class_name": "muted"}, text), *more
    )


def start_button(defaults: dict[str, Any] | None, label: str = "Start a session") -> VdomDict:
    attributes: dict[str, Any] = {
        "type": "button",
        "class_name": "btn big primary",
        "data_capture": "start",
        "data_testid": "start-session",
    }
    if defaults:
        attributes["data_defaults"] = json.dumps(defaults)
    return html.button(attributes, label)


def stack_chart(points: Sequence[StackPoint], currency: str, width: int = 360, height: int = 180) -> VdomDict:
    """Stack (solid) and money invested (dashed) over time, as inline SVG scaled to the card."""
    if len(points) < 2:
        return html.p(
            {"class_name": "muted small", "data_testid": "chart-empty"}, "The chart starts with your second count."
        )
    pad_x, pad_y = 8, 18
    t0 = points[0].at.timestamp()
    span_t = max(points[-1].at.timestamp() - t0, 1.0)
    values = [p.stack for p in points] + [p.invested for p in points]
    low, high = min(values), max(values)
    span_v = max(high - low, 1)

    def xy(at: datetime, value: int) -> str:
        x = pad_x + (at.timestamp() - t0) / span_t * (width - 2 * pad_x)
        y = pad_y + (1 - (value - low) / span_v) * (height - 2 * pad_y)
        return f"{x:.1f},{y:.1f}"

    # Steps, not slopes: a stack holds its value until the next count.
    stack, invested = [], []
    for prev, point in itertools.pairwise(points):
        stack += [xy(prev.at, prev.stack), xy(point.at, prev.stack)]
        invested += [xy(prev.at, prev.invested), xy(point.at, prev.invested)]
    stack.append(xy(points[-1].at, points[-1].stack))
    invested.append(xy(points[-1].at, points[-1].invested))
    return svg.svg(
        {
            "class_name": "chart",
            "viewBox": f"0 0 {width} {height}",
            "role": "img",
            "data_testid": "chart",
            "data_points": str(len(points)),
            "aria_label": f"Stack over time, {len(points)} counts",
        },
        svg.line({"class_name": "grid", "x1": "0", "x2": str(width), "y1": str(pad_y), "y2": str(pad_y)}),
        svg.line(
            {"class_name": "grid", "x1": "0", "x2": str(width), "y1": str(height - pad_y), "y2": str(height - pad_y)}
        ),
        svg.polyline({"class_name": "invested", "points": " ".join(invested)}),
        svg.polyline({"class_name": "stack", "points": " ".join(stack)}),
        svg_text({"x": str(pad_x), "y": "13"}, money(high, currency)),
        svg_text({"x": str(pad_x), "y": str(height - 4)}, money(low, currency)),
    )


def unpaired_help() -> VdomDict:
    return html.p(
        {"class_name": "small"},
        "To pair this phone, ask whoever runs your Bankroll server for a pairing link or QR code and open it here.",
    )
