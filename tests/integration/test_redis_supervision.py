"""A dead Redis: `bankroll serve` starts its private one again on the same AOF, and while Redis is down the API
says 503 with Retry-After (never 500) and /healthz says so too. The redis-servers are real and killed for real."""

from __future__ import annotations

import os
import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from adapters.clickhouse import Warehouse
from bankroll.wiring import Runtime, make_app
from shared.settings import load_settings
from tests.conftest import make_player, need
from tests.factories import SessionScript
from tests.served import Served, alive, wait_until
from tests.services import RedisServer, missing_redis_tools, start_redis


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    need(missing_redis_tools())
    server = Served(tmp_path / "var").wait_ready()
    yield server
    redis_pid = server.redis_pid
    server.stop()
    assert not alive(redis_pid)


async def test_a_killed_private_redis_is_started_again_with_its_data(served: Served) -> None:
    redis = Redis.from_url(str(served.running["redis_url"]))
    try:
        player = await make_player(redis, "alice")
    finally:
        await redis.aclose()
    s = SessionScript()
    async with httpx.AsyncClient(base_url=served.base, headers=player.headers, timeout=30) as http:
        assert (await http.post("/api/v1/events", json={"events": [s.start(buy_in=20000)]})).json()["accepted"] == 1
        first = served.redis_pid

        os.kill(first, signal.SIGKILL)
        wait_until(lambda: served.redis_pid != first and alive(served.redis_pid), "Redis was not started again")

        live = await http.get(f"/api/v1/sessions/{s.session_id}")
        assert live.status_code == 200, "the acknowledged session came back from the AOF"
        assert live.json()["state"]["stack"] == 20000
        more = await http.post("/api/v1/events", json={"events": [s.stack(25000)]})
        assert more.json()["accepted"] == 1
        assert (await http.get("/healthz")).status_code == 200
    assert f"private Redis (pid {first}) exited with -9; starting it again" in served.log


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis for this test alone: it is taken down, which the shared one must not be."""
    need(missing_redis_tools())
    server = start_redis(tmp_path)
    yield server
    server.stop()


@pytest.fixture
async def app_on_own_redis(
    tmp_path: Path, own_redis: RedisServer, warehouse: Warehouse
) -> AsyncIterator[AsyncTestClient[Any]]:
    env = {"BANKROLL_DATA_DIR": str(tmp_path), "REDIS_URL": own_redis.url, "BANKROLL_EMBEDDED_WORKER": "false"}
    runtime = Runtime(settings=load_settings(env), warehouse=warehouse, sinks=[])
    async with AsyncTestClient(app=make_app(runtime), timeout=30) as client:
        yield client


async def test_while_redis_is_down_writes_answer_503_with_retry_after_and_healthz_tells(
    app_on_own_redis: AsyncTestClient[Any], own_redis: RedisServer
) -> None:
    client = app_on_own_redis
    redis = Redis.from_url(own_redis.url)
    try:
        player = await make_player(redis, "alice")
    finally:
        await redis.aclose()
    s = SessionScript()
    assert (await client.get("/healthz")).status_code == 200

    own_redis.stop()  # a clean stop keeps the user just made (a kill may lose the last second)
    down = await client.post("/api/v1/events", json={"events": [s.start()]}, headers=player.headers)
    assert down.status_code == 503, down.text
    assert int(down.headers["retry-after"]) > 0
    assert "nothing was stored" in down.json()["detail"]
    health = await client.get("/healthz")
    assert health.status_code == 503
    assert health.json()["checks"]["redis"].startswith("failing: ")

    own_redis.start()
    again = await client.post("/api/v1/events", json={"events": [s.start()]}, headers=player.headers)
    assert again.status_code == 200 and again.json()["accepted"] == 1
    assert (await client.get("/healthz")).status_code == 200
