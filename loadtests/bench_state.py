"""Bytes one batch writes to Redis (its AOF) and publishes to the live streams, for a session that already holds
many notes and stack counts: the cost of the live state per batch.

Starts a private ``redis-server`` with AOF (no fsync wait) in a temporary directory and drives the intake
(``api.events.ingest.Ingest``) in this process, so only the store's own writes are measured. Run:
``.venv/bin/python -m loadtests.bench_state``.
"""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
from redis.asyncio import Redis

from adapters.sessions import SessionStore
from api.accounts import Principal
from api.events.ingest import Ingest
from tests.services import RedisServer, free_port

NOTES = 180  # notes already in the session (the cap is 200)
STACKS = 1_500  # stack counts already in it (each one a point of the stack graph)
NOTE_TEXT = "villain opens wide from the cutoff and folds to 3-bets; " * 9  # ~500 characters
BATCHES = 10  # measured batches: 1 note and 9 stack counts each


class Batches:
    """Events of one cash session in device order."""

    def __init__(self) -> None:
        self.session_id = str(uuid.uuid4())
        self.seq = 0
        self.clock = datetime.now(UTC) - timedelta(days=1)

    def event(self, kind: str, data: dict[str, Any]) -> bytes:
        self.seq += 1
        self.clock += timedelta(seconds=20)
        wire = {"id": str(uuid.uuid4()), "session_id": self.session_id, "seq": self.seq, "type": kind,
                "at": self.clock.isoformat(), "data": data}  # fmt: skip
        return msgspec.json.encode(wire)

    def start(self) -> bytes:
        return self.event("session.started", {"format": "cash", "game": "NLH", "currency": "USD", "buy_in": 20000,
                                              "stakes": {"small_blind": 100, "big_blind": 200}})  # fmt: skip

    def note(self) -> bytes:
        return self.event("note.added", {"text": NOTE_TEXT, "tags": ["read", "cutoff"]})

    def stack(self) -> bytes:
        return self.event("stack.counted", {"amount": 15000 + self.seq % 20000})


async def aof_bytes(redis: Redis) -> int:
    info = await redis.info("persistence")
    return int(info["aof_current_size"])


async def measure(redis: Redis) -> tuple[float, float, int]:
    """(AOF bytes per measured batch, published bytes per measured batch, events in the session)."""
    principal = Principal(user_id="bench", user_name="bench", device_id="phone")
    ingest = Ingest(SessionStore(redis, 30))
    s = Batches()
    await ingest.ingest(principal, [s.start()])
    fill = [s.note() for _ in range(NOTES)] + [s.stack() for _ in range(STACKS)]
    for first in range(0, len(fill), 200):
        answers = await ingest.ingest(principal, fill[first : first + 200])
        assert all(a.status == "accepted" for a in answers), answers[:1]
    published: list[int] = []
    pubsub = redis.pubsub()
    await pubsub.psubscribe("pbt:live:*")
    await pubsub.get_message(timeout=1)  # the subscribe confirmation
    before = await aof_bytes(redis)
    for _ in range(BATCHES):
        answers = await ingest.ingest(principal, [s.note(), *(s.stack() for _ in range(9))])
        assert all(a.status == "accepted" for a in answers), answers[:1]
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=5)
        assert message is not None, "no live update published"
        published.append(len(message["data"]))
    after = await aof_bytes(redis)
    await pubsub.aclose()
    return (after - before) / BATCHES, sum(published) / BATCHES, s.seq


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = RedisServer(Path(tmp), free_port())
        server.start()
        try:
            redis = Redis.from_url(server.url)
            try:
                aof, published, events = await measure(redis)
            finally:
                await redis.aclose()
        finally:
            server.stop()
    print(f"session of {events} events ({NOTES + BATCHES} notes of ~{len(NOTE_TEXT)} chars), batch of 10 events:")
    print(f"  Redis AOF bytes written per batch   {aof:>10,.0f}")
    print(f"  bytes published per batch (PUBLISH) {published:>10,.0f}")


if __name__ == "__main__":
    asyncio.run(main())
