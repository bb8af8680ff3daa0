"""Compile the hand-written tilt scenarios (``scenarios.txt``) into the pipeline's files: events and labels apart.

The scenarios are written by a person, not by ``shared/simulator.py``: they are the evaluation the simulator did
not write. ``events.jsonl`` holds ``{"user", "event"}`` lines in phone order (the ``bankroll tilt replay``
contract); ``labels.jsonl`` one ``{"kind": "session", "session_id", "user", "archetype", "tilt_started_at",
"reasons"}`` line per session. Both are committed; ``test_tilt_scenarios`` checks they match this compiler.

The language, one statement per line (a line starting with ``#`` is a comment)::

    player NAME OFFSET CURRENCY            e.g. player ann -08:00 USD
    cash DATE HH:MM SB/BB BUYIN: STEPS     stakes and buy-in in major units, e.g. cash 2025-03-03 19:10 1/2 200: ...
    tourney DATE HH:MM BUYIN: STEPS
    episode ARCHETYPE | reason | reason    the session above is a tilt episode, from the last ``onset`` on
    calm ARCHETYPE | reason                the session above is a calm look-alike (other sessions are plain calm)

STEPS are comma-separated ``MINUTES ACTION``, the minutes counted from the step before: ``+N``/``-N`` (the stack
moved by N and was counted), ``=N`` (stack counted at N), ``rebuy N``, ``topup N``, ``mood N``, ``break M``
(a break of M minutes), ``note TEXT`` (``#tag`` words become tags), ``onset`` (no event: the moment a person would
say the tilt began), ``end`` (cash out the stack; for a tournament ``end PLACE/ENTRANTS PRIZE``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Final

import msgspec

from shared.events import (
    BreakEnded,
    BreakStarted,
    ChipsAdded,
    MoodReported,
    NoteAdded,
    Payload,
    SessionEnded,
    SessionStarted,
    StackCounted,
    Stakes,
    encode_event,
)
from shared.simulator import SessionLog

HERE: Final = Path(__file__).resolve().parent
SCRIPT: Final = HERE / "scenarios.txt"
EVENTS: Final = HERE / "events.jsonl"
LABELS: Final = HERE / "labels.jsonl"
_NAMESPACE: Final = uuid.UUID("6f1c1f0e-3b1a-4f43-9d55-5a3c3b0c7a11")


class Label(msgspec.Struct, frozen=True, tag_field="kind", tag="session"):
    session_id: str
    user: str
    archetype: str
    tilt_started_at: datetime | None
    reasons: list[str]


@dataclass(slots=True)
class _Session:
    user: str
    log: SessionLog
    label: Label | None = None

    @property
    def id(self) -> uuid.UUID:
        return self.log.session_id


@dataclass(slots=True)
class _Compiler:
    user: str = ""
    tz: timezone = UTC
    currency: str = "USD"
    sessions: list[_Session] = field(default_factory=list)
    onset: datetime | None = None
    count: int = 0

    def player(self, words: list[str]) -> None:
        name, offset, currency = words
        sign = -1 if offset.startswith("-") else 1
        hours, minutes = offset.lstrip("+-").split(":")
        self.user, self.currency, self.onset = name, currency, None
        self.tz = timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))

    def session(self, kind: str, head: str, steps: str) -> None:
        words = head.split()
        begin = datetime.fromisoformat(f"{words[0]}T{words[1]}").replace(tzinfo=self.tz)
        self.count += 1
        session = _Session(self.user, SessionLog(uuid.uuid5(_NAMESPACE, f"{self.user}/{self.count}"), "script"))
        self.sessions.append(session)
        if kind == "cash":
            small, big = (self._money(x) for x in words[2].split("/"))
            buy_in = self._money(words[3])
            stack = buy_in
            start: Payload = SessionStarted("cash", "NLH", self.currency, buy_in, Stakes(small, big))
        else:
            buy_in, stack = self._money(words[2]), 0
            start = SessionStarted("tournament", "NLH", self.currency, buy_in)
        now = begin
        self._emit(session, now, start)
        for step in (s.strip() for s in steps.split(",") if s.strip()):
            minutes, _, action = step.partition(" ")
            now += timedelta(minutes=float(minutes))
            stack = self._step(session, now, action.strip(), stack, kind)

    def _step(self, session: _Session, now: datetime, action: str, stack: int, kind: str) -> int:
        verb, _, rest = action.partition(" ")
        if verb[0] in "+-=":
            amount = self._money(verb[1:])
            stack = amount if verb[0] == "=" else max(0, stack + (amount if verb[0] == "+" else -amount))
            self._emit(session, now, StackCounted(stack))
        elif verb in {"rebuy", "topup"}:
            amount = self._money(rest)
            stack += amount
            self._emit(session, now, ChipsAdded(amount, "rebuy" if verb == "rebuy" else "top_up"))
        elif verb == "mood":
            self._emit(session, now, MoodReported(int(rest)))
        elif verb == "break":
            self._emit(session, now, BreakStarted())
            self._emit(session, now + timedelta(minutes=float(rest)), BreakEnded())
        elif verb == "note":
            tags = [w[1:] for w in rest.split() if w.startswith("#")]
            self._emit(session, now, NoteAdded(" ".join(w for w in rest.split() if not w.startswith("#")), tags))
        elif verb == "onset":
            self.onset = now
        elif verb == "end" and kind == "cash":
            self._emit(session, now, SessionEnded(cash_out=stack))
        elif verb == "end":
            place, entrants = (int(x) for x in rest.split()[0].split("/"))
            self._emit(session, now, SessionEnded(place=place, entrants=entrants, prize=self._money(rest.split()[1])))
        else:
            raise ValueError(f"unknown step {action!r} in a session of {self.user}")
        return stack

    def label(self, kind: str, text: str) -> None:
        archetype, *reasons = (part.strip() for part in text.split("|"))
        session = self.sessions[-1]
        onset = self.onset if kind == "episode" else None
        if kind == "episode" and onset is None:
            raise ValueError(f"episode {archetype} of {self.user} has no onset")
        session.label = Label(str(session.id), self.user, archetype, onset, reasons)
        self.onset = None

    def _emit(self, session: _Session, at: datetime, data: Payload) -> None:
        session.log.add(data, at, uuid.uuid5(_NAMESPACE, f"{session.id}/{len(session.log.events) + 1}"))

    def _money(self, text: str) -> int:
        return int(Decimal(text) * 100)


def compile_script(text: str) -> tuple[bytes, bytes]:
    """The events file and the labels file for a scenario script."""
    compiler = _Compiler()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        try:
            if keyword == "player":
                compiler.player(rest.split())
            elif keyword in {"cash", "tourney"}:
                head, _, steps = rest.partition(": ")
                compiler.session(keyword, head, steps)
            elif keyword in {"episode", "calm"}:
                compiler.label(keyword, rest)
            else:
                raise ValueError(f"unknown statement {keyword!r}")
        except (ValueError, IndexError) as exc:
            raise ValueError(f"scenarios line {number}: {exc}: {raw.strip()}") from None
    encoder = msgspec.json.Encoder()
    events = [(s.user, e) for s in compiler.sessions for e in s.log.events]
    events.sort(key=lambda pair: (pair[1].at, pair[0], pair[1].seq))
    events_out = b"".join(
        b'{"user":' + encoder.encode(user) + b',"event":' + encode_event(event) + b"}\n" for user, event in events
    )
    labels = [s.label or Label(str(s.id), s.user, "calm", None, []) for s in compiler.sessions]
    labels_out = b"".join(encoder.encode(label) + b"\n" for label in labels)
    return events_out, labels_out


def main() -> None:
    """Rewrite ``events.jsonl`` and ``labels.jsonl`` from ``scenarios.txt``."""
    events, labels = compile_script(SCRIPT.read_text(encoding="utf-8"))
    EVENTS.write_bytes(events)
    LABELS.write_bytes(labels)


if __name__ == "__main__":
    main()
