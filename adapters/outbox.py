"""The outbox entry: what one accepted batch hands from the API to the workers through a Redis stream."""

from __future__ import annotations

import msgspec

from shared.events import Event, decode_event, encode_event
from shared.reducer import SessionState


class OutboxEntry(msgspec.Struct, frozen=True, gc=False):
    """The accepted events of one batch and the new state of each session they touched (lists left out)."""

    user_id: str
    events: list[Event]
    states: list[SessionState]


class _Wire(msgspec.Struct, frozen=True, gc=False):
    # Events travel in their own wire form: `Event.data` is a base type, so a generic decode would lose the
    # payload's fields; `decode_event` picks the payload type from the event's `type`.
    user_id: str
    events: list[msgspec.Raw]
    states: list[SessionState]


ENTRY_FIELD = b"b"
_DECODER = msgspec.json.Decoder(_Wire)
_ENCODER = msgspec.json.Encoder()


def encode_entry(entry: OutboxEntry) -> bytes:
    events = [msgspec.Raw(encode_event(e)) for e in entry.events]
    return _ENCODER.encode(_Wire(user_id=entry.user_id, events=events, states=entry.states))


def decode_entry(raw: bytes) -> OutboxEntry:
    wire = _DECODER.decode(raw)
    return OutboxEntry(user_id=wire.user_id, events=[decode_event(bytes(e)) for e in wire.events], states=wire.states)
