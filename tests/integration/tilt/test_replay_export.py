"""`bankroll tilt replay` reads the app's own events.jsonl export and alerts exactly as on the replay contract."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

from litestar.testing import AsyncTestClient

from adapters.clickhouse import Warehouse
from bankroll.cli import main
from tests.conftest import Player, eventually
from tests.tilt_scenarios.script import EVENTS


def replay(path: Path) -> list[dict[str, Any]]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["tilt", "replay", str(path)]) == 0
    return [json.loads(line) for line in out.getvalue().splitlines()]


async def test_a_players_exported_events_replay_to_the_same_alerts_as_the_contract_file(
    client: AsyncTestClient[Any], warehouse: Warehouse, alice: Player, tmp_path: Path
) -> None:
    lines = [json.loads(line) for line in EVENTS.read_text().splitlines()]
    fay = [line for line in lines if line["user"] == "fay"]  # a late-night restart after two losing sessions
    contract = tmp_path / "fay.jsonl"
    contract.write_text("".join(json.dumps(line) + "\n" for line in fay))
    events = [line["event"] for line in fay]
    for start in range(0, len(events), 100):
        answer = await client.post(
            "/api/v1/events", json={"events": events[start : start + 100]}, headers=alice.headers
        )
        assert answer.json()["accepted"] == len(events[start : start + 100]), answer.json()

    async def stored() -> bool:
        rows = await warehouse.query("SELECT count() FROM events WHERE user_id = {u:String}", {"u": alice.user_id})
        return int(rows[0][0]) == len(events)

    await eventually(stored)
    export = tmp_path / "events.jsonl"
    export.write_bytes((await client.get("/api/v1/export/events.jsonl", headers=alice.headers)).content)

    expected = replay(contract)
    assert [alert["reasons"] for alert in expected]  # the late-night start alerts, with its reasons
    assert replay(export) == expected
