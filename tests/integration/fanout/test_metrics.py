"""``/metrics``: off without its token, refused without it, and counting what the intake and the fan-out did."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from prometheus_client.parser import text_string_to_metric_families
from redis.asyncio import Redis

from adapters import keys
from adapters.clickhouse import Warehouse
from adapters.outbox import ENTRY_FIELD
from shared.settings import Settings, load_settings
from tests.conftest import Player, eventually
from tests.factories import SessionScript
from tests.integration.fanout.test_sinks import serving
from tests.services import RedisServer
from workers import deadletters
from workers.sinks import ClickHouseSink

TOKEN = "scrape-me-0123456789"


@pytest.fixture
def settings(tmp_path: Path, redis_server: RedisServer) -> Settings:
    env = {"BANKROLL_DATA_DIR": str(tmp_path), "REDIS_URL": redis_server.url, "BANKROLL_METRICS_TOKEN": TOKEN}
    return load_settings(env)


async def scrape(client: AsyncTestClient[Any]) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a scrape, by name and labels."""
    response = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    assert response.headers["content-type"].count("charset") == 1
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def events(outcome: str, kind: str, reason: str = "") -> tuple[str, frozenset[tuple[str, str]]]:
    return "bankroll_events_total", frozenset({"outcome": outcome, "type": kind, "reason": reason}.items())


async def test_without_a_metrics_token_there_is_no_metrics_route(
    tmp_path: Path, redis_server: RedisServer, warehouse: Warehouse
) -> None:
    unset = load_settings({"BANKROLL_DATA_DIR": str(tmp_path), "REDIS_URL": redis_server.url})
    async with serving(unset, warehouse, [ClickHouseSink(warehouse)]) as client:
        response = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 404
    assert "BANKROLL_METRICS_TOKEN" in response.json()["detail"]


async def test_a_scrape_without_the_token_or_with_another_is_refused(
    settings: Settings, warehouse: Warehouse, alice: Player
) -> None:
    async with serving(settings, warehouse, [ClickHouseSink(warehouse)]) as client:
        for headers in ({}, {"Authorization": "Bearer wrong"}, alice.headers):
            response = await client.get("/metrics", headers=headers)
            assert response.status_code == 401
            assert response.json()["detail"] == "metrics need `Authorization: Bearer <BANKROLL_METRICS_TOKEN>`"


async def test_events_are_counted_by_outcome_type_and_reason_and_a_poison_entry_shows_as_a_dead_letter(
    settings: Settings, warehouse: Warehouse, redis: Redis, alice: Player
) -> None:
    s = SessionScript()
    start, stack = s.start(buy_in=20000), s.stack(23000)
    bad = dict(s.stack(1), data={"amount": -5})  # below the bound: rejected on its own
    async with serving(settings, warehouse, [ClickHouseSink(warehouse)]) as client:
        before = await scrape(client)
        first = await client.post("/api/v1/events", json={"events": [start, stack, bad]}, headers=alice.headers)
        assert [r["status"] for r in first.json()["results"]] == ["accepted", "accepted", "rejected"]
        assert first.json()["results"][2]["rule"] == "invalid"
        again = await client.post("/api/v1/events", json={"events": [start]}, headers=alice.headers)
        assert again.json()["duplicate"] == 1
        await redis.xadd(keys.OUTBOX, {ENTRY_FIELD: b"\xff not even json"})  # a poison entry

        async def dead_lettered() -> dict[tuple[str, frozenset[tuple[str, str]]], float] | None:
            # The figure is what Redis holds (a drain that ran twice at once may have recorded the entry twice).
            now = await scrape(client)
            shown = now.get(("bankroll_dead_letters", frozenset({("sink", "clickhouse")})), 0)
            held = (await deadletters.count_by_sink(redis)).get("clickhouse", 0)
            return now if shown >= 1 and shown == held else None

        after = await eventually(dead_lettered)

    def grew(key: tuple[str, frozenset[tuple[str, str]]]) -> float:
        return after.get(key, 0) - before.get(key, 0)

    assert grew(events("accepted", "session.started")) == 1
    assert grew(events("accepted", "stack.counted")) == 1
    assert grew(events("rejected", "stack.counted", "invalid")) == 1
    assert grew(events("duplicate", "session.started")) == 1
    assert after[("bankroll_outbox_backlog", frozenset({("sink", "clickhouse")}))] >= 0
    assert ("bankroll_outbox_lag_seconds", frozenset({("sink", "clickhouse")})) in after
    assert ("bankroll_outbox_length", frozenset()) in after and ("bankroll_stream_clients", frozenset()) in after
    posts = [
        value
        for (name, labels), value in after.items()
        if name == "bankroll_http_requests_total" and ("path", "/api/v1/events") in labels
    ]
    assert sum(posts) >= 2  # Litestar's HTTP figures, by route
