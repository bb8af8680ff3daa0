"""The private Kafka and Redis servers the other integration tests stand on really work."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from tests.services import KafkaBroker, RedisServer, missing_kafka_tools, missing_redis_tools, start_kafka, start_redis

pytestmark = pytest.mark.integration


def _require(missing: str | None) -> None:
    """Skip when a service binary is missing on a laptop; fail in CI, where a skip would hide a broken setup."""
    if missing is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{missing} (CI=true: integration services must be available)", pytrace=False)
    pytest.skip(missing)


@pytest.fixture(scope="module")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaBroker]:
    _require(missing_kafka_tools())
    broker = start_kafka(tmp_path_factory.mktemp("services-kafka"))
    yield broker
    broker.stop()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    _require(missing_redis_tools())
    server = start_redis(tmp_path)
    yield server
    server.stop()


async def _set(url: str, key: str, value: str) -> None:
    # A fresh client each time: a restart closes pooled connections, and that is not what these tests are about.
    async with aioredis.Redis.from_url(url) as client:
        await client.set(key, value)


async def _get(url: str, key: str) -> bytes | None:
    async with aioredis.Redis.from_url(url) as client:
        value: bytes | None = await client.get(key)
        return value


async def _consume_one(bootstrap: str, topic: str) -> tuple[bytes | None, bytes | None]:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=f"test-{uuid.uuid4().hex}", auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        message = await consumer.getone()
        return message.key, message.value
    finally:
        await consumer.stop()


async def test_kafka_returns_what_an_idempotent_producer_wrote(kafka: KafkaBroker) -> None:
    topic = f"services-{uuid.uuid4().hex}"
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        await producer.send_and_wait(topic, b'{"kind":"buy_in"}', key=b"session-1")
    finally:
        await producer.stop()

    assert await _consume_one(kafka.bootstrap, topic) == (b"session-1", b'{"kind":"buy_in"}')


async def test_kafka_keeps_messages_across_a_restart(kafka: KafkaBroker) -> None:
    topic = f"services-{uuid.uuid4().hex}"
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"before-restart")
    finally:
        await producer.stop()

    kafka.restart()

    assert await _consume_one(kafka.bootstrap, topic) == (None, b"before-restart")


async def test_redis_restart_brings_the_data_back_from_the_aof(redis_server: RedisServer) -> None:
    await _set(redis_server.url, "bankroll:player-1", "12500")

    redis_server.restart()

    assert await _get(redis_server.url, "bankroll:player-1") == b"12500"


async def test_redis_without_appendonly_forgets_everything_on_restart(tmp_path: Path) -> None:
    # The control for the test above: it shows the AOF, not luck, kept the data.
    _require(missing_redis_tools())
    server = start_redis(tmp_path, appendonly=False)
    try:
        await _set(server.url, "bankroll:player-1", "12500")
        server.restart()
        assert await _get(server.url, "bankroll:player-1") is None
    finally:
        server.stop()
