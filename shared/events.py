"""The event schema: every tap a player makes, as a tagged union of one Struct per event type.

Wire form (schema version 1)::

    {"type": "stack.counted", "id": "<uuid from the client>", "session_id": "<uuid>", "seq": 1,
     "at": "2026-11-23T21:04:05.120+01:00", "data": {"amount": 23500}}

Two decoders read it:

- ``decode_event`` is the **intake**: the strict schema (bounds, unknown fields refused, duplicate keys
  refused) plus the rules one schema cannot say (``admit``: cross-field checks, the time window, times
  truncated to milliseconds). Only new events from a client or an import go through it.
- ``decode_stored`` reads events already accepted (outbox, live state, exports): the same shapes with no
  bounds and no rules, so tightening a rule never makes an accepted event unreadable.

Schema evolution (after msgspec's rules): a new field always gets a default, a field is never retyped or
renamed, a removed type stays decodable. ``v`` names the version an event was written with.
"""

from __future__ import annotations

import json
import types
import typing
import uuid
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Annotated, Any, Final, Literal, get_args, get_origin, get_type_hints

import msgspec

from shared.columns import bounded
from shared.errors import InvalidEvent
from shared.money import MAX_AMOUNT, Amount, Currency, is_currency

SCHEMA_VERSION: Final = 1
MAX_BATCH: Final = 500
MAX_FUTURE: Final = timedelta(minutes=5)
# Nothing this app records happened before it could have: older times are typos or broken clocks, and a
# session started in 1860 would overflow the warehouse's played-seconds column.
EARLIEST: Final = datetime(2000, 1, 1, tzinfo=UTC)

Text = Annotated[str, msgspec.Meta(max_length=2000)]
Tag = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
Name = Annotated[str, msgspec.Meta(max_length=120)]
Game = Annotated[str, msgspec.Meta(min_length=1, max_length=20, description="NLH, PLO, PLO5, Stud, Mixed, ...")]
Seq = Annotated[int, bounded("UInt32", ge=1, le=2**31 - 1, description="Per session and device, counting from 1")]
Version = Annotated[
    int, bounded("UInt16", ge=1, le=SCHEMA_VERSION, description="Schema version the event was written in")
]
AwareTime = Annotated[datetime, msgspec.Meta(tz=True, description="RFC 3339 with offset, the device's clock")]
Tags = Annotated[list[Tag], msgspec.Meta(max_length=20)]
Place = Annotated[int, bounded("UInt32", ge=1, description="Finishing place or field size, at most 4,294,967,295")]
TableSize = Annotated[int, bounded("UInt8", ge=2, le=10)]
Chips = Annotated[int, bounded("Int64", ge=1, le=MAX_AMOUNT, description="A tournament chip count, not money")]
# Caps on one session, each a precise rejection at intake. They also bound every total the reducer adds up:
# MAX_EVENTS_PER_SESSION amounts of at most MAX_AMOUNT stay far inside an Int64 (tests/unit/test_columns.py).
MAX_EVENTS_PER_SESSION: Final = 2000
MAX_NOTES_PER_SESSION: Final = 200
# The games the start form lists first (any other name up to 20 characters is fine: "other" on the phone).
GAMES: Final = ("NLH", "PLO", "PLO5", "PLO8", "Stud", "Razz", "Mixed", "Short Deck")
# Formats whose start must name a big blind (a tournament's blinds change and may be left out).
BIG_BLIND_REQUIRED_FOR: Final = ("cash",)


class Payload(msgspec.Struct, frozen=True, forbid_unknown_fields=True, gc=False):
    """Base of every event's ``data``."""


class Stakes(msgspec.Struct, frozen=True, forbid_unknown_fields=True, gc=False):
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
    table_size: TableSize = 9
    fee: Amount = 0
    bounty: Amount = 0
    tags: Tags = []
    # Tournaments: the chips each player starts with (a count, not money) and the field size when known at the
    # start; the end may give entrants again (the final field), which then wins.
    starting_stack: Chips | None = None
    entrants: Place | None = None


class StackCounted(Payload, frozen=True, gc=False, omit_defaults=True):
    # Money in minor units at a cash game, chips at a tournament (counted, never turned into money).
    amount: Amount
    # A tournament's blinds at this count, in chips (they go up by level): the live big-blind count and M follow
    # them. Ignored at a cash game, whose stakes are the start's. Left out of the encoding when absent, so a count
    # stored before blinds existed encodes byte for byte as it did (a resend of it stays a duplicate).
    blinds: Stakes | None = None


class ChipsAdded(Payload, frozen=True, gc=False):
    amount: Amount
    kind: Literal["rebuy", "add_on", "top_up"] = "rebuy"


