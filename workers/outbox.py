"""Reading the outbox stream: one consumer group per sink, acked only after the sink took the entries.

An entry that a crashed worker read but never acked is claimed again after ``CLAIM_IDLE_MS``; an entry is
trimmed from the stream only once every group has acked it.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from adapters import keys
from adapters.outbox import ENTRY_FIELD, OutboxEntry, decode_entry
from shared.errors import SinkUnavailable
from workers.sinks import Sink

log = logging.getLogger(__name__)

CLAIM_IDLE_MS = 30_000
READ_COUNT = 200  # entries per read; at 50 events an entry, 10,000 events per ClickHouse insert at most


def group(sink: Sink) -> str:
    return f"sink:{sink.name}"


async def ensure_groups(redis: Redis, sinks: list[Sink]) -> None:
    for sink in sinks:
        try:
            await redis.xgroup_create(keys.OUTBOX, group(sink), id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise


def _decode(messages: list[Any]) -> tuple[list[bytes], list[OutboxEntry]]:
    ids, entries = [], []
    for message_id, fields in messages:
        ids.append(message_id)
        if fields and ENTRY_FIELD in fields:
            entries.append(decode_entry(fields[ENTRY_FIELD]))
    return ids, entries


async def drain(redis: Redis, sink: Sink, consumer: str, budget_s: float = 20.0) -> int:
    """Deliver what waits for this sink; return how many events it took. Raises SinkUnavailable."""
    delivered = 0
    deadline = time.monotonic() + budget_s
    # First what this consumer read and never acked, then what dead consumers left behind, then new entries.
    own = await redis.xreadgroup(group(sink), consumer, {keys.OUTBOX: "0"}, count=READ_COUNT)
    pending = own[0][1] if own else []
    _, claimed, _ = await redis.xautoclaim(keys.OUTBOX, group(sink), consumer, CLAIM_IDLE_MS, "0-0", count=READ_COUNT)
    batch = list(pending) + list(claimed)
    while True:
        if not batch:
            fresh = await redis.xreadgroup(group(sink), consumer, {keys.OUTBOX: ">"}, count=READ_COUNT)
            batch = fresh[0][1] if fresh else []
        if not batch:
            return delivered
        ids, entries = _decode(batch)
        await sink.write(entries)
        await redis.xack(keys.OUTBOX, group(sink), *ids)
        await _record_lag(redis, sink, ids)
        delivered += sum(len(e.events) for e in entries)
        batch = []
        if time.monotonic() > deadline:
            return delivered


LAG_SAMPLES = 10_000


async def _record_lag(redis: Redis, sink: Sink, ids: list[bytes]) -> None:
    """Milliseconds from acceptance (the stream id is the XADD time) to the sink having the entry."""
    now_ms = int(time.time() * 1000)
    lags = [now_ms - int(i.split(b"-")[0]) for i in ids]
    async with redis.pipeline(transaction=False) as pipe:
        pipe.lpush(keys.lag_samples(sink.name), *lags)
        pipe.ltrim(keys.lag_samples(sink.name), 0, LAG_SAMPLES - 1)
        await pipe.execute()


async def backlog(redis: Redis, sinks: list[Sink]) -> dict[str, int]:
    """Entries not yet acked per sink (pending plus not yet delivered)."""
    out: dict[str, int] = {}
    try:
        infos = await redis.xinfo_groups(keys.OUTBOX)
    except ResponseError:
        return {s.name: 0 for s in sinks}
    by_name = {info["name"].decode() if isinstance(info["name"], bytes) else info["name"]: info for info in infos}
    for sink in sinks:
        info = by_name.get(group(sink))
        if info is None:
            out[sink.name] = 0
            continue
        lag = info.get("lag")
        out[sink.name] = int(info.get("pending", 0)) + (int(lag) if lag is not None else 1)
    return out


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
        name = info["name"].decode() if isinstance(info["name"], bytes) else info["name"]
        if name not in names:
            continue
        if int(info.get("pending", 0)):
            summary = await redis.xpending(keys.OUTBOX, name)
            low = summary["min"]
            floor.append(low.decode() if isinstance(low, bytes) else str(low))
        else:
            last = info["last-delivered-id"]
            floor.append(_next_id(last.decode() if isinstance(last, bytes) else str(last)))
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
        return None
