"""The whole tilt path: a simulated tilting session posted through the API ends as an encrypted break suggestion.

Real Redis, real chDB, the shipped ONNX model, the real push sender; the push service is a local HTTP endpoint
and the browser's decryption is the independent `http_ece` package.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
from litestar.testing import AsyncTestClient
from prometheus_client.parser import text_string_to_metric_families
from redis.asyncio import Redis

from adapters import keys
from adapters.clickhouse import Warehouse
from adapters.push import PushBook
from bankroll.wiring import Runtime, make_app
from shared.events import MAX_BATCH, to_wire
from shared.push import PushSubscription
from shared.settings import Settings, load_settings
from shared.simulator import simulate
from tests.conftest import Player, eventually, make_player
from tests.integration.push.browser import FakeBrowser
from tests.integration.push.conftest import PushEndpoint
from tests.services import RedisServer
from workers import outbox
from workers.sinks import ClickHouseSink, Sink
from workers.tilt.sink import TiltSink

# Seed 5 gives a recreational player whose sessions hold tilt episodes and a grinder who stays calm
# (ground truth from the simulator's separate label file; the model alerts only in the tilted sessions).
SIM = simulate(6, 6, 5, datetime.now(UTC) - timedelta(days=30))
TILTED, CALM = "recreational-000", "grinder-003"


async def post_player(client: AsyncTestClient[Any], player: Player, name: str) -> int:
    events = [to_wire(e) for user, e in SIM.events if user == name]
    for start in range(0, len(events), MAX_BATCH):
        answer = (
            await client.post(
                "/api/v1/events", json={"events": events[start : start + MAX_BATCH]}, headers=player.headers
            )
        ).json()
        assert answer["rejected"] == 0, answer
    return len(events)


async def subscribe(redis: Redis, player: Player, browser: FakeBrowser, endpoint: str) -> None:
    book = PushBook(redis, allow_insecure_endpoints=True)  # the local endpoint is plain http on 127.0.0.1
    await book.add(player.user_id, msgspec.convert(browser.subscription(endpoint), PushSubscription))


async def tilt_caught_up(redis: Redis, sink: Sink) -> bool:
    waiting = await outbox.backlog(redis, [sink])
    return waiting[sink.name] == 0


async def test_a_tilting_session_produces_a_break_suggestion_with_reasons_and_a_calm_one_none(
    settings: Settings, warehouse: Warehouse, redis: Redis, push_endpoint: PushEndpoint
) -> None:
    tilt = TiltSink()
    runtime = Runtime(settings=settings, warehouse=warehouse, sinks=[ClickHouseSink(warehouse), tilt])
    tilted, calm = await make_player(redis, "tilted"), await make_player(redis, "calm")
    tilted_phone, calm_phone = FakeBrowser(), FakeBrowser()
    await subscribe(redis, tilted, tilted_phone, push_endpoint.url("ok", "tilted"))
    await subscribe(redis, calm, calm_phone, push_endpoint.url("ok", "calm"))
    async with AsyncTestClient(app=make_app(runtime), timeout=60) as client:
        await post_player(client, tilted, TILTED)
        await post_player(client, calm, CALM)
        await eventually(lambda: tilt_caught_up(redis, tilt), timeout=60)
        # Every recorded alert queues one push job; wait for all of them, not only the first to arrive.
        alerts = await redis.llen(keys.alerts(tilted.user_id))
        assert alerts > 0, "the tilting player's sessions raised no alert"
        await eventually(lambda: _count(push_endpoint, "/ok/tilted", alerts), timeout=30)

    tilt_sessions = {str(s) for s, started in SIM.episodes.items() if started is not None}
    pushes = [json.loads(tilted_phone.decrypt(r.body)) for r in push_endpoint.received if r.path == "/ok/tilted"]
    assert pushes, "no break suggestion reached the tilting player's phone"
    for payload in pushes:
        assert payload["kind"] in {"break_suggestion", "start_check", "pause_suggestion"}
        assert payload["session_id"] in tilt_sessions
        assert payload["reasons"] and all(isinstance(r, str) and r for r in payload["reasons"])
        assert payload["score"] >= 0.3
    assert not [r for r in push_endpoint.received if r.path == "/ok/calm"]
    assert await redis.llen(keys.alerts(calm.user_id)) == 0
    assert await redis.llen(keys.alerts(tilted.user_id)) == len(pushes)


async def _count(endpoint: PushEndpoint, path: str, expected: int) -> bool:
    return sum(r.path == path for r in endpoint.received) >= expected


async def test_tilt_scores_alerts_and_pushes_by_outcome_show_on_metrics(
    tmp_path: Path, redis_server: RedisServer, warehouse: Warehouse, redis: Redis, push_endpoint: PushEndpoint
) -> None:
    token = "scrape-0123456789abcdef"
    settings = load_settings(
        {"BANKROLL_DATA_DIR": str(tmp_path), "REDIS_URL": redis_server.url, "BANKROLL_METRICS_TOKEN": token}
    )
    tilt = TiltSink()
    runtime = Runtime(settings=settings, warehouse=warehouse, sinks=[ClickHouseSink(warehouse), tilt])
    tilted = await make_player(redis, "tilted")
    await subscribe(redis, tilted, FakeBrowser(), push_endpoint.url("ok", "phone"))
    await subscribe(redis, tilted, FakeBrowser(), push_endpoint.url("gone", "old-phone"))
    async with AsyncTestClient(app=make_app(runtime), timeout=60) as client:
        posted = await post_player(client, tilted, TILTED)
        await eventually(lambda: tilt_caught_up(redis, tilt), timeout=60)
        alerts = await redis.llen(keys.alerts(tilted.user_id))
        assert alerts > 0, "the tilting player's sessions raised no alert"

        async def pushed() -> dict[str, float] | None:
            response = await client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
            samples = {
                s.name + json.dumps(s.labels, sort_keys=True): s.value
                for family in text_string_to_metric_families(response.text)
                for s in family.samples
            }
            return samples if samples.get('bankroll_pushes_total{"outcome": "sent"}') == alerts else None

        samples = await eventually(pushed, timeout=30)

    # Every alert reached the phone; the old phone was found gone (and deleted) by the first push jobs to try it
    # (jobs run side by side, so more than one may have listed it).
    gone = sum(r.path == "/gone/old-phone" for r in push_endpoint.received)
    assert gone >= 1 and samples['bankroll_pushes_total{"outcome": "gone"}'] == gone
    assert 'bankroll_pushes_total{"outcome": "failed"}' not in samples
    raised = sum(v for k, v in samples.items() if k.startswith("bankroll_tilt_alerts_total"))
    assert raised == alerts
    scored = samples["bankroll_tilt_score_count{}"]
    assert alerts <= scored <= posted  # every cash event the model scored, once
    assert samples['bankroll_tilt_score_bucket{"le": "+Inf"}'] == scored
    assert 0 < samples["bankroll_tilt_score_sum{}"] < scored
