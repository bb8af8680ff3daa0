"""Session detail: the result, the stack chart and the timeline of everything recorded."""

from __future__ import annotations

from dataclasses import dataclass

from reactpy import component, html
from reactpy.core.types import VdomDict

from shared.events import (
    BreakEnded,
    BreakStarted,
    ChipsAdded,
    Event,
    MoodReported,
    NoteAdded,
    SessionEnded,
    SessionStarted,
    StackCounted,
)
from shared.reducer import LiveView
from web.client import BankrollClient
from web.hooks import use_load
from web.widgets import duration, local_time, money, notice, page, stack_chart, stat, tone, unpaired_help


@dataclass(frozen=True)
class Detail:
    view: LiveView
    events: list[Event]


async def load_detail(client: BankrollClient, session_id: str) -> Detail:
    return Detail(await client.live(session_id), await client.events(session_id))


def describe(event: Event, currency: str) -> str:
    """One line per event, in the player's words."""
    match event.data:
        case SessionStarted(format=fmt, game=game, buy_in=buy_in):
            return f"Started {game} {fmt}, buy-in {money(buy_in, currency)}"
        case StackCounted(amount=amount):
            return f"Stack {money(amount, currency)}"
        case ChipsAdded(amount=amount, kind=kind):
            return f"{kind.replace('_', '-').capitalize()} {money(amount, currency)}"
        case BreakStarted():
            return "Break"
        case BreakEnded():
            return "Back from break"
        case NoteAdded(text=text):
            return f"Note: {text}"
        case MoodReported(score=score):
            return f"Mood {score}/5"
        case SessionEnded(cash_out=cash_out, ended_at=ended_at):
            real = f" (real end {local_time(ended_at, '%H:%M')})" if ended_at else ""
            return f"Ended, cash-out {money(cash_out, currency)}{real}" if cash_out is not None else f"Ended{real}"
        case _:
            return event.type


@component
def detail(client: BankrollClient, session_id: str) -> VdomDict:
    data = use_load(lambda: load_detail(client, session_id), session_id)
    if data.error is not None:
        return page("detail", "", notice("This session cannot be shown", str(data.error), unpaired_help()))
    if data.value is None:
        return page("detail", "", html.p({"class_name": "muted"}, "Loading…"))
    view, events = data.value.view, data.value.events
    s = view.state
    return page(
        "detail",
        "",
        html.section(
            {"class_name": "card", "data_testid": "detail"},
            html.div(
                {"class_name": "title"},
                html.h1(f"{s.game} · {local_time(s.started_at)}"),
                html.span({"class_name": f"pill {s.status}"}, s.status.replace("_", " ")),
            ),
            html.div(
                {"class_name": "stats"},
                stat("Profit", money(s.profit, s.currency, signed=True), tone(s.profit), "profit"),
                stat("Hourly", money(view.hourly, s.currency, signed=True), tone(view.hourly), "hourly"),
                stat("Invested", money(s.invested, s.currency), "", "invested"),
                stat("Played", duration(view.played_seconds), "", "played"),
            ),
        ),
        html.section({"class_name": "card"}, html.h2("Stack"), stack_chart(s.stack_points, s.currency)),
        html.section(
            {"class_name": "card"},
            html.h2(f"Timeline · {len(events)} events"),
            html.ul(
                {"class_name": "timeline", "data_testid": "timeline"},
                *[
                    html.li(
                        {"key": str(e.id)}, html.time(local_time(e.at, "%H:%M")), html.span(describe(e, s.currency))
                    )
                    for e in events
                ],
            ),
        ),
        html.a({"class_name": "btn big", "href": f"/app/live/{s.session_id}"}, "Live view")
        if s.status != "ended"
        else "",
    )
