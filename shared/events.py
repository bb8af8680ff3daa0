"""The event schema: every tap a player makes, as one envelope around one typed payload.

Wire form (schema version 1)::

    {"id": "<uuid from the client>", "session_id": "<uuid>", "seq": 1, "type": "stack.counted",
     "at": "2026-11-23T21:04:05.120+01:00", "data": {"amount": 23500}}

Schema evolution (after msgspec's rules): a new field always gets a default, a field is never retyped or
renamed, a removed type stays decodable. ``v`` names the version an event was written with.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated, Any, Final, Literal

import msgspec

from shared.errors import InvalidEvent
from shared.money import Amount, Currency, is_currency

SCHEMA_VERSION: Final = 1
MAX_BATCH: Final = 500
MAX_FUTURE = timedelta(minutes=5)

Text = Annotated[str, msgspec.Meta(max_length=2000)]
Tag = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
Name = Annotated[str, msgspec.Meta(max_length=120)]
Game = Annotated[str, msgspec.Meta(min_length=1, max_length=20, description="NLH, PLO, PLO5, Stud, Mixed, ...")]
Seq = Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1, description="Per session and device, counting from 1")]
AwareTime = Annotated[datetime, msgspec.Meta(tz=True, description="RFC 3339 with offset, the device's clock")]


class Payload(msgspec.Struct, frozen=True, forbid_unknown_fields=False, gc=False):
    """Base of every event's ``data``."""


class Stakes(msgspec.Struct, frozen=True, gc=False):
    small_blind: Amount
    big_blind: Amount
    ante: Amount = 0


class SessionStarted(Payload, frozen=True, gc=False):
    format: Literal["cash", "tournament"]
    game: Game
    currency: Currency
    buy_in: Amount
    stakes: Stakes | None = None
    location: Name = ""
    table_size: Annotated[int, msgspec.Meta(ge=2, le=10)] = 9
    fee: Amount = 0
    bounty: Amount = 0
    tags: list[Tag] = []


class StackCounted(Payload, frozen=True, gc=False):
    amount: Amount


class ChipsAdded(Payload, frozen=True, gc=False):
    amount: Amount
    kind: Literal["rebuy", "add_on", "top_up"] = "rebuy"


class BreakStarted(Payload, frozen=True, gc=False):
    pass


class BreakEnded(Payload, frozen=True, gc=False):
    pass


class NoteAdded(Payload, frozen=True, gc=False):
    text: Text
    tags: list[Tag] = []


class MoodReported(Payload, frozen=True, gc=False):
    score: Annotated[int, msgspec.Meta(ge=1, le=5)]


class SessionEnded(Payload, frozen=True, gc=False):
    cash_out: Amount | None = None
    place: Annotated[int, msgspec.Meta(ge=1)] | None = None
    entrants: Annotated[int, msgspec.Meta(ge=1)] | None = None
    prize: Amount = 0
    bounties: Amount = 0
    tips: Amount = 0
    # Part of cash_out that came from jackpots or splash pots: profit, but kept out of the win rate.
    jackpot: Amount = 0
    # The real end when the player confirms a forgotten timer; the event's own ``at`` stays the tap time.
    ended_at: AwareTime | None = None


class TransactionRecorded(Payload, frozen=True, gc=False):
    kind: Literal["deposit", "withdrawal", "expense"]
    amount: Amount
    currency: Currency
    note: Text = ""


class TiltFeedback(Payload, frozen=True, gc=False):
    response: Literal["fine", "break"]


PAYLOADS: Final[dict[str, type[Payload]]] = {
    "session.started": SessionStarted,
    "stack.counted": StackCounted,
    "chips.added": ChipsAdded,
    "break.started": BreakStarted,
    "break.ended": BreakEnded,
    "note.added": NoteAdded,
    "mood.reported": MoodReported,
    "session.ended": SessionEnded,
    "transaction.recorded": TransactionRecorded,
    "tilt.feedback": TiltFeedback,
}
EventType = Literal[
    "session.started",
    "stack.counted",
    "chips.added",
    "break.started",
    "break.ended",
    "note.added",
    "mood.reported",
    "session.ended",
    "transaction.recorded",
    "tilt.feedback",
]


class Event(msgspec.Struct, frozen=True, gc=False):
    """One accepted event. ``device`` is stamped by the server from the token that posted it."""

    id: uuid.UUID
    session_id: uuid.UUID | None
    seq: Seq
    type: str
    at: AwareTime
    data: Payload
    v: int = SCHEMA_VERSION
    device: str = ""

    @property
    def order_key(self) -> tuple[datetime, str, int, str]:
        """Total order used by the reducer: device time, then device, then seq; arrival order never matters."""
        return (self.at, self.device, self.seq, str(self.id))

    @property
    def slot(self) -> str:
        """The (device, seq) slot this event occupies in its session; one event per slot."""
        return f"{self.device}:{self.seq}"


