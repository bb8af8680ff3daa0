"""Timeouts and limits: half-sent requests cannot hold the server; per-user rate limits and quotas answer 429."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from typing import Any

import httpx
import msgspec
import pytest
from litestar.testing import AsyncTestClient

from api.serving import uvicorn_config
from bankroll.wiring import Runtime, make_app
from tests.conftest import Player
from tests.factories import SessionScript
from tests.services import free_port


@pytest.fixture
async def strict_server(runtime: Runtime) -> Any:
    """The app under uvicorn with short deadlines and a small connection cap, on a real socket."""
    import uvicorn

    settings = msgspec.structs.replace(
        runtime.settings, header_timeout_s=1.0, body_timeout_s=1.0, max_connections=40, embedded_worker=False
    )
    port = free_port()
    app = make_app(dataclasses.replace(runtime, settings=settings))
    server = uvicorn.Server(uvicorn_config(app, settings, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and not task.done(), "the app did not start"
        await asyncio.sleep(0.02)
    yield port
    server.should_exit = True
    await asyncio.wait_for(task, 30)


async def test_a_slowloris_of_half_sent_requests_cannot_hold_the_server(strict_server: int) -> None:
    """100 connections that never finish their headers (more than the 40 allowed), and 20 slow bodies, are cut off
    after their deadline; then an ordinary request is answered at once."""
    opened = []
    for n in range(120):
        reader, writer = await asyncio.open_connection("127.0.0.1", strict_server)
        if n < 100:
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        else:
            writer.write(b"POST /api/v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{")
        await writer.drain()
        opened.append((reader, writer))
    answers = await asyncio.wait_for(asyncio.gather(*(r.read() for r, _ in opened)), timeout=15)
    assert all(a == b"" or a.startswith((b"HTTP/1.1 408", b"HTTP/1.1 503")) for a in answers)
    assert sum(a.startswith(b"HTTP/1.1 408") for a in answers) >= 20
    for _, writer in opened:
        writer.close()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{strict_server}") as client:
        assert (await client.get("/healthz")).status_code == 200


async def test_too_many_batches_in_one_second_answer_429_with_retry_after(runtime: Runtime, alice: Player) -> None:
    settings = msgspec.structs.replace(runtime.settings, batches_per_second=5, embedded_worker=False)
    s = SessionScript()
    async with AsyncTestClient(app=make_app(dataclasses.replace(runtime, settings=settings)), timeout=30) as client:
        answers = await asyncio.gather(
            *(
                client.post("/api/v1/events", json={"events": [s.note(f"n{i}")]}, headers=alice.headers)
                for i in range(40)
            )
        )
    statuses = [a.status_code for a in answers]
    assert 429 in statuses and set(statuses) <= {200, 429}
    refused = next(a for a in answers if a.status_code == 429)
    assert refused.headers["retry-after"] == "1" and "more than 5 batches per second" in refused.json()["detail"]


async def test_new_sessions_per_day_are_a_quota_answered_429_until_midnight(
    client: AsyncTestClient[Any], alice: Player, runtime: Runtime
) -> None:
    quota = runtime.settings.sessions_per_day
    for first in range(0, quota, 100):
        batch = [SessionScript().start() for _ in range(min(100, quota - first))]
        response = await client.post("/api/v1/events", json={"events": batch}, headers=alice.headers)
        assert response.json()["accepted"] == len(batch)
    one_more = await client.post("/api/v1/events", json={"events": [SessionScript().start()]}, headers=alice.headers)
    assert one_more.status_code == 429
    assert 0 < int(one_more.headers["retry-after"]) <= 86400
    assert f"{quota} new sessions today already" in one_more.json()["detail"]
