"""Reading the outbox stream: one consumer group per sink, acked only after the sink took the entries.

- An entry a dead worker read but never acked is claimed at the next drain (a live consumer keeps a short-lived
  heartbeat key; a consumer without one is dead); one a stuck live consumer holds is claimed after
  ``CLAIM_IDLE_MS``.
- An entry the sink refuses (``SinkRejected`` or any error other than ``SinkUnavailable``) is found by halving the
  batch; the rest is written and acked at once, so other users' events are not held or redelivered. The refused
  entry is tried again on the next drains and dead-lettered after ``MAX_TRIES`` (``workers/deadletters.py``).
- An entry that cannot be decoded is dead-lettered at once. Stored entries are decoded without today's intake
  rules: what was accepted once stays readable.
- ``SinkUnavailable`` from a whole batch means the sink is down: nothing is counted against the data; the batch
  waits for the sink.
- An entry is trimmed from the stream only once every group has acked it.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import msgspec
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from adapters import keys
from adapters.metrics import SINK_BATCH_SECONDS, SINK_EVENTS, SINK_FAILURES, Tally
from adapters.outbox import ENTRY_FIELD, FanoutFigures, OutboxEntry, decode_entry
from shared.errors import InvalidEvent, SinkUnavailable
from workers import deadletters
from workers.deadletters import dead_letter
from workers.sinks import Sink

log = logging.getLogger(__name__)

CLAIM_IDLE_MS = 30_000
READ_COUNT = 200  # entries per read; at 50 events an entry, 10,000 events per ClickHouse insert at most
MAX_TRIES = 5  # failed writes of one entry to one sink (one per drain) before it is dead-lettered
ALIVE_TTL_MS = 5_000  # a consumer's heartbeat; the sweep renews it every second
DRAIN_BUDGET_S = 10.0  # one drain job returns after this; the next sweep queues another if more waits
BACKLOG_CAP = 100_000  # entries counted per sink at most (the figure then reads "at least")

_Item = tuple[bytes, bytes, OutboxEntry]  # stream id, raw entry, decoded entry
# A sink, or the Redis it keeps state in (tilt), being down is no fault of the data: nothing is counted.
_DOWN = (SinkUnavailable, RedisConnectionError, RedisTimeoutError, OSError)


def group(sink: Sink) -> str:
    return f"sink:{sink.name}"


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def ensure_groups(redis: Redis, sinks: list[Sink]) -> None:
    for sink in sinks:
        try:
            await redis.xgroup_create(keys.OUTBOX, group(sink), id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise


async def heartbeat(redis: Redis, consumer: str) -> None:
    """Say this consumer is alive for the next ``ALIVE_TTL_MS``; without it, its unacked entries are claimed."""
    await redis.set(keys.consumer_alive(consumer), b"1", px=ALIVE_TTL_MS)


async def others_alive(redis: Redis, sink: Sink, consumer: str) -> bool:
    """Whether a consumer other than this one reads the sink's group and has a live heartbeat."""
    try:
        infos = await redis.xinfo_consumers(keys.OUTBOX, group(sink))
    except ResponseError:  # no stream or group yet: nobody reads it
        return False
    for info in infos:
        name = _text(info["name"])
        if name != consumer and await redis.exists(keys.consumer_alive(name)):
            return True
    return False


async def drain(redis: Redis, sink: Sink, consumer: str, budget_s: float = DRAIN_BUDGET_S) -> int:
    """Deliver what waits for this sink; return how many events it took. Raises SinkUnavailable."""
    delivered = 0
    deadline = time.monotonic() + budget_s
    batch = await _leftovers(redis, sink, consumer)
    while True:
        if not batch:
            fresh = await redis.xreadgroup(group(sink), consumer, {keys.OUTBOX: ">"}, count=READ_COUNT)
            batch = fresh[0][1] if fresh else []
        if not batch:
            return delivered
        delivered += await _deliver(redis, sink, batch)
        batch = []
        if time.monotonic() > deadline:
            return delivered


async def _leftovers(redis: Redis, sink: Sink, consumer: str) -> list[Any]:
    """What this consumer read and never acked, what dead consumers left, then what stuck consumers hold."""
    own = await redis.xreadgroup(group(sink), consumer, {keys.OUTBOX: "0"}, count=READ_COUNT)
    found = {message_id: fields for message_id, fields in (own[0][1] if own else [])}
    for message_id, fields in await _claim_from_dead(redis, sink, consumer):
        found.setdefault(message_id, fields)
    _, claimed, _ = await redis.xautoclaim(keys.OUTBOX, group(sink), consumer, CLAIM_IDLE_MS, "0-0", count=READ_COUNT)
    for message_id, fields in claimed:
        found.setdefault(message_id, fields)
    return list(found.items())


