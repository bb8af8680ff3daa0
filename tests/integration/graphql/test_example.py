"""docs/examples/graphql_client.py, run as a player would run it, against a live server: it cannot rot."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import msgspec
from redis.asyncio import Redis

from adapters import keys
from shared.tilt_policy import Alert
from tests.conftest import LiveServer, Player, eventually

EXAMPLE = Path(__file__).resolve().parents[3] / "docs" / "examples" / "graphql_client.py"


async def test_the_documented_client_lists_posts_follows_the_live_state_and_gets_a_tilt_alert(
    live_server: LiveServer, alice: Player, redis: Redis
) -> None:
    script = await asyncio.create_subprocess_exec(
        sys.executable, str(EXAMPLE), live_server.url, alice.token, "--alerts", "1", "--wait", "60",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:

        async def listening() -> bool:
            [(_, count)] = await redis.pubsub_numsub(keys.alert_channel(alice.user_id))
            return bool(count)

        await eventually(listening, timeout=60)
        # The tilt worker publishes each alert it raises on this channel (tests/integration/graphql/
        # test_subscriptions.py drives the real detector); here the script only has to receive one.
        alert = Alert(session_id="s-1", at=datetime.now(UTC), score=0.91, reasons=["three rebuys in 20 minutes"])
        await redis.publish(keys.alert_channel(alice.user_id), msgspec.json.encode(alert))
        out, err = await asyncio.wait_for(script.communicate(), timeout=60)
    finally:
        if script.returncode is None:
            script.kill()
            await script.wait()
    assert script.returncode == 0, err.decode()
    lines = dict(line.split(": ", 1) for line in out.decode().splitlines() if ": " in line)
    assert json.loads(lines["this month"])["sessions"] == 0
    assert json.loads(lines["posted"])["accepted"] == 1
    assert json.loads(lines["live"])["state"] == {"stack": 26500, "profit": 6500, "status": "active"}
    assert json.loads(lines["tilt alert"])["reasons"] == ["three rebuys in 20 minutes"]
