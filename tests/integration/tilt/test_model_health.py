"""A broken tilt model is reported by /readyz with its reason, and ingestion goes on without it."""

from __future__ import annotations

from pathlib import Path

from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from adapters.clickhouse import Warehouse
from bankroll.wiring import Runtime, make_app
from shared.settings import Settings
from tests.conftest import make_player
from tests.factories import played_session
from workers.sinks import ClickHouseSink
from workers.tilt.sink import TiltSink


async def test_a_corrupt_model_fails_readyz_with_the_reason_while_events_are_still_accepted(
    settings: Settings, warehouse: Warehouse, redis: Redis, tmp_path: Path
) -> None:
    broken = tmp_path / "tilt.onnx"
    broken.write_bytes(b"this is not an ONNX model")
    (tmp_path / "model_card.json").write_bytes((Path("workers/tilt_model/model_card.json")).read_bytes())
    tilt = TiltSink(broken)
    runtime = Runtime(
        settings=settings,
        warehouse=warehouse,
        sinks=[ClickHouseSink(warehouse), tilt],
        readiness={"clickhouse": warehouse.ping, "tilt_model": tilt.ping},
    )
    player = await make_player(redis, "carol")
    async with AsyncTestClient(app=make_app(runtime), timeout=30) as client:
        ready = await client.get("/readyz")
        assert ready.status_code == 503
        check = ready.json()["checks"]["tilt_model"]
        assert check.startswith("failing: ModelUnavailable") and str(broken) in check
        _, events = played_session()
        answer = (await client.post("/api/v1/events", json={"events": events}, headers=player.headers)).json()
        assert answer["accepted"] == len(events)


async def test_a_missing_model_is_named_in_readyz(settings: Settings, warehouse: Warehouse, tmp_path: Path) -> None:
    tilt = TiltSink(tmp_path / "nowhere.onnx")
    runtime = Runtime(settings=settings, warehouse=warehouse, sinks=[tilt], readiness={"tilt_model": tilt.ping})
    async with AsyncTestClient(app=make_app(runtime), timeout=30) as client:
        check = (await client.get("/readyz")).json()["checks"]["tilt_model"]
    assert check.startswith("failing: ModelUnavailable") and "not found" in check and str(tmp_path) in check
