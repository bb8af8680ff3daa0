"""Dropped streams give their Redis connection back: phones reconnect EventSource all day.

The app runs under a real uvicorn on a real socket against the real Redis; each stream is opened over a raw TCP
connection, read up to its first state, and dropped by closing the socket, as a phone losing signal does.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from redis.asyncio import Redis

from shared.settings import Settings, load_settings
from tests.conftest import LiveServer, Player
from tests.factories import SessionScript
from tests.services import RedisServer

STREAMS = 2000
AT_ONCE = 20


@pytest.fixture
def settings(tmp_path: Path, redis_server: RedisServer) -> Settings:
    # The cap on open streams has its own test; here up to AT_ONCE streams of one user overlap.
    env = {"BANKROLL_DATA_DIR": str(tmp_path), "REDIS_URL": redis_server.url, "MAX_STREAMS_PER_USER": "10000"}
    return load_settings(env)


async def open_and_drop(url: str, path: str) -> bytes:
    """Open a stream over a raw socket, read until its first state, then drop the connection."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nAccept: text/event-stream\r\n\r\n".encode())
        await writer.drain()
        return await asyncio.wait_for(reader.readuntil(b"event: state"), timeout=30)
    finally:
        writer.close()
        await writer.wait_closed()


def in_use(app: Any) -> int:
    """Connections the app's Redis pool has handed out and not yet taken back."""
    return len(app.state.redis.connection_pool._in_use_connections)


async def pubsub_clients(redis: Redis) -> int:
    return len(await redis.client_list(_type="pubsub"))


async def test_two_thousand_dropped_streams_leak_no_connection_and_posts_still_succeed(
    live_server: LiveServer, alice: Player, redis: Redis
) -> None:
    s = SessionScript()
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as client:
        started = await client.post("/api/v1/events", json={"events": [s.start()]}, headers=alice.headers)
        assert started.json()["accepted"] == 1
        baseline = in_use(live_server.app)
        path = f"/api/v1/sessions/{s.session_id}/stream?token={alice.token}"
        gate = asyncio.Semaphore(AT_ONCE)

        async def one() -> bytes:
            async with gate:
                return await open_and_drop(live_server.url, path)

        heads = await asyncio.gather(*(one() for _ in range(STREAMS)))
        assert all(head.startswith(b"HTTP/1.1 200") for head in heads)

        deadline = asyncio.get_running_loop().time() + 10
        while (in_use(live_server.app), await pubsub_clients(redis)) != (baseline, 0):
            assert asyncio.get_running_loop().time() < deadline, (
                f"pool in use {in_use(live_server.app)} (baseline {baseline}), "
                f"pubsub clients {await pubsub_clients(redis)}"
            )
            await asyncio.sleep(0.05)

        posts = [
            client.post("/api/v1/events", json={"events": [SessionScript().start()]}, headers=alice.headers)
            for _ in range(50)
        ]
        answers = await asyncio.gather(*posts)
        assert [a.status_code for a in answers] == [200] * 50
        assert sum(a.json()["accepted"] for a in answers) == 50
        assert in_use(live_server.app) == baseline
