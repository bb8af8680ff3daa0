"""Stats: profit, hours, win rate with its 95 % interval drawn, P(winning), streaks, the downswing check, and
tournaments apart; every figure from /api/v1/stats, filtered by the address's filters."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from reactpy import component, html
from reactpy.core.types import VdomChild, VdomDict

from shared.stats import DrawdownReport, Summary
from web.charts import interval_chart
from web.client import BankrollClient
from web.filters import Filters
from web.hooks import use_load
from web.widgets import chance, money, notice, page, pct, stat, tone, unpaired_help

FORMATS = ("cash", "tournament")


@dataclass(frozen=True)
class Measured:
    """One format's figures (or "mixed" when the player asked for both together) and its downswing check."""

    format: str
    summary: Summary
    drawdown: DrawdownReport | None


@dataclass(frozen=True)
class StatsData:
    currency: str
    measured: list[Measured]


async def player_currency(client: BankrollClient, filters: Filters) -> str:
    """The currency asked in the address, else the newest session's ("" when there is no session yet)."""
    if filters.currency:
        return filters.currency
    newest = await client.sessions(1)
    return newest[0].currency if newest else ""


async def load_stats(client: BankrollClient, filters: Filters) -> StatsData:
    currency = await player_currency(client, filters)
    if not currency:
        return StatsData("", [])
    # Cash games and tournaments are measured apart unless the player asked for them together.
    formats = [filters.format] if filters.format else ["mixed"] if filters.mix_formats else list(FORMATS)

    async def one(fmt: str) -> Measured:
        params = filters.api(currency=currency, format=None if fmt == "mixed" else fmt)
        summary, swing = await asyncio.gather(client.summary(params), client.drawdown(params))
        return Measured(fmt, summary, swing)

    found = await asyncio.gather(*(one(f) for f in formats))
    return StatsData(currency, [m for m in found if m.summary.sessions])


def sessions_text(count: int) -> str:
    return f"{count:,} session" if count == 1 else f"{count:,} sessions"


def hours_text(hours: float) -> str:
    return f"{hours:,.1f} h"


def one_in(probability: float) -> str:
    """A chance as people say it: "1 player in 3", or "7 players in 10" when it is more likely than not."""
    if probability >= 0.5:
        return f"{round(probability * 10)} players in 10"
    return f"1 player in {max(2, round(1 / probability)):,}" if probability > 0 else "almost no player"


def not_enough(reason: str | None, testid: str) -> VdomDict:
    return html.p({"class_name": "muted small not-enough", "data_testid": testid}, reason or "Not enough data yet.")


def win_rate_card(s: Summary, currency: str) -> VdomDict:
    """The win rate, its interval drawn on a money axis, P(winning) and the hours still needed, honest when few."""
    body: list[VdomChild] = [html.h2("Win rate and how sure it is")]
    if s.win_rate_ci95 is None or s.hourly is None:
        body.append(not_enough("An interval needs two sessions with played time.", "interval-missing"))
    elif not s.reliable:
        body.append(not_enough(_capital(s.reason), "not-enough"))
    else:
        low, high = s.win_rate_ci95
        label = (
            f"95 % interval of your win rate: {money(low, currency)} to {money(high, currency)} an hour, "
            f"measured {money(s.hourly, currency)} an hour"
        )
        body += [
            interval_chart(low, high, s.hourly, currency, label, "win-rate-interval"),
            html.p(
                {"class_name": "small", "data_testid": "interval-text"},
                f"Your true win rate is between {money(low, currency, signed=True)} and "
                f"{money(high, currency, signed=True)} an hour, 95 % sure (Student's t over {s.sessions} sessions).",
            ),
            html.div(
                {"class_name": "stats"},
                stat("P(winning player)", chance(s.prob_winning), "", "prob-winning"),
                stat("Hours still needed", _hours_needed(s), "", "hours-needed"),
            ),
        ]
    return html.section({"class_name": "card", "data_testid": "win-rate"}, *body)


def _hours_needed(s: Summary) -> str:
    if s.hours_for_significance is None:
        return "–"
    return "0 h: reached" if s.hours_for_significance <= s.hours else hours_text(s.hours_for_significance - s.hours)


def _capital(text: str | None) -> str:
    return (text[0].upper() + text[1:]) if text else "Not enough data yet."


def figures_card(m: Measured, currency: str) -> VdomDict:
    s = m.summary
    title = {"cash": "Cash games", "tournament": "Tournaments", "mixed": "Cash games and tournaments"}[m.format]
    tiles = [
        stat("Profit", money(s.profit, currency, signed=True), tone(s.profit), "profit"),
        stat("Hours", hours_text(s.hours), "", "hours"),
        stat("Sessions", f"{s.sessions:,}", "", "sessions"),
        stat("Hourly", money(s.hourly, currency, signed=True), tone(s.hourly), "hourly"),
    ]
    if m.format != "tournament":
        bb = "–" if s.bb_per_hour is None else f"{s.bb_per_hour:+.2f}"
        tiles.append(
            stat("bb / hour", bb, tone(None if s.bb_per_hour is None else round(s.bb_per_hour * 100)), "bb-per-hour")
        )
    tiles.append(stat("SD / hour", money(s.sd_per_hour, currency), "", "sd-per-hour"))
    return html.section(
        {"class_name": "card", "data_testid": f"figures-{m.format}", "key": f"figures-{m.format}"},
        html.h2(title),
        html.div({"class_name": "stats"}, *tiles),
    )


