"""Accepted events fan out: to ClickHouse exactly once, to Kafka at least once, whatever fails on the way."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from adapters import keys
from adapters.clickhouse import Warehouse
from adapters.outbox import ENTRY_FIELD, OutboxEntry, decode_entry
from bankroll.wiring import Runtime, make_app
from shared.errors import SinkUnavailable
from shared.settings import Settings
from tests.conftest import Player, eventually
from tests.factories import played_session
from tests.services import KafkaBroker, RedisServer
from workers import outbox
from workers.sinks import ClickHouseSink, KafkaSink, Sink
from workers.worker import Fanout


class SwitchableSink(Sink):
    """The real ClickHouse sink behind a switch, to take it away for a while (fault injection, not a fake)."""

    def __init__(self, inner: Sink) -> None:
        self.inner = inner
        self.name = inner.name
        self.down = False
        self.refused = 0  # writes tried while switched off

    async def write(self, entries: list[OutboxEntry]) -> None:
        if self.down:
            self.refused += 1
            raise SinkUnavailable("ClickHouse switched off by the test")
        await self.inner.write(entries)


@asynccontextmanager
async def serving(settings: Settings, warehouse: Warehouse, sinks: list[Sink]) -> AsyncIterator[AsyncTestClient[Any]]:
    runtime = Runtime(settings=settings, warehouse=warehouse, sinks=sinks)
    async with AsyncTestClient(app=make_app(runtime), timeout=30) as client:
        yield client


async def stored(warehouse: Warehouse, player: Player) -> tuple[int, int]:
    """(rows, distinct ids) of the player's events in ClickHouse, without FINAL: duplicates would show."""
    rows = await warehouse.query(
        "SELECT count(), uniqExact(id) FROM events WHERE user_id = {u:String}", {"u": player.user_id}
    )
    return int(rows[0][0]), int(rows[0][1])


async def consume(bootstrap: str, topic: str, want: int, timeout_s: float = 30) -> list[Any]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    got: list[Any] = []
    try:

        async def enough() -> bool:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                got.extend(batch)
            return len({m.value for m in got}) >= want

        await eventually(enough, timeout=timeout_s)
    finally:
        await consumer.stop()
    return got


async def post_played_session(client: AsyncTestClient[Any], player: Player) -> list[dict[str, Any]]:
    _, events = played_session()
    response = await client.post("/api/v1/events", json={"events": events}, headers=player.headers)
    assert response.json()["accepted"] == len(events)
    return events


async def test_accepted_events_reach_clickhouse_exactly_once(
    settings: Settings, warehouse: Warehouse, alice: Player
) -> None:
    async with serving(settings, warehouse, [ClickHouseSink(warehouse)]) as client:
        events = await post_played_session(client, alice)
        await client.post("/api/v1/events", json={"events": events}, headers=alice.headers)  # the phone retries
        assert await eventually(lambda: _equals(stored(warehouse, alice), (len(events), len(events))))
        rows = await warehouse.query(
            "SELECT status, profit, invested, played_seconds FROM sessions FINAL WHERE user_id = {u:String}",
            {"u": alice.user_id},
        )
        assert rows == [("ended", 1000, 40000, 240 * 60)]
        # The raw event keeps its whole payload, as the phone sent it.
        rebuy = next(e for e in events if e["type"] == "chips.added")
        [(data,)] = await warehouse.query("SELECT data FROM events FINAL WHERE id = {i:UUID}", {"i": rebuy["id"]})
        assert __import__("json").loads(data) == {"amount": 20000, "kind": "rebuy"}


async def _equals(awaitable: Any, expected: Any) -> bool:
    return bool(await awaitable == expected)


async def _at_least(sink: SwitchableSink, refused: int) -> bool:
    return sink.refused >= refused


async def test_events_reach_kafka_keyed_by_session(
    settings: Settings, warehouse: Warehouse, kafka_broker: KafkaBroker, alice: Player
) -> None:
    topic = f"poker.session-events.{uuid.uuid4().hex[:6]}"
    sinks: list[Sink] = [ClickHouseSink(warehouse), KafkaSink(kafka_broker.bootstrap, topic)]
    async with serving(settings, warehouse, sinks) as client:
        events = await post_played_session(client, alice)
        messages = await consume(kafka_broker.bootstrap, topic, len(events))
    assert {m.key.decode() for m in messages} == {events[0]["session_id"]}
    assert {str(uuid.UUID(__import__("json").loads(m.value)["id"])) for m in messages} == {e["id"] for e in events}
    sent = {e["id"]: e["data"] for e in events}
    for message in messages:
        wire = __import__("json").loads(message.value)
        assert {k: v for k, v in wire["data"].items() if k in sent[wire["id"]]} == sent[wire["id"]]


