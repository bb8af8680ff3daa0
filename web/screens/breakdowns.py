"""Breakdowns: where the player wins and loses, as bars by stakes, game, format, location, weekday, hour, length or
month (a tapped bar opens the stats of that group), a calendar heat map, and the filters, all in the address."""

from __future__ import annotations

import asyncio
import calendar
from dataclasses import dataclass
from urllib.parse import parse_qsl

from reactpy import component, html
from reactpy.core.types import VdomDict

from shared.stats import BREAKDOWNS, CalendarDay, Summary
from web.charts import Bar, bar_chart, heat_map
from web.client import ApiError, BankrollClient
from web.filters import Filters
from web.hooks import use_load
from web.screens.stats import player_currency
from web.widgets import money, notice, page, unpaired_help

# Months are the one breakdown that grows without end: the newest 24 are drawn (ten years would be 120 bars and
# over 200 KB on a phone's first load); older months are a date filter away, and the screen says so.
MAX_MONTHS = 24
TITLES = {
    "stakes": "Stakes",
    "game": "Game",
    "format": "Format",
    "location": "Location",
    "weekday": "Weekday",
    "hour": "Start hour",
    "length": "Length",
    "month": "Month",
}


@dataclass(frozen=True)
class BreakdownData:
    currency: str
    groups: dict[str, Summary]
    days: list[CalendarDay]
    cash_only: bool  # both formats were selected: a breakdown that must not mix them shows cash games


async def load_breakdown(client: BankrollClient, filters: Filters, by: str) -> BreakdownData:
    currency = await player_currency(client, filters)
    if not currency:
        return BreakdownData("", {}, [], cash_only=False)
    params = filters.api(currency=currency)
    days_task = asyncio.ensure_future(client.calendar(params))
    try:
        groups, cash_only = await client.breakdown(by, params), False
    except ApiError as exc:
        if "mix_formats" not in str(exc):
            days_task.cancel()
            raise
        groups, cash_only = await client.breakdown(by, {**params, "format": "cash"}), True
    return BreakdownData(currency, groups, await days_task, cash_only)


def group_filter(filters: Filters, by: str, label: str, cash_only: bool) -> str:
    """The stats address of one bar: the filters it stands for added to the ones already set."""
    base = Filters(**{**filters.__dict__, "format": "cash"}) if cash_only else filters
    if by == "format":
        return base.query(format=label)
    if by == "game":
        return base.query(game=label)
    if by == "location" and label != "unknown":
        return base.query(location=label)
    if by == "month":
        year, month = (int(x) for x in label.split("-"))
        last = calendar.monthrange(year, month)[1]
        return base.query(start=f"{label}-01", end=f"{label}-{last:02d}")
    return base.query(group=f"{by}:{label}")


def bars(data: BreakdownData, filters: Filters, by: str) -> list[Bar]:
    def note(s: Summary) -> str:
        rate = f" · {money(s.hourly, data.currency, signed=True, whole=True)}/h" if s.hourly is not None else ""
        return f"{s.sessions} session{'s' if s.sessions != 1 else ''}{rate}"

    shown = list(data.groups.items())[-MAX_MONTHS:] if by == "month" else data.groups.items()
    return [
        Bar(label, s.profit, "/app/stats" + group_filter(filters, by, label, data.cash_only), note(s))
        for label, s in shown
    ]


def tabs(filters: Filters, by: str) -> VdomDict:
    return html.nav(
        {"class_name": "chips", "aria_label": "Break down by"},
        *[
            html.a(
                {
                    "href": f"/app/breakdowns{_with_by(filters, name)}",
                    "class_name": "chip on" if name == by else "chip",
                    "aria_current": "page" if name == by else None,
                    "key": name,
                },
                TITLES[name],
            )
            for name in BREAKDOWNS
        ],
    )


def _with_by(filters: Filters, by: str) -> str:
    query = filters.query()
    return f"{query}&by={by}" if query else f"?by={by}"


