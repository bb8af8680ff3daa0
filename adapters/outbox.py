"""The outbox entry: what one accepted batch hands from the API to the workers through a Redis stream."""

from __future__ import annotations

import msgspec

from shared.amendments import Amended
from shared.events import Event, decode_stored
from shared.reducer import SessionState


class OutboxEntry(msgspec.Struct, frozen=True, gc=False):
    """The accepted events of one batch and the new state of each session they touched (lists left out).

    ``amended``: the transactions that the batch's voids and corrections name, as they count now (a session's
    amendments need no such list: its new state already counts them).
    """

    user_id: str
    events: list[Event]
    states: list[SessionState]
    amended: list[Amended] = []


ENTRY_FIELD = b"b"
_ENCODER = msgspec.json.Encoder()


class _StoredAmended(msgspec.Struct, frozen=True, gc=False):
    event: msgspec.Raw
    voided: bool
    revision: int


class _Stored(msgspec.Struct, frozen=True, gc=False):
    user_id: str
    events: list[msgspec.Raw]
    states: list[SessionState]
    amended: list[_StoredAmended] = []


_DECODER = msgspec.json.Decoder(_Stored)


def encode_entry(entry: OutboxEntry) -> bytes:
    return _ENCODER.encode(entry)


def decode_entry(raw: bytes) -> OutboxEntry:
    """Read an entry with the stored-event decoder: no intake rule is applied again to accepted events."""
    stored = _DECODER.decode(raw)
    amended = [Amended(decode_stored(a.event), a.voided, a.revision) for a in stored.amended]
    return OutboxEntry(stored.user_id, [decode_stored(e) for e in stored.events], stored.states, amended)
