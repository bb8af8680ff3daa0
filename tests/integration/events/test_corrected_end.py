"""A forgotten timer's real end (`session.ended.ended_at`): never before the start, and breaks after it do not count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from litestar.testing import AsyncTestClient

from tests.conftest import Player
from tests.factories import SessionScript


async def post(client: AsyncTestClient[Any], player: Player, events: list[dict[str, Any]]) -> dict[str, Any]:
    response = await client.post("/api/v1/events", json={"events": events}, headers=player.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def forgotten_timer() -> tuple[SessionScript, dict[str, Any], dict[str, Any]]:
    """Started 10 h ago; the end confirmed now as 'really ended at' some time to fill in."""
    s = SessionScript(start=datetime.now(UTC) - timedelta(hours=10))
    return s, s.start(), s.end(30000, after_minutes=590)


async def test_a_real_end_before_the_start_is_refused_with_a_reason(
    client: AsyncTestClient[Any], alice: Player
) -> None:
    s, start, end = forgotten_timer()
    await post(client, alice, [start])
    end["data"]["ended_at"] = (datetime.fromisoformat(start["at"]) - timedelta(hours=1)).isoformat()
    body = await post(client, alice, [end])
    assert body["rejected"] == 1
    reason = body["results"][0]["reason"]
    assert "`$.data.ended_at`" in reason and "before the session started" in reason
    live = (await client.get(f"/api/v1/sessions/{s.session_id}", headers=alice.headers)).json()
    assert live["state"]["status"] == "active"  # nothing of the refused end was folded


async def test_a_real_end_before_a_start_in_the_same_batch_is_refused(
    client: AsyncTestClient[Any], alice: Player
) -> None:
    _, start, end = forgotten_timer()
    end["data"]["ended_at"] = (datetime.fromisoformat(start["at"]) - timedelta(minutes=1)).isoformat()
    body = await post(client, alice, [start, end])
    assert (body["accepted"], body["rejected"]) == (1, 1)
    assert "before the session started" in body["results"][1]["reason"]


async def test_breaks_after_the_real_end_are_not_subtracted(client: AsyncTestClient[Any], alice: Player) -> None:
    s = SessionScript(start=datetime.now(UTC) - timedelta(hours=10))
    events = [s.start(), *s.break_(20, after_minutes=240), s.end(30000, after_minutes=300)]
    events[-1]["data"]["ended_at"] = (datetime.fromisoformat(events[0]["at"]) + timedelta(hours=3)).isoformat()
    assert (await post(client, alice, events))["accepted"] == len(events)
    live = (await client.get(f"/api/v1/sessions/{s.session_id}", headers=alice.headers)).json()
    assert live["played_seconds"] == 3 * 3600