async def _claim_from_dead(redis: Redis, sink: Sink, consumer: str) -> list[Any]:
    claimed: list[Any] = []
    for info in await redis.xinfo_consumers(keys.OUTBOX, group(sink)):
        name = _text(info["name"])
        if name == consumer or await redis.exists(keys.consumer_alive(name)):
            continue
        if not int(info["pending"]):
            # Every restart brings a new consumer name: forget the dead ones once they hold nothing.
            await redis.xgroup_delconsumer(keys.OUTBOX, group(sink), name)
            continue
        rows = await redis.xpending_range(keys.OUTBOX, group(sink), "-", "+", READ_COUNT, consumername=name)
        ids = [row["message_id"] for row in rows]
        if ids:
            log.info("sink %s: claiming %d entries of dead consumer %s", sink.name, len(ids), name)
            claimed.extend(await redis.xclaim(keys.OUTBOX, group(sink), consumer, 0, ids))
    return claimed


async def _deliver(redis: Redis, sink: Sink, batch: list[Any]) -> int:
    """Write one read batch; ack what the sink took or what was dead-lettered; return the events written."""
    items: list[_Item] = []
    settled: list[bytes] = []  # dead-lettered or empty: acked without a write
    for message_id, fields in batch:
        raw = fields.get(ENTRY_FIELD) if fields else None
        if raw is None:
            settled.append(message_id)  # deleted from the stream meanwhile, or not an entry: nothing to deliver
            continue
        try:
            items.append((message_id, raw, decode_entry(raw)))
        except (msgspec.DecodeError, InvalidEvent) as exc:
            await dead_letter(redis, sink.name, message_id, raw, f"the entry cannot be decoded: {exc}")
            settled.append(message_id)
    written: list[_Item] = []
    refused: list[tuple[_Item, Exception]] = []
    tally = Tally()
    started = time.perf_counter()
    try:
        await _write(sink, items, written, refused)
        if items:
            tally.observe(SINK_BATCH_SECONDS, time.perf_counter() - started, sink.name)
    finally:
        # Even when the sink went down half-way, what it took is acked and not sent again.
        settled += await _count_refusals(redis, sink, refused)
        events = sum(len(entry.events) for _, _, entry in written)
        tally.count(SINK_EVENTS, sink.name, n=events)
        tally.count(SINK_FAILURES, sink.name, "refused", n=len(refused))
        await _ack(redis, sink, [m for m, _, _ in written], settled, tally)
    return events


async def _write(sink: Sink, items: list[_Item], written: list[_Item], refused: list[tuple[_Item, Exception]]) -> None:
    """Write the items; when the sink refuses, halve until the refused entries stand alone."""
    if not items:
        return
    try:
        await sink.write([entry for _, _, entry in items])
    except _DOWN:
        raise
    except Exception as exc:
        if len(items) == 1:
            refused.append((items[0], exc))
            return
        half = len(items) // 2
        await _write(sink, items[:half], written, refused)
        await _write(sink, items[half:], written, refused)
        return
    written.extend(items)


async def _count_refusals(redis: Redis, sink: Sink, refused: list[tuple[_Item, Exception]]) -> list[bytes]:
    """Count one more try for each refused entry; dead-letter those out of tries and return their ids."""
    given_up: list[bytes] = []
    for (message_id, raw, entry), exc in refused:
        reason = f"{type(exc).__name__}: {exc}"
        tries = int(await redis.hincrby(keys.outbox_tries(sink.name), message_id, 1))
        if tries < MAX_TRIES:
            log.warning(
                "sink %s refused outbox entry %s of user %s (try %d of %d): %s",
                sink.name,
                _text(message_id),
                entry.user_id,
                tries,
                MAX_TRIES,
                reason,
            )
            continue
        await dead_letter(redis, sink.name, message_id, raw, f"refused {tries} times; last: {reason}", entry)
        given_up.append(message_id)
    return given_up


async def _ack(redis: Redis, sink: Sink, written: list[bytes], settled: list[bytes], tally: Tally) -> None:
    done = written + settled
    if not done and not tally:
        return
    async with redis.pipeline(transaction=False) as pipe:
        if done:
            pipe.xack(keys.OUTBOX, group(sink), *done)
            pipe.hdel(keys.outbox_tries(sink.name), *done)
        tally.queue(pipe)
        if written:
            now_ms = int(time.time() * 1000)
            lags = [now_ms - int(i.split(b"-")[0]) for i in written]
            pipe.lpush(keys.lag_samples(sink.name), *lags)
            pipe.ltrim(keys.lag_samples(sink.name), 0, LAG_SAMPLES - 1)
        await pipe.execute()


LAG_SAMPLES = 10_000  # acceptance-to-sink lags kept per sink (ms; the stream id is the XADD time)

# Entries after the group's last-delivered id, counted in Redis (only the count crosses the wire), in pages so
# a large backlog never builds one huge reply.
_COUNT_AFTER = """
local n, cursor, cap = 0, '(' .. ARGV[1], tonumber(ARGV[2])
while n < cap do
  local page = redis.call('XRANGE', KEYS[1], cursor, '+', 'COUNT', math.min(500, cap - n))
  if #page == 0 then break end
  n = n + #page
  cursor = '(' .. page[#page][1]
end
return n
"""


