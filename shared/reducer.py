"""The session reducer: state = fold(events), the one place a session's money and time are folded from events.

The same code gives the live state in Redis, the per-session rows in ClickHouse, replays and the tests.
Arrival order never matters: events are deduplicated by id and by (device, seq) slot, voids and corrections are
applied (``shared.amendments.effective``), then the events that count are folded in ``Event.order_key`` order
(device time, device, seq).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Literal

import msgspec

from shared import figures
from shared.amendments import effective, is_amendment
from shared.errors import InvalidEvent
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
    TiltFeedback,
)
from shared.figures import bb_per_hour, hourly_rate

Status = Literal["pending", "active", "on_break", "ended"]


class StackPoint(msgspec.Struct, frozen=True, gc=False):
    at: datetime
    stack: int
    invested: int


class Note(msgspec.Struct, frozen=True, gc=False):
    at: datetime
    text: str
    tags: list[str]


class BreakSpan(msgspec.Struct, frozen=True, gc=False):
    """One finished break, kept so a corrected end can leave out what fell after it."""

    start: datetime
    end: datetime


class Mood(msgspec.Struct, frozen=True, gc=False):
    at: datetime
    score: int


class SessionState(msgspec.Struct, gc=False):
    """Everything known about one session after folding its events."""

    session_id: str
    version: int = 0
    status: Status = "pending"
    format: Literal["cash", "tournament"] = "cash"
    game: str = ""
    currency: str = ""
    small_blind: int = 0
    big_blind: int = 0
    ante: int = 0
    location: str = ""
    table_size: int = 9
    tags: list[str] = []
    buy_in: int = 0
    fee: int = 0
    bounty: int = 0
    started_at: datetime | None = None
    ended_at: datetime | None = None
    last_event_at: datetime | None = None
    utc_offset_minutes: int = 0
    stack: int | None = None  # money at a cash game, chips at a tournament
    starting_stack: int | None = None
    invested: int = 0
    rebuys: int = 0
    cash_out: int | None = None
    place: int | None = None
    entrants: int | None = None
    prize: int = 0
    bounties: int = 0
    tips: int = 0
    jackpot: int = 0
    profit: int = 0
    break_seconds: int = 0
    played_seconds: int = 0
    on_break_since: datetime | None = None
    last_break_end: datetime | None = None
    breaks: list[BreakSpan] = []
    notes: list[Note] = []
    moods: list[Mood] = []
    stack_points: list[StackPoint] = []
    tilt_feedback: list[str] = []

    @property
    def win_rate_profit(self) -> int:
        """Profit that counts toward win rate: jackpot and splash-pot money kept out."""
        return self.profit - self.jackpot

    @property
    def net_profit(self) -> int:
        """Profit after tips and session expenses."""
        return self.profit - self.tips

    @property
    def hourly(self) -> int | None:
        """Win rate of this session in minor units per hour (None before a minute is played)."""
        return hourly_rate(self.win_rate_profit, self.played_seconds)

    @property
    def bb_per_hour(self) -> float | None:
        """Big blinds won per hour; None for tournaments and sessions under a minute."""
        return bb_per_hour(self.hourly, self.big_blind, self.format)


def unique_events(events: Iterable[Event]) -> list[Event]:
    """The events once each, in ``order_key`` order: a repeated id or an occupied (device, seq) slot is dropped."""
    unique: dict[str, Event] = {}
    seen_ids: set[object] = set()
    for event in sorted(events, key=lambda e: e.order_key):
        if event.id in seen_ids or event.slot in unique:
            continue
        seen_ids.add(event.id)
        unique[event.slot] = event
    return list(unique.values())


def fold(session_id: str, events: Iterable[Event]) -> SessionState:
    """Fold a session's events, in any order, with duplicates, voids and corrections, into its state.

    ``version`` counts every event recorded, voids and corrections included, so it only grows (the warehouse keeps
    the row of the highest version).
    """
    unique = unique_events(events)
    state = fold_more(SessionState(session_id=session_id), effective(unique))
    state.version = len(unique)
    return state


def fold_more(state: SessionState, events: Iterable[Event]) -> SessionState:
    """Apply events that all come after everything already in ``state`` (the live, in-order case).

    A void or correction cannot be applied this way (it changes what came before): fold the session again.
    """
    for event in sorted(events, key=lambda e: e.order_key):
        apply_event(state, event)
    _close(state)
    return state


def apply_event(state: SessionState, event: Event) -> None:  # noqa: C901 — one arm per event type, each trivial
    """Apply one event (already in order) to the state in place; a void or correction only counts as recorded."""
    state.version += 1
    if is_amendment(event):
        return
    state.last_event_at = event.at
    data = event.data
    match data:
        case SessionStarted():
            _start(state, event.at, data)
        case StackCounted(amount=amount, blinds=blinds):
            state.stack = amount  # money at a cash game, chips at a tournament
            if blinds is not None and state.format == "tournament":  # the level the tournament is at now
                state.small_blind, state.big_blind, state.ante = blinds.small_blind, blinds.big_blind, blinds.ante
            _point(state, event.at)
        case ChipsAdded(amount=amount):
            state.invested += amount
            state.rebuys += 1
            if state.stack is not None and state.format == "cash":
                state.stack += amount
            _point(state, event.at)
        case BreakStarted():
            if state.on_break_since is None and state.status != "ended":
                state.on_break_since = event.at
                state.status = "on_break"
        case BreakEnded():
            _end_break(state, event.at)
        case NoteAdded(text=text, tags=tags):
            state.notes.append(Note(at=event.at, text=text, tags=list(tags)))
        case MoodReported(score=score):
            state.moods.append(Mood(at=event.at, score=score))
        case SessionEnded():
            _finish(state, event.at, data)
        case TiltFeedback(response=response):
            state.tilt_feedback.append(response)
        case _:
            pass


def _start(state: SessionState, at: datetime, data: SessionStarted) -> None:
    state.format = data.format
    state.game = data.game
    state.currency = data.currency
    if data.stakes is not None:
        state.small_blind, state.big_blind, state.ante = (
            data.stakes.small_blind,
            data.stakes.big_blind,
            data.stakes.ante,
        )
    state.location = data.location
    state.table_size = data.table_size
    state.tags = list(data.tags)
    state.buy_in, state.fee, state.bounty = data.buy_in, data.fee, data.bounty
    state.invested += data.buy_in + data.fee
    state.started_at = at
    offset = at.utcoffset()
    state.utc_offset_minutes = int(offset.total_seconds() // 60) if offset else 0
    if state.stack is None:
        state.stack = data.buy_in if data.format == "cash" else data.starting_stack
    state.starting_stack = data.starting_stack
    state.entrants = data.entrants if state.entrants is None else state.entrants
    if state.status == "pending":
        state.status = "active"
    _point(state, at)


def _end_break(state: SessionState, at: datetime) -> None:
    if state.on_break_since is None:
        return
    state.break_seconds += max(0, int((at - state.on_break_since).total_seconds()))
    if at > state.on_break_since:
        state.breaks.append(BreakSpan(start=state.on_break_since, end=at))
    state.on_break_since = None
    state.last_break_end = at
    if state.status == "on_break":
        state.status = "active"


def check_corrected_end(started_at: datetime | None, data: SessionEnded) -> None:
    """Intake rule: a corrected end (``ended_at``) cannot come before the session's start.

    Raises:
        InvalidEvent: naming both times.
    """
    if started_at is not None and data.ended_at is not None and data.ended_at < started_at:
        raise InvalidEvent(
            f"`$.data.ended_at` {data.ended_at.isoformat()} is before the session started "
            f"({started_at.isoformat()}); the real end must be at or after the start"
        )


def _finish(state: SessionState, at: datetime, data: SessionEnded) -> None:
    end = figures.real_end(state.started_at, at, data.ended_at)
    _end_break(state, end)
    state.break_seconds -= figures.break_seconds_after(state.breaks, end)
    state.ended_at = end
    state.status = "ended"
    state.tips, state.jackpot = data.tips, data.jackpot
    if state.format == "cash":
        state.cash_out = data.cash_out if data.cash_out is not None else state.stack
        state.stack = state.cash_out
    else:
        state.place = data.place
        state.entrants = data.entrants if data.entrants is not None else state.entrants
        state.prize, state.bounties = data.prize, data.bounties
    _point(state, end)


def _point(state: SessionState, at: datetime) -> None:
    if state.format == "cash" and state.stack is not None:
        state.stack_points.append(StackPoint(at=at, stack=state.stack, invested=state.invested))


def _close(state: SessionState) -> None:
    """Derive money and time totals once all events are applied."""
    state.profit = figures.profit(
        state.format,
        invested=state.invested,
        returned=state.cash_out if state.cash_out is not None else state.stack,
        ended=state.status == "ended",
        prize=state.prize,
        bounties=state.bounties,
    )
    end = state.ended_at or state.last_event_at
    state.played_seconds = played_seconds(state, end) if end is not None else 0


def played_seconds(state: SessionState, now: datetime) -> int:
    """Seconds at the table from the start until ``now`` (or the end), breaks excluded."""
    end = state.ended_at if state.ended_at is not None else now
    return figures.played_seconds(state.started_at, end, state.break_seconds, state.on_break_since)


class LiveView(msgspec.Struct, frozen=True, gc=False):
    """What the live screen shows: the state plus figures that depend on the clock."""

    state: SessionState
    played_seconds: int
    hourly: int | None
    bb_per_hour: float | None
    win_rate_profit: int
    net_profit: int
    big_blinds: int | None = None  # a tournament stack in big blinds at its current blinds
    m: float | None = None  # Harrington's M of a tournament stack (shared.figures.m_ratio)


def live_view(state: SessionState, now: datetime) -> LiveView:
    """Figures for the live screen at ``now``: a running session keeps accruing time."""
    seconds = played_seconds(state, now) if state.status != "ended" else state.played_seconds
    hourly = hourly_rate(state.win_rate_profit, seconds)
    bb = bb_per_hour(hourly, state.big_blind, state.format)
    return LiveView(
        state=state,
        played_seconds=seconds,
        hourly=hourly,
        bb_per_hour=bb,
        win_rate_profit=state.win_rate_profit,
        net_profit=state.net_profit,
        big_blinds=figures.big_blinds(state.stack, state.big_blind, state.format),
        m=figures.m_ratio(state.stack, state.small_blind, state.big_blind, state.ante, state.format),
    )


class SessionSummary(msgspec.Struct, frozen=True, gc=False):
    """One line of a session list: the figures a history screen shows."""

    session_id: str
    status: str
    format: str
    game: str
    currency: str
    small_blind: int
    big_blind: int
    location: str
    started_at: datetime | None
    ended_at: datetime | None
    invested: int
    profit: int
    played_seconds: int
    hourly: int | None
    event_count: int = 0
    win_rate_profit: int = 0  # the profit the hourly rate is over (jackpots kept out), for totals over sessions


def summarize(view: LiveView) -> SessionSummary:
    """The list line of a session, from its live view."""
    s = view.state
    return SessionSummary(
        session_id=s.session_id,
        status=s.status,
        format=s.format,
        game=s.game,
        currency=s.currency,
        small_blind=s.small_blind,
        big_blind=s.big_blind,
        location=s.location,
        started_at=s.started_at,
        ended_at=s.ended_at,
        invested=s.invested,
        profit=s.profit,
        played_seconds=view.played_seconds,
        hourly=view.hourly,
        event_count=s.version,
        win_rate_profit=view.win_rate_profit,
    )
