"""Live sessions: the state after every batch, pushed to the phone over server-sent events."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from litestar.testing import AsyncTestClient

from tests.conftest import LiveServer, Player
from tests.factories import SessionScript


async def test_the_stream_sends_the_state_then_the_new_state_after_each_batch(
    live_server: LiveServer, alice: Player
) -> None:
    s = SessionScript()
    client = httpx.AsyncClient(base_url=live_server.url, timeout=10)
    await client.post("/api/v1/events", json={"events": [s.start(buy_in=20000)]}, headers=alice.headers)
    states: list[dict[str, Any]] = []
    first_state = asyncio.Event()

    async def listen() -> None:
        url = f"/api/v1/sessions/{s.session_id}/stream?token={alice.token}"
        async with client.stream("GET", url) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            async for line in response.aiter_lines():
                if line.startswith("data: "):
                    states.append(json.loads(line.removeprefix("data: ")))
                    first_state.set()
                    if len(states) == 2:
                        return

    listener = asyncio.create_task(listen())
    # The stream is open once the current state arrived; only then can the next batch be seen on it.
    await asyncio.wait_for(first_state.wait(), timeout=10)
    await client.post("/api/v1/events", json={"events": [s.stack(31000)]}, headers=alice.headers)
    await asyncio.wait_for(listener, timeout=10)
    await client.aclose()
    assert [st["state"]["stack"] for st in states] == [20000, 31000]
    assert states[1]["state"]["profit"] == 11000


async def test_another_user_cannot_open_the_stream(client: AsyncTestClient[Any], alice: Player, bob: Player) -> None:
    s = SessionScript()
    await client.post("/api/v1/events", json={"events": [s.start()]}, headers=alice.headers)
    response = await client.get(f"/api/v1/sessions/{s.session_id}/stream", headers=bob.headers)
    assert response.status_code == 404


async def test_readyz_reports_each_dependency(client: AsyncTestClient[Any]) -> None:
    body = (await client.get("/readyz")).json()
    assert (body["status"], body["checks"]) == ("ok", {"redis": "ok", "clickhouse": "ok"})
    assert body["fanout"] == {"backlog_clickhouse": 0, "dead_letters": 0, "lag_ms_clickhouse": 0, "outbox_length": 0}
    assert (await client.get("/healthz")).json() == {"status": "ok", "checks": {"redis": "ok"}, "fanout": {}}


async def test_the_openapi_schema_lists_the_api(client: AsyncTestClient[Any]) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    assert {"/api/v1/events", "/api/v1/sessions/{session_id}/stream"} <= set(schema["paths"])
