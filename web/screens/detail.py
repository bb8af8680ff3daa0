"""Session detail: the result, the stack chart and the timeline of everything recorded, each entry with Edit and
Delete (pad.js records them as event.corrected / event.voided through the outbox)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import msgspec
from reactpy import component, html
from reactpy.core.types import VdomDict

from shared.amendments import UNVOIDABLE, amendments_by_target, effective, is_amendment
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
from shared.reducer import LiveView, unique_events
from web.client import BankrollClient
from web.hooks import use_load
from web.widgets import duration, local_time, money, notice, page, stack_chart, stat, tone, unpaired_help

# What the detail screen lets a player change: a break has no payload (delete only), a start or end no Delete.
EDITABLE: Final = frozenset({"session.started", "stack.counted", "chips.added", "note.added", "mood.reported",
                             "session.ended"})  # fmt: skip
DELETABLE: Final = frozenset({"stack.counted", "chips.added", "break.started", "break.ended", "note.added",
                              "mood.reported"})  # fmt: skip
_ENC: Final = msgspec.json.Encoder()


@dataclass(frozen=True)
class Detail:
    view: LiveView
    events: list[Event]


@dataclass(frozen=True)
class Entry:
    """One recorded tap as it counts now: its corrected payload, or marked deleted."""

    event: Event
    voided: bool
    edited: bool


def timeline(events: list[Event]) -> list[Entry]:
    """Every tap in the session's order, with its voids and corrections applied (the amendments are not rows)."""
    unique = unique_events(events)
    counted = {e.id: e for e in effective(unique)}
    amended = amendments_by_target(unique)
    out: list[Entry] = []
    for event in unique:
        if is_amendment(event):
            continue
        current = counted.get(event.id)
        out.append(Entry(event=current or event, voided=current is None, edited=str(event.id) in amended))
    return out


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
    view, entries = data.value.view, timeline(data.value.events)
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
            html.h2(f"Timeline · {len([e for e in entries if not e.voided])} entries"),
            html.ul(
                {"class_name": "timeline", "data_testid": "timeline"},
                *[row(entry, view) for entry in entries],
            ),
        ),
        html.a({"class_name": "btn big", "href": f"/app/live/{s.session_id}"}, "Live view")
        if s.status != "ended"
        else "",
    )


def row(entry: Entry, view: LiveView) -> VdomDict:
    """One timeline entry: time, what it says now, a mark when edited or deleted, and its Edit / Delete buttons."""
    e, s = entry.event, view.state
    text = describe(e, s.currency)
    mark = " (deleted)" if entry.voided else " (edited)" if entry.edited else ""
    buttons = []
    if not entry.voided:
        data = {
            "type": "button",
            "class_name": "btn small",
            "data_session": s.session_id,
            "data_event": str(e.id),
            "data_type": e.type,
            "data_payload": _ENC.encode(e.data).decode(),
            "data_currency": s.currency,
            "data_format": s.format,
            "data_describe": text,
        }
        if e.type in EDITABLE:
            buttons.append(html.button({**data, "data_amend": "edit", "data_testid": "amend-edit",
                                        "aria_label": f"Edit: {text}"}, "Edit"))  # fmt: skip
        if e.type in DELETABLE and e.type not in UNVOIDABLE:
            buttons.append(html.button({**data, "data_amend": "delete", "data_testid": "amend-delete",
                                        "aria_label": f"Delete: {text}"}, "Delete"))  # fmt: skip
    return html.li(
        {
            "key": str(e.id),
            "class_name": "voided" if entry.voided else "",
            "data_testid": "timeline-entry",
            "data_event_type": e.type,
            "data_state": "deleted" if entry.voided else "edited" if entry.edited else "recorded",
        },
        html.time(local_time(e.at, "%H:%M")),
        html.span({"class_name": "grow"}, text + mark),
        html.span({"class_name": "amend"}, *buttons) if buttons else "",
    )