class BreakStarted(Payload, frozen=True, gc=False):
    pass


class BreakEnded(Payload, frozen=True, gc=False):
    pass


class NoteAdded(Payload, frozen=True, gc=False):
    text: Text
    tags: Tags = []


class MoodReported(Payload, frozen=True, gc=False):
    score: Annotated[int, msgspec.Meta(ge=1, le=5)]


class SessionEnded(Payload, frozen=True, gc=False):
    cash_out: Amount | None = None
    place: Place | None = None
    entrants: Place | None = None
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


class EventVoided(Payload, frozen=True, gc=False):
    """An earlier event of the same session (or bankroll) no longer counts. History keeps both events."""

    event_id: uuid.UUID


class EventCorrected(Payload, frozen=True, gc=False):
    """An earlier event of the same session (or bankroll) counts with ``data`` instead of its own payload.

    ``data`` is a whole payload of the target's type, checked at intake with that type's schema and rules
    (``check_amendment``); the schema here cannot say which type, so it is kept as a JSON object.
    """

    event_id: uuid.UUID
    data: dict[str, Any]


class EventBase(msgspec.Struct, frozen=True, gc=False, kw_only=True, forbid_unknown_fields=True, tag_field="type"):
    """The envelope every event shares. ``device`` is stamped by the server from the token that posted it."""

    id: uuid.UUID
    session_id: uuid.UUID | None = None
    seq: Seq
    at: AwareTime
    data: Payload
    v: Version = SCHEMA_VERSION
    device: str = ""

    @property
    def type(self) -> str:
        """The event type, as on the wire (``"stack.counted"``)."""
        tag: str = self.__struct_config__.tag  # type: ignore[assignment]  # every concrete event has a str tag
        return tag

    @property
    def order_key(self) -> tuple[datetime, str, int, str]:
        """Total order used by the reducer: device time, then device, then seq; arrival order never matters."""
        return (self.at, self.device, self.seq, str(self.id))

    @property
    def slot(self) -> str:
        """The (device, seq) slot this event occupies in its session; one event per slot."""
        return f"{self.device}:{self.seq}"


class SessionStartedEvent(EventBase, frozen=True, gc=False, tag="session.started"):
    data: SessionStarted


class StackCountedEvent(EventBase, frozen=True, gc=False, tag="stack.counted"):
    data: StackCounted


class ChipsAddedEvent(EventBase, frozen=True, gc=False, tag="chips.added"):
    data: ChipsAdded


class BreakStartedEvent(EventBase, frozen=True, gc=False, tag="break.started"):
    data: BreakStarted = BreakStarted()


class BreakEndedEvent(EventBase, frozen=True, gc=False, tag="break.ended"):
    data: BreakEnded = BreakEnded()


class NoteAddedEvent(EventBase, frozen=True, gc=False, tag="note.added"):
    data: NoteAdded


class MoodReportedEvent(EventBase, frozen=True, gc=False, tag="mood.reported"):
    data: MoodReported


class SessionEndedEvent(EventBase, frozen=True, gc=False, tag="session.ended"):
    data: SessionEnded


class TransactionRecordedEvent(EventBase, frozen=True, gc=False, tag="transaction.recorded"):
    data: TransactionRecorded


class TiltFeedbackEvent(EventBase, frozen=True, gc=False, tag="tilt.feedback"):
    data: TiltFeedback


class EventVoidedEvent(EventBase, frozen=True, gc=False, tag="event.voided"):
    data: EventVoided


class EventCorrectedEvent(EventBase, frozen=True, gc=False, tag="event.corrected"):
    data: EventCorrected


Event = (
    SessionStartedEvent
    | StackCountedEvent
    | ChipsAddedEvent
    | BreakStartedEvent
    | BreakEndedEvent
    | NoteAddedEvent
    | MoodReportedEvent
    | SessionEndedEvent
    | TransactionRecordedEvent
    | TiltFeedbackEvent
    | EventVoidedEvent
    | EventCorrectedEvent
)
EVENT_TYPES: Final[tuple[type[EventBase], ...]] = get_args(Event)
_BY_PAYLOAD: Final[dict[type[Payload], type[EventBase]]] = {get_type_hints(c)["data"]: c for c in EVENT_TYPES}


def payload_types() -> dict[type[EventBase], type[Payload]]:
    """Each event class with the class of its ``data``."""
    return {cls: payload for payload, cls in _BY_PAYLOAD.items()}


def make_event(
    data: Payload,
    *,
    id: uuid.UUID,
    session_id: uuid.UUID | None,
    seq: int,
    at: datetime,
    device: str = "",
) -> Event:
    """Build the event that carries ``data`` (its type follows from the payload's class)."""
    cls = _BY_PAYLOAD[type(data)]
    event: Event = cls(id=id, session_id=session_id, seq=seq, at=at, data=data, device=device)  # type: ignore[assignment]
    return event


