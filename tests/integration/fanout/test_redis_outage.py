"""The worker supervisor outlives Redis going away at any moment, for 1 s, 10 s or a minute.

A Redis of its own (stopped and started by the test), the app with its embedded worker, a batch flowing when
Redis is killed at a random moment (mid-drain, mid-sweep, mid-restart of the worker: the supervisor keeps
closing workers while Redis is gone). After Redis is back, what was acknowledged before and what is posted
after reaches ClickHouse.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from adapters.clickhouse import Warehouse
from shared.settings import Settings
from tests.conftest import Player, eventually, make_player, need
from tests.factories import played_session
from tests.integration.fanout.test_sinks import serving, stored
from tests.services import RedisServer, free_port, missing_redis_tools
from workers.sinks import ClickHouseSink

SEED = random.randrange(1, 10**6)
BACK_WITHIN_S = 30.0  # Redis back → both batches in ClickHouse (the worker's reconnect backoff is at most 2 s)


@pytest.fixture
async def own_redis(tmp_path: Path) -> AsyncIterator[RedisServer]:
    need(missing_redis_tools())
    server = RedisServer(tmp_path / "redis", free_port(), appendfsync="always")
    server.start()
    yield server
    server.stop()


async def post_until_acknowledged(client: AsyncTestClient[Any], player: Player) -> list[dict[str, Any]]:
    """Post one session like the phone does: the same batch again until the server acknowledges it."""
    _, events = played_session()

    async def acknowledged() -> bool:
        try:
            answer = await client.post("/api/v1/events", json={"events": events}, headers=player.headers)
        except Exception:  # the test client raises what the server answers 500 to; the phone would retry
            return False
        return answer.status_code == 200

    await eventually(acknowledged, timeout=BACK_WITHIN_S, interval=0.5)
    return events


@pytest.mark.timeout(180)
@pytest.mark.parametrize("down_s", [1, 10, 60])
async def test_fanout_resumes_after_redis_is_down(
    down_s: int, own_redis: RedisServer, settings: Settings, warehouse: Warehouse
) -> None:
    rng = random.Random(SEED + down_s)
    local = msgspec.structs.replace(settings, redis_url=own_redis.url)
    admin = Redis.from_url(own_redis.url)
    try:
        player = await make_player(admin, "outage")
    finally:
        await admin.aclose()
    async with serving(local, warehouse, [ClickHouseSink(warehouse)]) as client:
        before = await post_until_acknowledged(client, player)
        await asyncio.sleep(rng.uniform(0.0, 0.3))  # a random point of the drain that batch started
        own_redis.kill()
        # While it is down, the supervisor starts workers that fail and closes them without Redis.
        await asyncio.sleep(down_s)  # the outage itself: time is the thing under test here
        own_redis.start()
        after = await post_until_acknowledged(client, player)
        total = len(before) + len(after)
        assert await eventually(lambda: _rows(warehouse, player, total), timeout=BACK_WITHIN_S), SEED


async def _rows(warehouse: Warehouse, player: Player, want: int) -> bool:
    return await stored(warehouse, player) == (want, want)
