"""Test setup: real Redis and Kafka started once per test session, embedded ClickHouse (chDB) once per process.

Under CI=true a service that cannot start fails the run; elsewhere its tests are skipped with the reason.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from adapters.clickhouse import Warehouse
from api.accounts import Accounts
from bankroll.wiring import Runtime, make_app
from shared.settings import Settings, load_settings
from tests.services import KafkaBroker, RedisServer, missing_kafka_tools, missing_redis_tools, start_kafka, start_redis
from workers.sinks import ClickHouseSink

REQUIRED = os.environ.get("CI", "").lower() == "true"


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"stopped by signal {signum}")


def pytest_configure(config: pytest.Config) -> None:
    """SIGTERM ends a run as Ctrl-C does: fixtures tear down, so every service the tests started is stopped.

    Python's default for SIGTERM ends the process at once, leaving Redis, Kafka and Chromium running.
    """
    signal.signal(signal.SIGTERM, _interrupt)


def need(missing: str | None) -> None:
    """Skip a test whose service is missing, except under CI=true, where that is a failure."""
    if missing:
        if REQUIRED:
            pytest.fail(f"CI=true and a required service is missing: {missing}")
        pytest.skip(missing)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    need(missing_redis_tools())
    server = start_redis(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaBroker]:
    need(missing_kafka_tools())
    broker = start_kafka(tmp_path_factory.mktemp("kafka"))
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    """One chDB engine for the whole test process (chDB allows one per process); tests keep apart by user id."""
    store = Warehouse(f"chdb://{tmp_path_factory.mktemp('clickhouse') / 'ch'}")
    yield store
    store.close()


@pytest.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_server.url)
    await client.flushall()
    yield client
    await client.aclose()


@pytest.fixture
def settings(tmp_path: Path, redis_server: RedisServer) -> Settings:
    return load_settings({"BANKROLL_DATA_DIR": str(tmp_path), "REDIS_URL": redis_server.url})


@pytest.fixture
def runtime(settings: Settings, warehouse: Warehouse) -> Runtime:
    return Runtime(
        settings=settings,
        warehouse=warehouse,
        sinks=[ClickHouseSink(warehouse)],
        readiness={"clickhouse": warehouse.ping},
    )


@pytest.fixture
async def client(runtime: Runtime, redis: Redis) -> AsyncIterator[AsyncTestClient[Any]]:
    async with AsyncTestClient(app=make_app(runtime), timeout=30) as test_client:
        yield test_client


class Player(msgspec.Struct):
    name: str
    user_id: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def make_player(redis: Redis, name: str) -> Player:
    new = await Accounts(redis).add_user(name)
    return Player(name=name, user_id=new.user_id, token=new.token)


@pytest.fixture
async def alice(redis: Redis) -> Player:
    return await make_player(redis, "alice")


@pytest.fixture
async def bob(redis: Redis) -> Player:
    return await make_player(redis, "bob")


async def eventually(probe: Any, timeout: float = 20.0, interval: float = 0.1) -> Any:  # noqa: ASYNC109
    """Await ``probe()`` until it returns something truthy; fail with its last value after ``timeout``."""
    import asyncio

    deadline = asyncio.get_running_loop().time() + timeout
    value = None
    while asyncio.get_running_loop().time() < deadline:
        value = await probe()
        if value:
            return value
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s; last value {value!r}")


class LiveServer(msgspec.Struct):
    url: str
    app: Any = None  # the Litestar app it serves, for looking at its state (the Redis pool, open streams)


@contextlib.contextmanager
def serve(app: Any) -> Iterator[LiveServer]:
    """Run ``app`` on a real socket (uvicorn in a thread) until the block ends."""
    import threading
    import time

    import uvicorn

    from api.serving import uvicorn_config
    from tests.services import free_port

    port = free_port()
    config = uvicorn_config(app, app.state.settings, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the app did not start")
        time.sleep(0.05)
    try:
        yield LiveServer(url=f"http://127.0.0.1:{port}", app=app)
    finally:
        server.should_exit = True
        thread.join(30)


@pytest.fixture
def live_server(runtime: Runtime, redis: Redis) -> Iterator[LiveServer]:
    """The app on a real socket: for SSE, WebSockets, browsers and anything that must stream."""
    with serve(make_app(runtime)) as server:
        yield server
