"""Builders of events in wire form, so tests read like a session at the table."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any


class SessionScript:
    """One player's session on one device: each call returns the next event (seq counts from 1)."""

    def __init__(
        self,
        session_id: str | None = None,
        start: datetime | None = None,
        offset_hours: int = 1,
    ) -> None:
        self.session_id = session_id or str(uuid.uuid4())
        self.tz = __import__("datetime").timezone(timedelta(hours=offset_hours))
        self.clock = (start or datetime.now(UTC) - timedelta(hours=6)).astimezone(self.tz)
        self.seq = 0

    def event(self, type_: str, data: dict[str, Any], after_minutes: float = 0) -> dict[str, Any]:
        self.seq += 1
        self.clock += timedelta(minutes=after_minutes)
        return {
            "id": str(uuid.uuid4()),
            "session_id": self.session_id,
            "seq": self.seq,
            "type": type_,
            "at": self.clock.isoformat(),
            "data": data,
        }

    def start(self, buy_in: int = 20000, big_blind: int = 200, **extra: Any) -> dict[str, Any]:
        data = {
            "format": "cash",
            "game": "NLH",
            "stakes": {"small_blind": big_blind // 2, "big_blind": big_blind, "ante": 0},
            "currency": "USD",
            "buy_in": buy_in,
            "location": "Bellagio",
            "table_size": 9,
            **extra,
        }
        return self.event("session.started", data)

    def stack(self, amount: int, after_minutes: float = 30) -> dict[str, Any]:
        return self.event("stack.counted", {"amount": amount}, after_minutes)

    def rebuy(self, amount: int, after_minutes: float = 10, kind: str = "rebuy") -> dict[str, Any]:
        return self.event("chips.added", {"amount": amount, "kind": kind}, after_minutes)

    def break_(self, minutes: float, after_minutes: float = 10) -> list[dict[str, Any]]:
        return [self.event("break.started", {}, after_minutes), self.event("break.ended", {}, minutes)]

    def note(self, text: str, after_minutes: float = 1) -> dict[str, Any]:
        return self.event("note.added", {"text": text, "tags": []}, after_minutes)

    def mood(self, score: int, after_minutes: float = 1) -> dict[str, Any]:
        return self.event("mood.reported", {"score": score}, after_minutes)

    def end(self, cash_out: int, after_minutes: float = 30) -> dict[str, Any]:
        return self.event("session.ended", {"cash_out": cash_out}, after_minutes)

    def void(self, target: dict[str, Any], after_minutes: float = 1) -> dict[str, Any]:
        """Undo ``target`` (an event of this script)."""
        return self.event("event.voided", {"event_id": target["id"]}, after_minutes)

    def correct(self, target: dict[str, Any], data: dict[str, Any], after_minutes: float = 1) -> dict[str, Any]:
        """Record ``target`` as it should have been: ``data`` is its whole corrected payload."""
        return self.event("event.corrected", {"event_id": target["id"], "data": data}, after_minutes)


def played_session(buy_in: int = 20000, cash_out: int = 41000) -> tuple[SessionScript, list[dict[str, Any]]]:
    """A 4-hour cash session with a rebuy and a 20-minute break: profit = 41000 - 40000 = 1000."""
    s = SessionScript(start=datetime.now(UTC) - timedelta(hours=8))
    events = [s.start(buy_in=buy_in), s.stack(15000, 60), s.rebuy(20000, 30), *s.break_(20, 30)]
    events += [s.mood(4), s.note("table is soft"), s.stack(38000, 60), s.end(cash_out, 58)]
    return s, events
