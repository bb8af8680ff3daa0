"""GET /api/v1/admin/overview: an admin sees the live sessions and the users; anyone else gets a plain 404."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from api.accounts import Accounts
from tests.conftest import Player
from tests.factories import SessionScript

OVERVIEW = "/api/v1/admin/overview"


async def test_an_admin_sees_another_users_live_session_and_every_user(
    client: AsyncTestClient[Any], redis: Redis, alice: Player, bob: Player
) -> None:
    await Accounts(redis).grant_admin(alice.user_id)
    script = SessionScript()
    answer = await client.post("/api/v1/events", json={"events": [script.start()]}, headers=bob.headers)
    assert answer.json()["accepted"] == 1
    overview = (await client.get(OVERVIEW, headers=alice.headers)).json()
    assert [(s["user"], s["session_id"], s["big_blind"]) for s in overview["live_sessions"]] == [
        ("bob", script.session_id, 200)
    ]
    assert {u["name"]: u["admin"] for u in overview["users"]} == {"alice": True, "bob": False}
    assert all(u["devices"] for u in overview["users"])


async def test_a_user_who_is_not_an_admin_gets_404_as_if_there_were_no_such_route(
    client: AsyncTestClient[Any], bob: Player
) -> None:
    answer = await client.get(OVERVIEW, headers=bob.headers)
    assert answer.status_code == 404
    assert "overview" not in answer.text and "admin" not in answer.text
