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


class FanoutFigures(msgspec.Struct, frozen=True, gc=False, kw_only=True):
    """What an operator watches of the fan-out, read from Redis (true whichever process runs the worker)."""

    outbox_length: int  # entries in the outbox stream (trimmed once every sink took them)
    backlog: dict[str, int]  # sink -> entries it has yet to take (read-but-unacked plus unread)
    lag_s: dict[str, float]  # sink -> age of the oldest entry it has yet to take; 0 when it is caught up
    dead_letters: dict[str, int]  # sink -> entries it gave up on

    def flat(self) -> dict[str, int]:
        """The figures as ``/readyz`` shows them: ``dead_letters``, ``backlog_<sink>``, ``lag_ms_<sink>``."""
        return {
            "dead_letters": sum(self.dead_letters.values()),
            "outbox_length": self.outbox_length,
            **{f"backlog_{name}": n for name, n in self.backlog.items()},
            **{f"lag_ms_{name}": round(s * 1000) for name, s in self.lag_s.items()},
        }


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
