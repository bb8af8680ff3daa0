"""One contract for every sink: redelivering any batch, any number of times, in any split, changes nothing.

Two worlds get the same outbox entries: the reference takes each once, in order; the other takes each in
order too, but after each one a random choice of the entries it already had comes again, in random splits
(what a crashed worker, a claimed entry or a dead letter replayed does). What each sink holds at the end must
be the same: ClickHouse rows, the distinct Kafka records, the tilt state and alerts, the push jobs queued.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from redis.asyncio import Redis

from adapters import keys
from adapters.clickhouse import Warehouse
from adapters.connections import redis_client
from adapters.outbox import OutboxEntry
from shared.events import Event
from shared.reducer import fold
from shared.simulator import simulate
from tests.conftest import make_player
from tests.services import KafkaBroker
from workers.sinks import ClickHouseSink, KafkaSink, Sink
from workers.tilt.sink import TiltSink

# Simulated players (seed 5, as in the tilt-to-push test); the first has a tilt episode, so alerts are raised.
SIM = simulate(6, 6, 5, datetime.now(UTC) - timedelta(days=30))
_TILTED = sorted({p for p, e in SIM.events if SIM.episodes.get(e.session_id) is not None})
PLAYERS = (_TILTED[0], sorted({p for p, _ in SIM.events} - {_TILTED[0]})[0])
ENTRY_EVENTS = 40  # events per outbox entry
Observe = Callable[[str], Awaitable[Any]]


def entries_for(user_ids: dict[str, str]) -> list[OutboxEntry]:
    """The simulated players' events as outbox entries of ENTRY_EVENTS each, with the folded session states."""
    entries: list[OutboxEntry] = []
    for name, user_id in user_ids.items():
        events = [e for player, e in SIM.events if player == name]
        so_far: dict[str, list[Event]] = defaultdict(list)
        for start in range(0, len(events), ENTRY_EVENTS):
            chunk = events[start : start + ENTRY_EVENTS]
            touched = {str(e.session_id) for e in chunk if e.session_id is not None}
            for event in chunk:
                if event.session_id is not None:
                    so_far[str(event.session_id)].append(event)
            states = [fold(session, so_far[session]) for session in sorted(touched)]
            entries.append(OutboxEntry(user_id=user_id, events=chunk, states=states))
    return entries


def redeliveries(count: int, seed: int) -> list[list[int]]:
    """Write calls of entry indexes: each entry once in order, and after each, earlier ones again in splits."""
    rng = random.Random(seed)
    calls: list[list[int]] = []
    for index in range(count):
        calls.append([index])
        again = [i for i in range(index + 1) if rng.random() < 0.3]
        rng.shuffle(again)
        while again:
            cut = rng.randint(1, len(again))
            calls.append(again[:cut])
            again = again[cut:]
    return calls


@dataclass
class World:
    sink: Sink
    observe: Observe
    client: Redis | None = None  # a client of its own to close

    async def close(self) -> None:
        await self.sink.close()
        if self.client is not None:
            await self.client.aclose()
            await self.client.connection_pool.disconnect()


async def clickhouse_world(warehouse: Warehouse, **_: Any) -> World:
    await warehouse.migrate()

    async def observe(user_id: str) -> Any:
        u = {"u": user_id}
        events = await warehouse.query(
            "SELECT toString(id), type, data FROM events WHERE user_id = {u:String} ORDER BY id", u
        )
        sessions = await warehouse.query(
            "SELECT * EXCEPT (user_id, updated_at) FROM sessions FINAL WHERE user_id = {u:String} ORDER BY session_id",
            u,
        )
        transactions = await warehouse.query(
            "SELECT * EXCEPT user_id FROM transactions FINAL WHERE user_id = {u:String} ORDER BY id", u
        )
        return events, sessions, transactions

    return World(ClickHouseSink(warehouse), observe)