class _Envelope(msgspec.Struct, frozen=True, gc=False, forbid_unknown_fields=True):
    id: uuid.UUID
    seq: Seq
    type: str
    at: AwareTime
    session_id: uuid.UUID | None = None
    data: msgspec.Raw = msgspec.Raw(b"{}")
    v: int = SCHEMA_VERSION
    device: str = ""


_ENVELOPE = msgspec.json.Decoder(_Envelope)
_DATA_DECODERS: Final = {name: msgspec.json.Decoder(cls) for name, cls in PAYLOADS.items()}
_ENCODER = msgspec.json.Encoder()


def decode_event(raw: bytes, *, device: str | None = None) -> Event:
    """Decode and check one event in wire form.

    Args:
        raw: the event's JSON.
        device: when given, overrides the device recorded in the event (the server stamps its own).

    Raises:
        InvalidEvent: with a message naming the field, the value and the rule.
    """
    try:
        env = _ENVELOPE.decode(raw)
    except msgspec.ValidationError as exc:
        raise InvalidEvent(str(exc)) from None
    except msgspec.DecodeError as exc:
        raise InvalidEvent(f"event is not valid JSON: {exc}") from None
    decoder = _DATA_DECODERS.get(env.type)
    if decoder is None:
        known = ", ".join(sorted(PAYLOADS))
        raise InvalidEvent(f"unknown event type {env.type!r} at `$.type`; known types: {known}")
    try:
        data = decoder.decode(env.data)
    except msgspec.ValidationError as exc:
        raise InvalidEvent(str(exc).replace("`$", "`$.data")) from None
    event = Event(
        id=env.id,
        session_id=env.session_id,
        seq=env.seq,
        type=env.type,
        at=env.at,
        data=data,
        v=env.v,
        device=env.device if device is None else device,
    )
    _check_rules(event)
    return event


def _check_rules(event: Event) -> None:
    """Rules one schema cannot say: cross-field checks of a single event."""
    data = event.data
    if event.session_id is None and event.type != "transaction.recorded":
        raise InvalidEvent(f"`$.session_id` is required for {event.type!r}; only transaction.recorded may omit it")
    if isinstance(data, SessionStarted | TransactionRecorded) and not is_currency(data.currency):
        raise InvalidEvent(f"`$.data.currency` {data.currency!r} is not an ISO 4217 currency code")
    if isinstance(data, SessionStarted):
        if data.format == "cash" and (data.stakes is None or data.stakes.big_blind == 0):
            raise InvalidEvent("`$.data.stakes.big_blind` must be > 0 for a cash game")
        if data.stakes is not None and data.stakes.small_blind > data.stakes.big_blind:
            sb, bb = data.stakes.small_blind, data.stakes.big_blind
            raise InvalidEvent(f"`$.data.stakes.small_blind` {sb} is larger than big_blind {bb}")
    if isinstance(data, SessionEnded) and data.ended_at is not None and data.ended_at > event.at:
        raise InvalidEvent("`$.data.ended_at` is after the event's own time; the real end cannot be in the future")


def check_not_in_future(event: Event, now: datetime) -> None:
    """Reject device times far ahead of the server clock (a broken phone clock would corrupt hourly rates)."""
    if event.at - now > MAX_FUTURE:
        raise InvalidEvent(
            f"`$.at` {event.at.isoformat()} is {int((event.at - now).total_seconds())} s ahead of the server clock; "
            f"at most {int(MAX_FUTURE.total_seconds())} s is allowed"
        )


def encode_event(event: Event) -> bytes:
    """Canonical wire form of an accepted event (stable bytes: used to compare retries)."""
    return _ENCODER.encode(event)


def encode_events(events: list[Event]) -> bytes:
    """A JSON array of events in wire form."""
    return _ENCODER.encode(events)


def to_wire(event: Event) -> dict[str, Any]:
    """The event as plain JSON-ready builtins."""
    result: dict[str, Any] = msgspec.to_builtins(event)
    return result


_RAW_LIST = msgspec.json.Decoder(list[msgspec.Raw])


def split_events(raw_array: bytes) -> list[msgspec.Raw]:
    """Split a JSON array of events into raw items so each can be decoded (and rejected) on its own."""
    return _RAW_LIST.decode(raw_array)