async def backlog(redis: Redis, sinks: list[Sink], cap: int = BACKLOG_CAP) -> dict[str, int]:
    """Entries each sink still has to take: read-but-unacked (its pending list) plus not yet read.

    Counted from the stream itself, not from XINFO's ``lag``, which Redis cannot keep true across a crash.
    A figure of ``cap`` means "at least that many".
    """
    try:
        infos = await redis.xinfo_groups(keys.OUTBOX)
    except ResponseError:
        return {s.name: 0 for s in sinks}
    by_name = {_text(info["name"]): info for info in infos}
    out: dict[str, int] = {}
    for sink in sinks:
        info = by_name.get(group(sink))
        if info is None:
            out[sink.name] = 0
            continue
        pending = int(info.get("pending", 0))
        unread = 0
        if pending < cap:
            last = _text(info["last-delivered-id"])
            unread = int(await redis.eval(_COUNT_AFTER, 1, keys.OUTBOX, last, cap - pending))
        out[sink.name] = pending + unread
    return out


async def oldest_waiting(redis: Redis, sinks: list[Sink]) -> dict[str, int | None]:
    """Per sink, the acceptance time (ms, from the stream id) of the oldest entry it has yet to take, or None."""
    try:
        infos = {_text(info["name"]): info for info in await redis.xinfo_groups(keys.OUTBOX)}
    except ResponseError:
        return {s.name: None for s in sinks}
    out: dict[str, int | None] = {}
    for sink in sinks:
        info = infos.get(group(sink))
        if info is None:
            out[sink.name] = None
            continue
        candidates: list[str] = []
        if int(info.get("pending", 0)):
            summary = await redis.xpending(keys.OUTBOX, group(sink))
            if summary.get("min"):
                candidates.append(_text(summary["min"]))
        unread = await redis.xrange(keys.OUTBOX, min=f"({_text(info['last-delivered-id'])}", count=1)
        candidates += [_text(stream_id) for stream_id, _ in unread]
        out[sink.name] = min((int(c.split("-")[0]) for c in candidates), default=None)
    return out


async def figures(redis: Redis, sinks: list[Sink]) -> FanoutFigures:
    """What an operator watches: the outbox, each sink's backlog and lag, and the dead letters by sink."""
    waiting = await backlog(redis, sinks)
    oldest = await oldest_waiting(redis, sinks)
    now_ms = int(time.time() * 1000)
    dead = await deadletters.count_by_sink(redis)
    return FanoutFigures(
        outbox_length=int(await redis.xlen(keys.OUTBOX)),
        backlog=waiting,
        lag_s={name: max(0, now_ms - ms) / 1000 if ms is not None else 0.0 for name, ms in oldest.items()},
        dead_letters={**{s.name: 0 for s in sinks}, **dead},
    )


def _next_id(stream_id: str) -> str:
    ms, _, seq = stream_id.partition("-")
    return f"{ms}-{int(seq or 0) + 1}"


async def trim(redis: Redis, sinks: list[Sink]) -> None:
    """Drop entries every group has acked (XTRIM MINID to the oldest id some group still needs)."""
    try:
        infos = await redis.xinfo_groups(keys.OUTBOX)
    except ResponseError:
        return
    names = {group(s) for s in sinks}
    floor: list[str] = []
    for info in infos:
        name = _text(info["name"])
        if name not in names:
            continue
        if int(info.get("pending", 0)):
            summary = await redis.xpending(keys.OUTBOX, name)
            floor.append(_text(summary["min"]))
        else:
            floor.append(_next_id(_text(info["last-delivered-id"])))
    if len(floor) < len(names):
        return  # a group is missing; keep everything until it exists
    minimum = min(floor, key=lambda s: tuple(int(p) for p in s.split("-")))
    await redis.xtrim(keys.OUTBOX, minid=minimum, approximate=False)


async def drain_safely(redis: Redis, sink: Sink, consumer: str) -> int | None:
    """Drain one sink; a sink that is down is logged and left for the next sweep."""
    try:
        try:
            return await drain(redis, sink, consumer)
        except ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            # The stream or group vanished (a flushed or replaced Redis): make them again and carry on.
            await ensure_groups(redis, [sink])
            return await drain(redis, sink, consumer)
    except SinkUnavailable as exc:
        log.warning("sink %s unavailable, will retry: %s", sink.name, exc)
        tally = Tally()
        tally.count(SINK_FAILURES, sink.name, "unavailable")
        await tally.save(redis)
        return None


__all__ = [
    "OutboxEntry",
    "backlog",
    "drain",
    "drain_safely",
    "ensure_groups",
    "figures",
    "group",
    "heartbeat",
    "trim",
]