async def test_a_worker_killed_mid_batch_loses_nothing_and_duplicates_nothing(
    settings: Settings, warehouse: Warehouse, redis: Redis, alice: Player, monkeypatch: pytest.MonkeyPatch
) -> None:
    quiet = Settings(**{**{f: getattr(settings, f) for f in settings.__struct_fields__}, "embedded_worker": False})
    sink = ClickHouseSink(warehouse)
    async with serving(quiet, warehouse, [sink]) as client:
        events = await post_played_session(client, alice)
    await outbox.ensure_groups(redis, [sink])
    # The dead worker read the batch and wrote it to ClickHouse, then died before acking it.
    read = await redis.xreadgroup(outbox.group(sink), "dead-worker", {keys.OUTBOX: ">"}, count=100)
    entries = [decode_entry(fields[ENTRY_FIELD]) for _, fields in read[0][1]]
    await sink.write(entries)
    monkeypatch.setattr(outbox, "CLAIM_IDLE_MS", 0)
    survivor = Fanout(redis, [sink])
    assert (await survivor.drain()) == {"clickhouse": len(events)}
    assert await stored(warehouse, alice) == (len(events), len(events))
    assert (await redis.xpending(keys.OUTBOX, outbox.group(sink)))["pending"] == 0


async def test_clickhouse_away_for_a_while_delays_but_loses_nothing(
    settings: Settings, warehouse: Warehouse, alice: Player
) -> None:
    sink = SwitchableSink(ClickHouseSink(warehouse))
    sink.down = True
    async with serving(settings, warehouse, [sink]) as client:
        events = await post_played_session(client, alice)
        live = await client.get(f"/api/v1/sessions/{events[0]['session_id']}", headers=alice.headers)
        assert live.json()["state"]["status"] == "ended"  # ingest and live state keep working
        # The worker tried (and will try again): wait for two refused writes, not for a guessed time.
        assert await eventually(lambda: _at_least(sink, 2), timeout=30)
        assert await stored(warehouse, alice) == (0, 0)
        sink.down = False
        assert await eventually(lambda: _equals(stored(warehouse, alice), (len(events), len(events))), timeout=30)


async def test_redis_restart_keeps_acknowledged_events_and_fanout_resumes(
    settings: Settings, warehouse: Warehouse, redis_server: RedisServer, alice: Player
) -> None:
    sink = SwitchableSink(ClickHouseSink(warehouse))
    sink.down = True
    async with serving(settings, warehouse, [sink]) as client:
        events = await post_played_session(client, alice)
        redis_server.restart()
        sink.down = False
        assert await eventually(lambda: _equals(stored(warehouse, alice), (len(events), len(events))), timeout=30)
        live = await client.get(f"/api/v1/sessions/{events[0]['session_id']}", headers=alice.headers)
        assert live.json()["state"]["profit"] == 1000


async def test_kafka_down_for_a_while_gets_every_event_after_it_returns(
    settings: Settings, warehouse: Warehouse, kafka_broker: KafkaBroker, alice: Player
) -> None:
    topic = f"poker.session-events.{uuid.uuid4().hex[:6]}"
    sinks: list[Sink] = [ClickHouseSink(warehouse), KafkaSink(kafka_broker.bootstrap, topic)]
    async with serving(settings, warehouse, sinks) as client:
        first = await post_played_session(client, alice)
        await consume(kafka_broker.bootstrap, topic, len(first))
        kafka_broker.stop()
        try:
            second = await post_played_session(client, alice)
            # ClickHouse does not wait for Kafka.
            total = len(first) + len(second)
            assert await eventually(lambda: _equals(stored(warehouse, alice), (total, total)), timeout=30)
        finally:
            kafka_broker.start()
        messages = await consume(kafka_broker.bootstrap, topic, total, timeout_s=60)
    ids = {str(uuid.UUID(__import__("json").loads(m.value)["id"])) for m in messages}
    assert ids == {e["id"] for e in first + second}
