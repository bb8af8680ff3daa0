"""Dead letters: outbox entries a sink could not take, kept with the reason so nothing is lost or retried forever.

One stream (``keys.DEAD_LETTERS``), one record per (sink, entry): the sink, the outbox id, the reason, the user,
the event ids and the entry's bytes. ``replay`` puts the entries back on the outbox; every sink is idempotent,
so the sinks that had taken them already do no harm, and an entry still refused comes back here.
"""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from redis.asyncio import Redis

from adapters import keys
from adapters.outbox import ENTRY_FIELD, OutboxEntry

log = logging.getLogger(__name__)

MAX_DEAD_LETTERS = 100_000  # approximate cap of the stream (an operator replays or deletes long before)
MAX_REASON_CHARS = 2_000


class DeadLetter(msgspec.Struct, frozen=True):
    """One entry a sink gave up on."""

    id: str  # in the dead-letter stream
    sink: str
    outbox_id: str
    reason: str
    user_id: str
    event_ids: list[str]
    entry: bytes


class _Loose(msgspec.Struct):
    """Enough of an undecodable entry to name its user and events."""

    user_id: str = "?"
    events: list[dict[str, Any]] = []


def _who(raw: bytes) -> tuple[str, list[str]]:
    try:
        loose = msgspec.json.decode(raw, type=_Loose)
    except msgspec.DecodeError:
        return "?", []
    return loose.user_id, [str(e.get("id", "?")) for e in loose.events]


async def dead_letter(
    redis: Redis, sink: str, outbox_id: bytes, raw: bytes, reason: str, entry: OutboxEntry | None = None
) -> None:
    """Record that ``sink`` gave up on outbox entry ``outbox_id`` and log it (the caller then acks it)."""
    user_id, event_ids = (entry.user_id, [str(e.id) for e in entry.events]) if entry else _who(raw)
    reason = reason[:MAX_REASON_CHARS]
    await redis.xadd(
        keys.DEAD_LETTERS,
        {
            b"sink": sink,
            b"outbox_id": outbox_id,
            b"reason": reason,
            b"user_id": user_id,
            b"event_ids": msgspec.json.encode(event_ids),
            ENTRY_FIELD: raw,
        },
        maxlen=MAX_DEAD_LETTERS,
        approximate=True,
    )
    log.error(
        "dead letter: sink %s gave up on outbox entry %s of user %s (events %s): %s",
        sink,
        outbox_id.decode(),
        user_id,
        ", ".join(event_ids),
        reason,
    )


def _text(fields: dict[bytes, bytes], name: bytes) -> str:
    return fields.get(name, b"").decode(errors="replace")


def _record(message_id: bytes, fields: dict[bytes, bytes]) -> DeadLetter:
    return DeadLetter(
        id=message_id.decode(),
        sink=_text(fields, b"sink"),
        outbox_id=_text(fields, b"outbox_id"),
        reason=_text(fields, b"reason"),
        user_id=_text(fields, b"user_id"),
        event_ids=msgspec.json.decode(fields.get(b"event_ids", b"[]"), type=list[str]),
        entry=fields.get(ENTRY_FIELD, b""),
    )


async def count(redis: Redis) -> int:
    return int(await redis.xlen(keys.DEAD_LETTERS))


# Tallies the dead letters by their ``sink`` field inside Redis, in pages: only the counts cross the wire.
_COUNT_BY_SINK = """
local counts, cursor = {}, '-'
while true do
  local page = redis.call('XRANGE', KEYS[1], cursor, '+', 'COUNT', 1000)
  if #page == 0 then break end
  for _, entry in ipairs(page) do
    local fields = entry[2]
    for i = 1, #fields, 2 do
      if fields[i] == 'sink' then counts[fields[i + 1]] = (counts[fields[i + 1]] or 0) + 1 end
    end
  end
  cursor = '(' .. page[#page][1]
end
local out = {}
for sink, n in pairs(counts) do out[#out + 1] = sink; out[#out + 1] = n end
return out
"""


async def count_by_sink(redis: Redis) -> dict[str, int]:
    """Dead letters per sink (the stream holds at most ``MAX_DEAD_LETTERS``)."""
    flat = await redis.eval(_COUNT_BY_SINK, 1, keys.DEAD_LETTERS)
    return {flat[i].decode(): int(flat[i + 1]) for i in range(0, len(flat), 2)}


async def listing(redis: Redis, limit: int = 100) -> list[DeadLetter]:
    """The oldest ``limit`` dead letters."""
    rows = await redis.xrange(keys.DEAD_LETTERS, count=limit)
    return [_record(message_id, fields) for message_id, fields in rows]


async def replay(redis: Redis, ids: list[str] | None = None) -> list[DeadLetter]:
    """Put dead letters (these ids, or all) back on the outbox and remove them here; return what was replayed.

    An entry dead-lettered by several sinks goes back once. Entries that cannot be decoded are replayed too: the
    reason may have been a decoder since fixed; if not, they come back here.
    """
    if ids is None:
        chosen = [_record(m, f) for m, f in await redis.xrange(keys.DEAD_LETTERS)]
    else:
        chosen = []
        for wanted in ids:
            rows = await redis.xrange(keys.DEAD_LETTERS, min=wanted, max=wanted)
            chosen += [_record(m, f) for m, f in rows]
    sent: set[bytes] = set()
    for letter in chosen:
        if letter.entry and letter.entry not in sent:
            await redis.xadd(keys.OUTBOX, {ENTRY_FIELD: letter.entry})
            sent.add(letter.entry)
        await redis.xdel(keys.DEAD_LETTERS, letter.id)
    return chosen


__all__ = ["DeadLetter", "count", "count_by_sink", "dead_letter", "listing", "replay"]