# --- the stored form: the same shapes with every bound and the unknown-field check taken off -------------------


def _loose(tp: Any) -> Any:
    """The type ``tp`` with its constraints removed; Structs become loose subclasses of themselves."""
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        return _loose_struct(tp)
    origin = get_origin(tp)
    if origin is Annotated:
        return _loose(get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        loose_args = tuple(_loose(a) for a in get_args(tp))
        return typing.Union[loose_args]  # noqa: UP007 — built from a tuple at run time
    if origin is list:
        return list[_loose(get_args(tp)[0])]  # type: ignore[misc]
    return tp


@cache
def _loose_struct(cls: type[msgspec.Struct]) -> type[msgspec.Struct]:
    hints = get_type_hints(cls, include_extras=True)
    fields: list[tuple[str, Any, Any]] = []
    for f in msgspec.structs.fields(cls):
        if f.default_factory is not msgspec.NODEFAULT:
            default = msgspec.field(default_factory=f.default_factory)
        else:
            default = msgspec.field(default=f.default) if f.default is not msgspec.NODEFAULT else msgspec.NODEFAULT
        fields.append((f.name, _loose(hints[f.name]), default))
    config = cls.__struct_config__
    return msgspec.defstruct(
        f"Stored{cls.__name__}",
        [(n, t) if d is msgspec.NODEFAULT else (n, t, d) for n, t, d in fields],
        bases=(cls,),
        module=__name__,
        frozen=True,
        gc=False,
        kw_only=True,
        forbid_unknown_fields=False,
        tag=config.tag,
        tag_field=config.tag_field,
    )


_STORED_TYPES = tuple(_loose_struct(c) for c in EVENT_TYPES)
_PAYLOAD_TYPES: Final[dict[str, type[Payload]]] = {
    c.__struct_config__.tag: get_type_hints(c)["data"]  # type: ignore[misc]
    for c in EVENT_TYPES
}


def payload_type(event_type: str, *, stored: bool = False) -> type[Payload]:
    """The payload Struct of an event type: the intake's (bounded), or with ``stored`` the loose stored form."""
    cls = _PAYLOAD_TYPES[event_type]
    return _loose_struct(cls) if stored else cls  # type: ignore[return-value]


_STORED: Final = msgspec.json.Decoder(typing.Union[_STORED_TYPES])  # noqa: UP007
_INTAKE: Final = msgspec.json.Decoder(Event)
_ENCODER: Final = msgspec.json.Encoder()


def decode_stored(raw: bytes) -> Event:
    """Read an event that was accepted earlier (outbox, live state, warehouse): no bounds, no intake rules.

    Raises:
        InvalidEvent: the bytes are not an event at all (corrupt storage, never a rule tightened since).
    """
    try:
        event: Event = _STORED.decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise InvalidEvent(f"stored event cannot be read: {exc}") from None
    return event


# --- intake -----------------------------------------------------------------------------------------------------


def decode_event(raw: bytes, *, device: str | None = None, now: datetime | None = None) -> Event:
    """Decode and check one new event in wire form: the schema, then the intake rules (``admit``).

    Args:
        raw: the event's JSON.
        device: when given, overrides the device recorded in the event (the server stamps its own).
        now: the server's clock for the time window; the current time when not given.

    Raises:
        InvalidEvent: with a message naming the field, the value and the rule.
    """
    try:
        event: Event = _INTAKE.decode(raw)
        _refuse_duplicate_keys(raw)
    except msgspec.ValidationError as exc:
        raise InvalidEvent(_schema_message(str(exc))) from None
    except msgspec.DecodeError as exc:
        raise InvalidEvent(f"event is not valid JSON: {exc}") from None
    except UnicodeDecodeError as exc:
        raise InvalidEvent(f"event is not valid UTF-8: {exc.reason}") from None
    except RecursionError:
        raise InvalidEvent("event is nested too deeply to be an event") from None
    except ValueError as exc:  # the standard library's view of the same bytes (duplicate-key scan)
        raise InvalidEvent(f"event is not valid JSON: {exc}") from None
    if device is not None:
        event = msgspec.structs.replace(event, device=device)
    return admit(event, now if now is not None else datetime.now(UTC))


def _schema_message(message: str) -> str:
    if message.startswith("Invalid value ") and message.endswith(" - at `$.type`"):
        value = message.removeprefix("Invalid value ").removesuffix(" - at `$.type`")
        known = ", ".join(sorted(c.__struct_config__.tag for c in EVENT_TYPES))  # type: ignore[misc]
        return f"unknown event type {value} at `$.type`; known types: {known}"
    if message.startswith("Object contains unknown field"):
        return f"{message}: this field is not part of the event schema (version {SCHEMA_VERSION})"
    return message


def _refuse_duplicate_keys(raw: bytes) -> None:
    # msgspec keeps the last of two equal keys without a word; a client that sends both meant something else.
    json.loads(raw, object_pairs_hook=_unique_keys)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise InvalidEvent(f"key {key!r} appears twice in one object; each key may appear once")
        seen.add(key)
    return {}


def admit(event: Event, now: datetime) -> Event:
    """The intake rules one schema cannot say, for an event already in its typed form.

    Returns the event as it is stored: its times truncated to milliseconds (the warehouse keeps milliseconds,
    so the live state and a replay fold the same times).

    Raises:
        InvalidEvent: naming the field, the value and the rule.
    """
    _check_rules(event)
    check_time_window(event.at, now, "$.at")
    event = _in_millis(event)
    if isinstance(event.data, SessionEnded) and event.data.ended_at is not None:
        check_time_window(event.data.ended_at, now, "$.data.ended_at")
    return event


def _check_rules(event: Event) -> None:
    data = event.data
    if event.session_id is None and not isinstance(data, TransactionRecorded | EventVoided | EventCorrected):
        raise InvalidEvent(
            f"`$.session_id` is required for {event.type!r}; only transaction.recorded (and a void or correction "
            "of one) may omit it"
        )
    if isinstance(data, SessionStarted | TransactionRecorded) and not is_currency(data.currency):
        raise InvalidEvent(f"`$.data.currency` {data.currency!r} is not an ISO 4217 currency code")
    if isinstance(data, SessionStarted):
        if data.format in BIG_BLIND_REQUIRED_FOR and (data.stakes is None or data.stakes.big_blind == 0):
            raise InvalidEvent("`$.data.stakes.big_blind` must be > 0 for a cash game")
        if data.stakes is not None and data.stakes.small_blind > data.stakes.big_blind:
            sb, bb = data.stakes.small_blind, data.stakes.big_blind
            raise InvalidEvent(f"`$.data.stakes.small_blind` {sb} is larger than big_blind {bb}")
    if isinstance(data, StackCounted) and data.blinds is not None and data.blinds.small_blind > data.blinds.big_blind:
        sb, bb = data.blinds.small_blind, data.blinds.big_blind
        raise InvalidEvent(f"`$.data.blinds.small_blind` {sb} is larger than big_blind {bb}")
    if isinstance(data, SessionEnded):
        if data.ended_at is not None and data.ended_at > event.at:
            raise InvalidEvent("`$.data.ended_at` is after the event's own time; the real end cannot be in the future")
        if data.place is not None and data.entrants is not None and data.place > data.entrants:
            raise InvalidEvent(
                f"`$.data.place` {data.place} is larger than `$.data.entrants` {data.entrants}; "
                "a finishing place is at most the field size"
            )


def check_time_window(at: datetime, now: datetime, path: str = "$.at") -> None:
    """Refuse times before ``EARLIEST`` or more than ``MAX_FUTURE`` ahead of the server clock.

    A broken phone clock would otherwise corrupt hourly rates and the warehouse's time columns.
    """
    if at < EARLIEST:
        raise InvalidEvent(
            f"`{path}` {at.isoformat()} is before {EARLIEST.date().isoformat()}, the earliest time accepted"
        )
    if at - now > MAX_FUTURE:
        raise InvalidEvent(
            f"`{path}` {at.isoformat()} is {int((at - now).total_seconds())} s ahead of the server clock; "
            f"at most {int(MAX_FUTURE.total_seconds())} s is allowed"
        )


def millis(at: datetime) -> datetime:
    """The time truncated to whole milliseconds, the precision every store keeps."""
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


def _in_millis(event: Event) -> Event:
    if event.at.microsecond % 1000:
        event = msgspec.structs.replace(event, at=millis(event.at))
    data = event.data
    if isinstance(data, SessionEnded) and data.ended_at is not None and data.ended_at.microsecond % 1000:
        ended = msgspec.structs.replace(data, ended_at=millis(data.ended_at))
        event = msgspec.structs.replace(event, data=ended)
    return event


def encode_event(event: Event) -> bytes:
    """Canonical wire form of an accepted event (stable bytes: used to compare retries)."""
    return _ENCODER.encode(event)


def to_wire(event: Event) -> dict[str, Any]:
    """The event as plain JSON-ready builtins."""
    result: dict[str, Any] = msgspec.to_builtins(event)
    return result