async def kafka_world(kafka_broker: KafkaBroker, **_: Any) -> World:
    topic = f"contract.{uuid.uuid4().hex[:8]}"
    sink = KafkaSink(kafka_broker.bootstrap, topic)

    async def observe(user_id: str) -> Any:
        consumer = AIOKafkaConsumer(bootstrap_servers=kafka_broker.bootstrap, group_id=None)
        await consumer.start()
        records: set[tuple[bytes, bytes]] = set()
        try:
            partitions = [TopicPartition(topic, p) for p in range(sink.partitions)]
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            ends = await consumer.end_offsets(partitions)
            while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
                for batch in (await consumer.getmany(timeout_ms=1000)).values():
                    records |= {(m.key, m.value) for m in batch if ("user_id", user_id.encode()) in m.headers}
        finally:
            await consumer.stop()
        return sorted(records)  # at least once: the distinct records are the contract

    return World(sink, observe)


async def tilt_world(redis: Redis, **_: Any) -> World:
    queue = redis_client(_url(redis))
    sink = TiltSink()
    sink.bind(queue)

    async def observe(user_id: str) -> Any:
        state = await redis.get(keys.tilt_state(user_id))
        alerts = await redis.lrange(keys.alerts(user_id), 0, -1)
        queued = [key.decode() async for key in redis.scan_iter(f"arq:job:push:{user_id}:*")]
        pushes = sorted(key.removeprefix(f"arq:job:push:{user_id}:") for key in queued)
        return state, alerts, pushes

    return World(sink, observe, queue)


def _url(redis: Redis) -> str:
    kwargs = redis.connection_pool.connection_kwargs
    return f"redis://{kwargs['host']}:{kwargs['port']}/0"


WORLDS = {"clickhouse": clickhouse_world, "kafka": kafka_world, "tilt_and_push": tilt_world}
SERVICES = {"clickhouse": ["warehouse"], "kafka": ["kafka_broker"], "tilt_and_push": ["redis"]}


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("kind", sorted(WORLDS))
async def test_redelivering_batches_in_any_split_changes_nothing(
    kind: str, seed: int, redis: Redis, request: pytest.FixtureRequest
) -> None:
    services = {name: request.getfixturevalue(name) for name in SERVICES[kind]}
    reference, redelivered = await WORLDS[kind](**services), await WORLDS[kind](**services)
    once = {name: (await make_player(redis, f"{name}-once")).user_id for name in PLAYERS}
    again = {name: (await make_player(redis, f"{name}-again")).user_id for name in PLAYERS}
    for entry in entries_for(once):
        await reference.sink.write([entry])
    entries = entries_for(again)
    calls = redeliveries(len(entries), seed)
    assert sum(len(c) for c in calls) > 1.5 * len(entries)  # the redeliveries are many
    for call in calls:
        await redelivered.sink.write([entries[i] for i in call])
    try:
        for name in PLAYERS:
            expected = await reference.observe(once[name])
            assert expected, f"the reference world holds nothing for {name}"
            got = await redelivered.observe(again[name])
            assert _neutral(got, again[name]) == _neutral(expected, once[name]), name
    finally:
        await reference.close()
        await redelivered.close()


async def test_a_redelivered_tilting_session_queues_each_alert_once(redis: Redis) -> None:
    world = await tilt_world(redis)
    user_id = (await make_player(redis, "tilted")).user_id
    entries = entries_for({PLAYERS[0]: user_id})
    try:
        for call in redeliveries(len(entries), seed=3):
            await world.sink.write([entries[i] for i in call])
        _, alerts, pushes = await world.observe(user_id)
    finally:
        await world.close()
    assert alerts, "the tilting player raised no alert"
    assert len(pushes) == len(set(pushes)) == len(alerts)
    assert await redis.zcard("arq:queue") == len(pushes)


def _neutral(value: Any, user_id: str) -> Any:
    """The observation with the user's id taken out (two worlds, two users, the same events)."""
    return repr(value).replace(user_id, "<user>")
