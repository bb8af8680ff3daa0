"""Live session: clock, stack, invested, profit and hourly, the stack chart updated by SSE, and the big buttons."""

from __future__ import annotations

from datetime import UTC, datetime

from reactpy import component, html
from reactpy.core.types import VdomDict

from shared.reducer import LiveView
from web.client import BankrollClient
from web.hooks import use_live
from web.widgets import (
    capture_button,
    local_time,
    money,
    notice,
    page,
    stack_chart,
    stakes,
    start_button,
    stat,
    tone,
    unpaired_help,
)


def figures(view: LiveView) -> VdomDict:
    s = view.state
    running = s.status == "active"
    bb = f" · {view.bb_per_hour:+.1f} bb/h" if view.bb_per_hour is not None else ""
    return html.section(
        {
            "class_name": "card live",
            "data_live_session": s.session_id,
            "data_currency": s.currency,
            "data_format": s.format,
            "data_status": s.status,
            "data_stack": "" if s.stack is None else str(s.stack),
            "data_buy_in": str(s.buy_in),
            "data_started_at": s.started_at.isoformat() if s.started_at else "",
            "data_version": str(s.version),
            "data_testid": "live",
        },
        html.div(
            {"class_name": "title"},
            html.h1(
                f"{s.game} {stakes(s.small_blind, s.big_blind, s.currency)}" if s.big_blind else f"{s.game} tournament"
            ),
            html.span({"class_name": f"pill {s.status}", "data_testid": "status"}, s.status.replace("_", " ")),
        ),
        # pad.js ticks this clock every second from the played time at the last update, so no server round trips.
        html.div(
            {
                "class_name": "clock",
                "data_testid": "clock",
                "data_clock_played": str(view.played_seconds),
                "data_clock_since": datetime.now(UTC).isoformat() if running else "",
                "role": "timer",
                "aria_label": "Time played",
            }
        ),
        html.div(
            {"class_name": "stats"},
            stat("Stack", money(s.stack, s.currency), "", "stack"),
            stat("Invested", money(s.invested, s.currency), "", "invested"),
            stat("Profit", money(s.profit, s.currency, signed=True), tone(s.profit), "profit"),
            stat("Hourly", money(view.hourly, s.currency, signed=True) + bb, tone(view.hourly), "hourly"),
        ),
    )


def buttons(view: LiveView) -> VdomDict:
    s = view.state
    sid = s.session_id
    if s.status == "ended":
        return html.div(
            {"class_name": "pad"},
            html.a({"class_name": "btn big", "href": f"/app/sessions/{sid}"}, "Session details"),
            start_button(None, "Start another"),
        )
    return html.div(
        {"class_name": "pad", "aria_label": "Record"},
        capture_button("stack", "Stack count", sid, "primary"),
        capture_button("rebuy", "Rebuy", sid),
        capture_button("addon", "Top-up" if s.format == "cash" else "Add-on", sid),
        capture_button("break", "End break" if s.status == "on_break" else "Break", sid),
        capture_button("note", "Note", sid),
        capture_button("mood", "Mood", sid),
        capture_button("end", "End session", sid, "danger wide"),
    )


def notes(view: LiveView) -> VdomDict | str:
    if not view.state.notes:
        return ""
    return html.section(
        {"class_name": "card"},
        html.h2("Notes"),
        html.ul(
            {"class_name": "timeline"},
            *[
                html.li({"key": f"{n.at.isoformat()}-{i}"}, html.time(local_time(n.at, "%H:%M")), html.span(n.text))
                for i, n in enumerate(reversed(view.state.notes[-5:]))
            ],
        ),
    )


@component
def live(client: BankrollClient, session_id: str) -> VdomDict:
    loaded = use_live(client, session_id)
    if loaded.error is not None:
        return page("live", "", notice("This session cannot be shown", str(loaded.error), unpaired_help()))
    if loaded.value is None:
        return page("live", "", html.p({"class_name": "muted"}, "Connecting…"))
    view = loaded.value
    return page(
        "live",
        "",
        html.div(
            {"class_name": "two"},
            html.div({"style": {"display": "grid", "gap": "1rem"}}, figures(view), buttons(view)),
            html.div(
                {"style": {"display": "grid", "gap": "1rem"}},
                html.section(
                    {"class_name": "card"}, html.h2("Stack"), stack_chart(view.state.stack_points, view.state.currency)
                ),
                notes(view),
            ),
        ),
    )