def results_card(s: Summary, currency: str) -> VdomDict:
    return html.section(
        {"class_name": "card", "data_testid": "results"},
        html.h2("Best and worst"),
        html.div(
            {"class_name": "stats"},
            stat("Biggest win", money(s.biggest_win, currency, signed=True), tone(s.biggest_win), "biggest-win"),
            stat("Biggest loss", money(s.biggest_loss, currency, signed=True), tone(s.biggest_loss), "biggest-loss"),
            stat("Winning streak", sessions_text(s.longest_winning_streak), "", "winning-streak"),
            stat("Losing streak", sessions_text(s.longest_losing_streak), "", "losing-streak"),
        ),
    )


def downswing_card(d: DrawdownReport, currency: str) -> VdomDict:
    """ "Down $1,300 over 5 sessions: 1 player in 3 with your win rate and variance sees one this deep." """
    if d.current == 0:
        words = f"No downswing: you are at your peak. Your deepest so far was {money(d.deepest, currency)}."
    else:
        span = f"{sessions_text(d.current_sessions)} ({hours_text(d.current_hours)})"
        depth = f"Down {money(d.current, currency)} over {span}"
        if not d.reliable:
            words = f"{depth}. Is that normal? {_capital(d.reason)}."
        elif d.probability is None:
            words = f"{depth}. Is that normal? Your SD cannot be measured yet."
        elif d.verdict == "unusual" or (d.hourly or 0) > 0:
            words = (
                f"{depth}: {one_in(d.probability)} with your win rate and variance sees one this deep "
                f"({pct(d.probability, 1)}) — {'normal' if d.verdict == 'normal' else 'unusually deep'}."
            )
        else:
            words = f"{depth}: at your measured win rate, which is not above zero, every depth is to be expected."
    return html.section(
        {"class_name": "card", "data_testid": "downswing"},
        html.h2("Is this downswing normal?"),
        html.p(
            {"data_testid": "downswing-text", "data_verdict": d.verdict if d.reliable else "not enough data"}, words
        ),
    )


def tournament_card(s: Summary, currency: str) -> VdomDict:
    finish = "–" if s.average_finish_percentile is None else f"top {s.average_finish_percentile * 100:.0f} %"
    return html.section(
        {"class_name": "card", "data_testid": "tournaments"},
        html.h2("Tournament results"),
        html.div(
            {"class_name": "stats"},
            stat("ROI", pct(s.roi, 1), tone(None if s.roi is None else round(s.roi * 1000)), "roi"),
            stat("In the money", pct(s.itm_pct, 1), "", "itm"),
            stat("Average finish", finish, "", "average-finish"),
            stat("Bounties", money(s.total_bounties, currency), "", "bounties"),
        ),
    )


def filter_line(filters: Filters, path: str) -> VdomDict | str:
    said = filters.described()
    if not said:
        return ""
    return html.p(
        {"class_name": "small filters-line", "data_testid": "active-filters"},
        "Only " + ", ".join(said) + " · ",
        html.a({"href": path + Filters(currency=filters.currency).query()}, "show everything"),
    )


def format_links(filters: Filters) -> VdomDict:
    """Switch between the formats measured apart, or (asked for) both together."""
    choices = [
        ("Both apart", filters.query(format="", mix_formats="")),
        ("Cash", filters.query(format="cash", mix_formats="")),
        ("Tournaments", filters.query(format="tournament", mix_formats="")),
        ("Together", filters.query(format="", mix_formats="true")),
    ]
    current = (
        "Cash"
        if filters.format == "cash"
        else "Tournaments"
        if filters.format
        else "Together"
        if filters.mix_formats
        else "Both apart"
    )
    return html.nav(
        {"class_name": "chips", "aria_label": "Formats"},
        *[
            html.a(
                {
                    "href": f"/app/stats{q}",
                    "class_name": "chip on" if label == current else "chip",
                    "key": label,
                    "aria_current": "page" if label == current else None,
                },
                label,
            )
            for label, q in choices
        ],
    )


@component
def stats_screen(client: BankrollClient, search: str) -> VdomDict:
    filters = Filters.parse(search)
    data = use_load(lambda: load_stats(client, filters), search)
    here = "/app/stats"
    if data.error is not None:
        return page("stats", here, notice("Cannot load your statistics", str(data.error), unpaired_help()))
    if data.value is None:
        return page("stats", here, html.h1("Stats"), html.p({"class_name": "muted"}, "Loading…"))
    currency, measured = data.value.currency, data.value.measured
    heading = html.h1(f"Stats · {currency}" if currency else "Stats")
    blocks: list[VdomChild] = [
        html.div({"class_name": "format-block", "key": m.format, "data_format": m.format}, *format_cards(m, currency))
        for m in measured
    ] or [notice("No finished sessions", "Nothing to measure yet in this selection.")]
    return page(
        "stats",
        here,
        heading,
        filter_line(filters, here),
        format_links(filters),
        *blocks,
        html.a({"class_name": "btn big", "href": "/app/breakdowns" + filters.query()}, "Where you win and lose"),
    )


def format_cards(m: Measured, currency: str) -> list[VdomChild]:
    """One format's cards: its figures, tournament results, the win rate's interval, best and worst, the downswing."""
    cards: list[VdomChild] = [figures_card(m, currency)]
    if m.format == "tournament":
        cards.append(tournament_card(m.summary, currency))
    cards += [win_rate_card(m.summary, currency), results_card(m.summary, currency)]
    if m.drawdown is not None:
        cards.append(downswing_card(m.drawdown, currency))
    return cards
