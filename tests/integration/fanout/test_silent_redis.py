"""The fan-out survives a Redis connection that dies or goes silent mid-WATCH, and the app stops while Redis is silent.

arq's poll loop WATCHes each job's in-progress key before starting it (``Worker.start_jobs``). A relay between the
app and a real Redis fails exactly that connection, right after Redis answered the WATCH: closed (Redis died
there: redis-py raises a WatchError, which the supervisor once did not restart on, so the fan-out stopped for
good), or silent (the reply never comes: without a reply deadline the poll loop waited for ever).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import msgspec
import pytest
from redis.asyncio import Redis

from adapters.clickhouse import Warehouse
from shared.settings import Settings
from tests.conftest import Player, eventually, make_player, need
from tests.integration.fanout.test_sinks import post_played_session, serving, stored
from tests.services import RedisRelay, RedisServer, free_port, missing_redis_tools
from workers.sinks import ClickHouseSink
from workers.worker import CLOSE_TIMEOUT_S, REPLY_TIMEOUT_S

FAULT_WITHIN_S = 20.0  # the sweep cron queues a job (so a WATCH) every second
RESUMED_WITHIN_S = REPLY_TIMEOUT_S + 20.0  # the reply deadline, a new worker, one drain
# The supervisor's grace for running jobs (which wait out the reply deadline), then a close bounded on its own.
STOPPED_WITHIN_S = 10.0 + REPLY_TIMEOUT_S + CLOSE_TIMEOUT_S + 5.0


@pytest.fixture
async def own_redis(tmp_path: Path) -> AsyncIterator[RedisServer]:
    need(missing_redis_tools())
    server = RedisServer(tmp_path / "redis", free_port(), appendonly=False)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def relay(own_redis: RedisServer) -> Iterator[RedisRelay]:
    with RedisRelay(own_redis.port) as relay:
        yield relay


@pytest.fixture
async def player(own_redis: RedisServer) -> Player:
    admin = Redis.from_url(own_redis.url)
    try:
        return await make_player(admin, "relay")
    finally:
        await admin.aclose()


async def _all_stored(warehouse: Warehouse, player: Player, want: int) -> bool:
    return await stored(warehouse, player) == (want, want)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("fault", ["cut", "silence"])
async def test_fanout_resumes_when_the_watched_connection_dies_or_goes_silent(
    fault: str, relay: RedisRelay, player: Player, settings: Settings, warehouse: Warehouse
) -> None:
    local = msgspec.structs.replace(settings, redis_url=relay.url)
    async with serving(local, warehouse, [ClickHouseSink(warehouse)]) as client:
        before = await post_played_session(client, player)
        assert await eventually(lambda: _all_stored(warehouse, player, len(before)), timeout=FAULT_WITHIN_S)
        relay.cut_after_watch() if fault == "cut" else relay.silence_after_watch()
        await eventually(lambda: _fired(relay), timeout=FAULT_WITHIN_S)
        after = await post_played_session(client, player)
        total = len(before) + len(after)
        assert await eventually(lambda: _all_stored(warehouse, player, total), timeout=RESUMED_WITHIN_S)


@pytest.mark.timeout(120)
async def test_the_app_stops_within_bounds_while_redis_is_silent(
    relay: RedisRelay, player: Player, settings: Settings, warehouse: Warehouse
) -> None:
    local = msgspec.structs.replace(settings, redis_url=relay.url)
    async with serving(local, warehouse, [ClickHouseSink(warehouse)]) as client:
        events = await post_played_session(client, player)
        assert await eventually(lambda: _all_stored(warehouse, player, len(events)), timeout=FAULT_WITHIN_S)
        relay.silence_all()
        began = time.monotonic()
    assert time.monotonic() - began < STOPPED_WITHIN_S


async def _fired(relay: RedisRelay) -> bool:
    return relay.fired.is_set()
