"""The outbox entry: what one accepted batch hands from the API to the workers through a Redis stream."""

from __future__ import annotations

import msgspec

from shared.events import Event
from shared.reducer import SessionState


class OutboxEntry(msgspec.Struct, frozen=True, gc=False):
    """The accepted events of one batch and the new state of each session they touched (lists left out)."""

    user_id: str
    events: list[Event]
    states: list[SessionState]


ENTRY_FIELD = b"b"
_DECODER = msgspec.json.Decoder(OutboxEntry)
_ENCODER = msgspec.json.Encoder()


def encode_entry(entry: OutboxEntry) -> bytes:
    return _ENCODER.encode(entry)


def decode_entry(raw: bytes) -> OutboxEntry:
    return _DECODER.decode(raw)