def field(label: str, name: str, value: str, kind: str = "text") -> VdomDict:
    return html.label(
        {"class_name": "field", "key": name},
        html.span(label),
        html.input({"type": kind, "name": name, "value": value, "data_testid": f"filter-{name}"}),
    )


def filter_form(filters: Filters, by: str) -> VdomDict:
    """A plain GET form: applying it loads the address with the filters, so the result is a link to share."""
    return html.details(
        {"class_name": "card filters", "open": bool(filters.described()) or None},
        html.summary("Filters" + (f" · {len(filters.described())} set" if filters.described() else "")),
        html.form(
            {"method": "get", "action": "/app/breakdowns", "data_testid": "filters"},
            html.input({"type": "hidden", "name": "by", "value": by}),
            html.input({"type": "hidden", "name": "currency", "value": filters.currency}) if filters.currency else "",
            html.div(
                {"class_name": "row"},
                field("From", "from", filters.start, "date"),
                field("To", "to", filters.end, "date"),
            ),
            html.label(
                {"class_name": "field"},
                html.span("Format"),
                html.select(
                    {"name": "format", "data_testid": "filter-format", "value": filters.format},
                    html.option({"value": ""}, "Any"),
                    html.option({"value": "cash"}, "Cash"),
                    html.option({"value": "tournament"}, "Tournament"),
                ),
            ),
            html.div(
                {"class_name": "row"},
                field("Game", "game", filters.game),
                field("Location", "location", filters.location),
            ),
            field("Tag", "tags", filters.tags),
            html.div(
                {"class_name": "row"},
                html.button({"type": "submit", "class_name": "btn primary"}, "Apply"),
                html.a({"class_name": "btn", "href": f"/app/breakdowns?by={by}"}, "Clear"),
            ),
        ),
    )


@component
def breakdowns_screen(client: BankrollClient, search: str) -> VdomDict:
    filters = Filters.parse(search)
    by = dict(parse_qsl(search.lstrip("?"))).get("by", "stakes")
    by = by if by in BREAKDOWNS else "stakes"
    here = "/app/breakdowns"
    data = use_load(lambda: load_breakdown(client, filters, by), search)
    if data.error is not None:
        return page("breakdowns", here, notice("Cannot load the breakdown", str(data.error), unpaired_help()))
    if data.value is None:
        return page("breakdowns", here, html.h1("Where you win and lose"), html.p({"class_name": "muted"}, "Loading…"))
    d = data.value
    title = f"Profit by {TITLES[by].lower()}" + (" · cash games" if d.cash_only else "")
    return page(
        "breakdowns",
        here,
        html.h1(f"Where you win and lose · {d.currency}" if d.currency else "Where you win and lose"),
        filter_form(filters, by),
        tabs(filters, by),
        html.section(
            {"class_name": "card", "data_testid": "breakdown"},
            html.h2(title),
            html.p({"class_name": "muted small"}, "Tap a bar for its statistics.") if d.groups else "",
            bar_chart(
                bars(d, filters, by), d.currency, f"{title} in {d.currency}: {len(d.groups)} groups", "breakdown-chart"
            ),
            html.p({"class_name": "muted small"}, "Cash games only: pick a format in the filters for tournaments.")
            if d.cash_only
            else "",
            html.p(
                {"class_name": "muted small", "data_testid": "months-cut"},
                f"The newest {MAX_MONTHS} of {len(d.groups)} months; set the dates in the filters for older ones.",
            )
            if by == "month" and len(d.groups) > MAX_MONTHS
            else "",
        ),
        html.section(
            {"class_name": "card", "data_testid": "calendar"},
            html.h2("Calendar"),
            heat_map(
                d.days,
                d.currency,
                f"Results per playing day, last year shown: {len(d.days)} days played",
                "calendar-chart",
            ),
        ),
    )
