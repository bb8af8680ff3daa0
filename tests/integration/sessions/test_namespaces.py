"""Sessions and event ids live under their user; data of a release before that moves there at start-up."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from adapters import keys
from adapters.sessions import move_to_user_namespaces
from tests.conftest import Player
from tests.factories import SessionScript


async def _as_before_namespaces(redis: Redis, user_id: str, session_id: str, event_ids: list[str]) -> None:
    """Lay a stored session out as releases before per-user namespaces did."""
    await redis.delete(keys.LAYOUT)  # those releases recorded no layout
    for new, old in zip(keys.session(user_id, session_id), keys.legacy_session(session_id), strict=True):
        if await redis.exists(new):
            await redis.rename(new, old)
    for eid in event_ids:
        await redis.rename(keys.event_id(user_id, eid), keys.legacy_event_id(eid))


async def test_a_session_stored_before_namespaces_moves_under_its_user_whole_and_once(
    client: AsyncTestClient[Any], redis: Redis, alice: Player, bob: Player
) -> None:
    s = SessionScript()
    events = [s.start(buy_in=20000), s.stack(26000)]
    assert (await client.post("/api/v1/events", json={"events": events}, headers=alice.headers)).status_code == 200
    await _as_before_namespaces(redis, alice.user_id, s.session_id, [e["id"] for e in events])
    assert (await client.get(f"/api/v1/sessions/{s.session_id}", headers=alice.headers)).status_code == 404

    assert await move_to_user_namespaces(redis) == 1
    assert await move_to_user_namespaces(redis) == 0  # nothing left in the old layout
    live = await client.get(f"/api/v1/sessions/{s.session_id}", headers=alice.headers)
    assert live.json()["state"]["stack"] == 26000
    again = await client.post("/api/v1/events", json={"events": events}, headers=alice.headers)
    assert [r["status"] for r in again.json()["results"]] == ["duplicate", "duplicate"]
    assert await redis.ttl(keys.event_id(alice.user_id, events[0]["id"])) > 0  # the id keeps its expiry
    assert await redis.keys(keys.legacy_session("*").owner.replace("*", s.session_id)) == []
    assert (await client.get(f"/api/v1/sessions/{s.session_id}", headers=bob.headers)).status_code == 404
