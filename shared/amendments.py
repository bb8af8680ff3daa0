"""Voids and corrections: the events they may name, and which events count once they are applied.

History is never rewritten. Undoing a tap records ``event.voided {event_id}``; editing one records
``event.corrected {event_id, data}`` with the whole corrected payload. Every reader (the reducer, and through it the
live state, the warehouse rows, the statistics, the exports and the tilt features) folds ``effective(events)``.

The rules (docs/api.md, "Voids and corrections"):

- The target is an earlier event of the same session (for a transaction: of the same user's bankroll), found by
  its id; a void or correction of anything else is refused.
- A void or a correction cannot itself be voided or corrected: correct the original event again instead.
- ``session.started`` and ``session.ended`` can be corrected (stakes, location, buy-in; cash-out, place, prize,
  real end) but not voided: a session cannot be un-started or un-ended.
- Corrections of one event: the latest wins, "latest" meaning the correction's device time ``at``, then its event
  id, so arrival order and duplicates never change the outcome. That is also the rule when two devices correct
  the same event: the later device time wins, ties broken by the larger id.
- A void beats every correction of its event, whatever their times: a deleted event stays deleted.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from functools import cache
from typing import Any, Final

import msgspec

from shared.errors import InvalidEvent
from shared.events import Event, EventCorrected, EventVoided, Payload, admit, make_event, payload_type

# Events that stay, whatever comes after them: the session exists from its start, and stays ended after its end.
UNVOIDABLE: Final = {
    "session.started": "a session's start cannot be voided; correct its details (stakes, location, buy-in) instead",
    "session.ended": "a session's end cannot be voided; correct its cash-out, place, prize or real end instead",
}
_ENC: Final = msgspec.json.Encoder()


def is_amendment(event: Event) -> bool:
    """Whether the event voids or corrects another one."""
    return isinstance(event.data, EventVoided | EventCorrected)


def target_of(event: Event) -> uuid.UUID | None:
    """The id of the event this one voids or corrects; None for every other event."""
    if isinstance(event.data, EventVoided | EventCorrected):
        return event.data.event_id
    return None


def check_amendment(amendment: Event, target: Event | None, now: datetime) -> Event:
    """The intake rule of a void or correction, given the event it names (None: not in this session).

    Returns the amendment as it is stored: a correction's ``data`` in its canonical form (checked with the schema
    and the intake rules of the target's type, times truncated to milliseconds).

    Raises:
        InvalidEvent: naming the field, the value and the rule.
    """
    data = amendment.data
    assert isinstance(data, EventVoided | EventCorrected)
    if target is None:
        raise InvalidEvent(
            f"`$.data.event_id` {data.event_id} is not an event of this session; "
            "a void or correction names an earlier event of its own session (or bankroll)"
        )
    if is_amendment(target):
        raise InvalidEvent(
            f"`$.data.event_id` {data.event_id} is a {target.type}; a void or correction cannot be voided or "
            "corrected: correct the original event again"
        )
    if isinstance(data, EventVoided):
        if target.type in UNVOIDABLE:
            raise InvalidEvent(f"`$.data.event_id` {data.event_id} is a {target.type}: {UNVOIDABLE[target.type]}")
        return amendment
    payload = _intake_payload(target.type, data.data)
    try:
        corrected = admit(_with_payload(target, payload), now)
    except InvalidEvent as exc:
        raise InvalidEvent(_in_correction(str(exc), "`$.data.")) from None
    canonical = msgspec.to_builtins(corrected.data)
    return msgspec.structs.replace(amendment, data=EventCorrected(event_id=data.event_id, data=canonical))


def _intake_payload(event_type: str, data: dict[str, Any]) -> Payload:
    try:
        payload: Payload = _intake_decoder(event_type).decode(_ENC.encode(data))
    except msgspec.ValidationError as exc:
        message = _in_correction(str(exc), "`$.")
        raise InvalidEvent(f"{message}; a correction carries a whole {event_type} payload") from None
    return payload


def _in_correction(message: str, prefix: str) -> str:
    """A path in the corrected payload (``prefix`` + ``amount``) as the path inside the correction event."""
    return message.replace(prefix, "`$.data.data.").replace("`$`", "`$.data.data`")


def _with_payload(target: Event, payload: Payload) -> Event:
    return make_event(
        payload, id=target.id, session_id=target.session_id, seq=target.seq, at=target.at, device=target.device
    )


@cache
def _intake_decoder(event_type: str) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(payload_type(event_type))


@cache
def _stored_decoder(event_type: str) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(payload_type(event_type, stored=True))


def corrected_payload(target: Event, data: dict[str, Any]) -> Payload | None:
    """A stored correction's payload for its target, read without intake rules; None if it does not fit the type."""
    try:
        payload: Payload = _stored_decoder(target.type).decode(_ENC.encode(data))
    except msgspec.ValidationError:
        return None
    return payload


def _latest(correction: Event) -> tuple[datetime, str]:
    return (correction.at, str(correction.id))


def effective(events: Iterable[Event]) -> list[Event]:
    """The events that count, each with its latest correction applied; voided events and amendments left out.

    ``events`` are one session's (or one bankroll's) events, already deduplicated. The order of the input is kept.
    """
    events = list(events)
    by_id = {e.id: e for e in events}
    voided: set[uuid.UUID] = set()
    latest: dict[uuid.UUID, tuple[Event, Payload]] = {}
    for event in events:
        data = event.data
        target = by_id.get(data.event_id) if isinstance(data, EventVoided | EventCorrected) else None
        if target is None or is_amendment(target):
            continue
        if isinstance(data, EventVoided):
            if target.type not in UNVOIDABLE:
                voided.add(target.id)
        elif isinstance(data, EventCorrected):
            best = latest.get(target.id)
            payload = corrected_payload(target, data.data)
            if payload is not None and (best is None or _latest(event) > _latest(best[0])):
                latest[target.id] = (event, payload)
    out: list[Event] = []
    for event in events:
        if is_amendment(event) or event.id in voided:
            continue
        found = latest.get(event.id)
        out.append(msgspec.structs.replace(event, data=found[1]) if found is not None else event)
    return out


def amendments_by_target(events: Iterable[Event]) -> dict[str, list[Event]]:
    """Each amended event's id with its voids and corrections, in device-time order (for screens and exports)."""
    found: dict[str, list[Event]] = {}
    for event in sorted(events, key=_latest):
        target = target_of(event)
        if target is not None:
            found.setdefault(str(target), []).append(event)
    return found


class Amended(msgspec.Struct, frozen=True, gc=False):
    """An event as it counts after its voids and corrections; ``revision``: how many of them name it."""

    event: Event
    voided: bool
    revision: int


def amended(events: Iterable[Event], targets: Iterable[uuid.UUID]) -> list[Amended]:
    """Each of the ``targets`` (ids among ``events``, one stream's deduplicated events) as it counts now.

    The revision only grows as voids and corrections arrive, so a store keeping the highest revision keeps the latest.
    """
    events = list(events)
    counts: dict[uuid.UUID, int] = {}
    for event in events:
        target = target_of(event)
        if target is not None:
            counts[target] = counts.get(target, 0) + 1
    kept = {e.id: e for e in effective(events)}
    by_id = {e.id: e for e in events}
    out: list[Amended] = []
    for target in sorted(set(targets), key=str):
        original = by_id.get(target)
        if original is None or is_amendment(original):
            continue
        current = kept.get(target)
        out.append(Amended(event=current or original, voided=current is None, revision=counts.get(target, 0)))
    return out
