"""Home: the bankroll summary, the running session and "start a session" with the last session's settings."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from reactpy import component, html
from reactpy.core.types import VdomDict

from shared.figures import hourly_rate
from web.client import BankrollClient, SessionRow
from web.hooks import use_load
from web.widgets import duration, local_time, money, notice, page, stakes, start_button, stat, tone, unpaired_help


@dataclass(frozen=True)
class HomeData:
    sessions: list[SessionRow]
    defaults: dict[str, Any] | None


async def load_home(client: BankrollClient) -> HomeData:
    sessions = await client.sessions()
    if not sessions:
        return HomeData(sessions, None)
    s = (await client.live(sessions[0].session_id)).state
    defaults: dict[str, Any] = {
        "format": s.format,
        "game": s.game,
        "currency": s.currency,
        "buy_in": s.buy_in,
        "location": s.location,
    }
    if s.big_blind:
        defaults["stakes"] = {"small_blind": s.small_blind, "big_blind": s.big_blind, "ante": s.ante}
    return HomeData(sessions, defaults)


def summary(sessions: list[SessionRow]) -> list[VdomDict]:
    """Bankroll figures per currency over ended sessions (each session's profit comes from the reducer)."""
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for s in sessions:
        if s.status == "ended":
            t = totals[s.currency]
            t[0], t[1], t[2], t[3] = t[0] + s.profit, t[1] + s.played_seconds, t[2] + 1, t[3] + s.win_rate_profit
    cards = []
    for currency, (profit, seconds, count, win_rate_profit) in sorted(totals.items(), key=lambda kv: -kv[1][2]):
        hourly = hourly_rate(win_rate_profit, seconds)
        cards.append(
            html.section(
                {"class_name": "card", "key": currency, "data_testid": f"summary-{currency}"},
                html.h2(f"Results · {currency}"),
                html.div(
                    {"class_name": "summary"},
                    stat("Profit", money(profit, currency, signed=True), tone(profit), "total-profit"),
                    stat("Hourly", money(hourly, currency, signed=True), tone(hourly), "total-hourly"),
                    stat("Sessions", str(count), "", "total-sessions"),
                    stat("Played", duration(seconds), "", "total-played"),
                ),
            )
        )
    return cards


def running(sessions: list[SessionRow]) -> VdomDict | None:
    active = next((s for s in sessions if s.status in ("active", "on_break")), None)
    if active is None:
        return None
    return html.a(
        {"class_name": "row-link", "href": f"/app/live/{active.session_id}", "data_testid": "active-session"},
        html.div(
            html.b(
                f"{active.game} {stakes(active.small_blind, active.big_blind, active.currency)}"
                if active.big_blind
                else active.game
            ),
            html.div(
                {"class_name": "muted small"},
                f"Running since {local_time(active.started_at, '%H:%M')}"
                + (" · on break" if active.status == "on_break" else ""),
            ),
        ),
        html.span({"class_name": f"money {tone(active.profit)}"}, money(active.profit, active.currency, signed=True)),
    )


def break_suggestions() -> VdomDict:
    """The Web Push switch; push.js (in the browser) asks permission, subscribes and fills in its state."""
    return html.section(
        {"class_name": "card switch", "data_testid": "push-control"},
        html.div(
            html.b("Break suggestions"),
            html.div(
                {"class_name": "muted small", "data_push_status": "", "data_testid": "push-status", "role": "status"}
            ),
        ),
        html.button(
            {
                "type": "button",
                "class_name": "btn",
                "data_push_toggle": "",
                "data_testid": "push-toggle",
            },
            html.span({"class_name": "visually-hidden"}, "Break suggestions "),
            html.span({"data_push_word": ""}, "…"),
        ),
    )


@component
def home(client: BankrollClient) -> VdomDict:
    data = use_load(lambda: load_home(client), "home")
    if data.error is not None:
        return page("home", "/app/", notice("Cannot load your sessions", str(data.error), unpaired_help()))
    if data.value is None:
        return page("home", "/app/", html.p({"class_name": "muted"}, "Loading…"))
    sessions, defaults = data.value.sessions, data.value.defaults
    active = running(sessions)
    return page(
        "home",
        "/app/",
        html.h1({"class_name": "visually-hidden"}, "Home"),
        html.section({"class_name": "card"}, html.h2("Now"), active) if active else start_button(defaults),
        *summary(sessions),
        html.p({"class_name": "muted small"}, "No sessions yet: start one at the table.") if not sessions else "",
        html.a({"class_name": "btn big", "href": "/app/history"}, "Session history"),
        break_suggestions(),
    )
