"""Exports are complete, a backup restores to identical statistics, CSV imports are all-or-nothing and idempotent,
and replay from the raw events equals the live state."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from adapters.clickhouse import Warehouse
from api.accounts import Accounts
from bankroll import backup
from bankroll.wiring import Runtime, make_app
from shared.settings import load_settings
from tests.conftest import Player, eventually, make_player
from tests.factories import SessionScript
from tests.integration.stats.history import history, post_history, wait_for_history
from tests.services import RedisServer
from workers.sinks import ClickHouseSink

STATS = [
    "summary?currency=USD&format=cash",
    "summary?currency=USD&mix_formats=true",
    "summary?currency=EUR",
    "breakdown?by=stakes&currency=USD",
    "bankroll",
    "calendar?currency=USD",
]


@pytest.fixture
async def empty_server(
    redis_server: RedisServer, warehouse: Warehouse, tmp_path: Path
) -> AsyncIterator[tuple[AsyncTestClient[Any], Redis]]:
    """A second server: its own (flushed) Redis database, so no event or session id is known to it yet.

    It shares the test process's chDB (one engine per process); rows stay apart by user id.
    """
    url = redis_server.url.rsplit("/", 1)[0] + "/1"
    redis = Redis.from_url(url)
    await redis.flushdb()
    settings = load_settings({"BANKROLL_DATA_DIR": str(tmp_path / "second"), "REDIS_URL": url})
    runtime = Runtime(settings=settings, warehouse=warehouse, sinks=[ClickHouseSink(warehouse)])
    async with AsyncTestClient(app=make_app(runtime), timeout=30) as client:
        yield client, redis
    await redis.flushdb()
    await redis.aclose()


async def fetch(client: AsyncTestClient[Any], player: Player, path: str) -> Any:
    response = await client.get(path, headers=player.headers)
    assert response.status_code == 200, response.text
    return response


async def test_exports_hold_every_session_transaction_and_raw_event(
    client: AsyncTestClient[Any], warehouse: Warehouse, alice: Player
) -> None:
    events = await post_history(client, warehouse, alice)
    sessions = (await fetch(client, alice, "/api/v1/export/sessions.csv")).text.splitlines()
    transactions = (await fetch(client, alice, "/api/v1/export/transactions.csv")).text.splitlines()
    lines = (await fetch(client, alice, "/api/v1/export/events.jsonl")).text.splitlines()
    table = pq.read_table(io.BytesIO((await fetch(client, alice, "/api/v1/export/events.parquet")).content))
    assert len(sessions) == 1 + 6 and sum(",active," in row for row in sessions) == 1
    assert transactions[1].split(",")[2:5] == ["deposit", "1000.00", "USD"]
    assert {json.loads(line)["id"] for line in lines} == {e["id"] for e in events}
    assert sorted(table.column("id").to_pylist()) == sorted(e["id"] for e in events)


async def test_exported_events_keep_their_payload_and_local_time(
    client: AsyncTestClient[Any], warehouse: Warehouse, alice: Player
) -> None:
    events = await post_history(client, warehouse, alice)
    lines = (await fetch(client, alice, "/api/v1/export/backup")).text.splitlines()
    exported = {e["id"]: e for e in map(json.loads, lines)}
    for event in events:
        assert exported[event["id"]]["data"].items() >= event["data"].items()
        assert exported[event["id"]]["at"] == event["at"]


async def test_a_backup_restored_into_an_empty_server_gives_identical_statistics(
    client: AsyncTestClient[Any],
    warehouse: Warehouse,
    alice: Player,
    empty_server: tuple[AsyncTestClient[Any], Redis],
) -> None:
    await post_history(client, warehouse, alice)
    lines = (await fetch(client, alice, "/api/v1/export/backup")).content.splitlines()
    before = [(await fetch(client, alice, f"/api/v1/stats/{path}")).json() for path in STATS]

    second, second_redis = empty_server
    restored = await make_player(second_redis, "alice-restored")
    second.headers.update(restored.headers)
    totals = await backup.restore(second, lines, batch_size=4)
    assert (totals.accepted, totals.rejected) == (len(history()), 0), totals.reasons
    await wait_for_history(warehouse, restored)
    after = [(await fetch(second, restored, f"/api/v1/stats/{path}")).json() for path in STATS]
    assert after == before


async def test_a_backup_with_voids_and_corrections_restores_to_the_same_session_and_statistics(
    client: AsyncTestClient[Any],
    warehouse: Warehouse,
    alice: Player,
    empty_server: tuple[AsyncTestClient[Any], Redis],
) -> None:
    s = SessionScript(start=datetime(2025, 5, 5, 18, tzinfo=UTC))
    start, rebuy, end = s.start(), s.rebuy(20000), s.end(30000)
    deposit = {
        **s.event("transaction.recorded", {"kind": "deposit", "amount": 1000, "currency": "USD"}),
        "session_id": None,
    }
    await client.post("/api/v1/events", json={"events": [start, rebuy, end, deposit]}, headers=alice.headers)
    fix = {**s.correct(deposit, {"kind": "deposit", "amount": 5000, "currency": "USD"}), "session_id": None}
    amendments = [s.void(rebuy), s.correct(end, {"cash_out": 45000}), fix]
    answer = await client.post("/api/v1/events", json={"events": amendments}, headers=alice.headers)
    assert answer.json()["accepted"] == 3, answer.json()

    async def backed_up() -> list[bytes] | None:
        lines: list[bytes] = (await fetch(client, alice, "/api/v1/export/backup")).content.splitlines()
        return lines if len(lines) == 7 else None

    lines = await eventually(backed_up)
    before = [(await fetch(client, alice, f"/api/v1/stats/{path}")).json() for path in ("summary", "bankroll")]
    assert before[0]["profit"] == 25000 and [p["balance"] for p in before[1]["USD"]] == [5000, 30000]
    second, second_redis = empty_server
    restored = await make_player(second_redis, "alice-restored")
    second.headers.update(restored.headers)
    totals = await backup.restore(second, lines, batch_size=2)
    assert (totals.accepted, totals.rejected) == (7, 0), totals.reasons

    async def same_figures() -> bool:
        after = [(await fetch(second, restored, f"/api/v1/stats/{path}")).json() for path in ("summary", "bankroll")]
        return after == before

    await eventually(same_figures)
    live = (await fetch(second, restored, f"/api/v1/sessions/{s.session_id}")).json()["state"]
    assert (live["invested"], live["rebuys"], live["cash_out"]) == (20000, 0, 45000)


async def test_restoring_the_same_backup_twice_creates_nothing_new(
    client: AsyncTestClient[Any], warehouse: Warehouse, alice: Player, empty_server: tuple[AsyncTestClient[Any], Redis]
) -> None:
    await post_history(client, warehouse, alice)
    lines = (await fetch(client, alice, "/api/v1/export/backup")).content.splitlines()
    second, second_redis = empty_server
    second.headers.update((await make_player(second_redis, "alice-restored")).headers)
    await backup.restore(second, lines)
    again = await backup.restore(second, lines)
    assert (again.accepted, again.duplicate, again.rejected) == (0, len(lines), 0)


CSV = (
    "Date,Start,End,Stakes,Venue,Buy In,Cash Out\n"
    "2025-04-01,19:00,23:00,1/2,Aria,200,350\n"
    "2025-04-02,20:00,22:00,1/2,Aria,300,100\n"
)
MAPPING = "Date=date,Start=start_time,End=end_time,Stakes=stakes,Venue=location,Buy In=buy_in,Cash Out=cash_out"


async def import_csv(
    client: AsyncTestClient[Any], player: Player, body: str, dry_run: bool = False
) -> tuple[int, dict[str, Any]]:
    params = {"mapping": MAPPING, "currency": "USD", "tz": "+02:00", "dry_run": str(dry_run).lower()}
    response = await client.post("/api/v1/import/csv", content=body.encode(), params=params, headers=player.headers)
    return response.status_code, response.json()


async def ended_sessions(warehouse: Warehouse, player: Player) -> int:
    rows = await warehouse.query(
        "SELECT count() FROM sessions FINAL WHERE user_id = {u:String} AND status = 'ended'", {"u": player.user_id}
    )
    return int(rows[0][0])


async def test_a_csv_dry_run_previews_the_sessions_and_creates_nothing(
    client: AsyncTestClient[Any], alice: Player
) -> None:
    status, report = await import_csv(client, alice, CSV, dry_run=True)
    assert status == 200
    assert (report["dry_run"], report["sessions"], report["new"], report["existing"]) == (True, 2, 2, 0)
    assert [s["profit"] for s in report["preview"]] == [15000, -20000]
    assert (await fetch(client, alice, "/api/v1/sessions/")).json() == []


async def test_a_csv_import_creates_the_sessions_once_however_often_it_runs(
    client: AsyncTestClient[Any], warehouse: Warehouse, alice: Player
) -> None:
    first = await import_csv(client, alice, CSV)
    second = await import_csv(client, alice, CSV)
    assert (first[0], first[1]["new"], first[1]["existing"]) == (200, 2, 0)
    assert (second[0], second[1]["new"], second[1]["existing"]) == (200, 0, 2)

    async def imported() -> bool:
        return await ended_sessions(warehouse, alice) == 2

    await eventually(imported)
    summary = (await fetch(client, alice, "/api/v1/stats/summary?currency=USD")).json()
    assert (summary["sessions"], summary["profit"], summary["hours"]) == (2, -5000, 6.0)


async def test_a_csv_with_one_bad_row_imports_nothing_and_names_row_and_column(
    client: AsyncTestClient[Any], alice: Player
) -> None:
    status, report = await import_csv(client, alice, CSV + "2025-04-03,19:00,23:00,1/2,Aria,1.250,300\n")
    assert status == 400
    assert [(e["row"], e["column"], e["value"]) for e in report["errors"]] == [(4, "Buy In", "1.250")]
    assert report["new"] == 0
    assert (await fetch(client, alice, "/api/v1/sessions/")).json() == []


async def test_a_second_device_reimporting_the_same_csv_creates_only_the_new_rows(
    client: AsyncTestClient[Any], redis: Redis, alice: Player
) -> None:
    assert (await import_csv(client, alice, CSV))[1]["new"] == 2
    tablet = Player(alice.name, alice.user_id, (await Accounts(redis).add_device(alice.user_id, "tablet")).token)
    more = CSV + "2025-04-03,19:00,21:00,1/2,Aria,200,260\n"
    dry_status, dry = await import_csv(client, tablet, more, dry_run=True)
    status, real = await import_csv(client, tablet, more)
    assert (dry_status, dry["new"], dry["existing"]) == (200, 1, 2)
    assert (status, real["new"], real["existing"], real["errors"]) == (200, dry["new"], dry["existing"], [])
    assert len((await fetch(client, alice, "/api/v1/sessions/")).json()) == 3
    again = await import_csv(client, alice, more)  # and back on the first device: nothing new either
    assert (again[0], again[1]["new"], again[1]["existing"]) == (200, 0, 3)


@pytest.mark.parametrize(
    ("body", "params", "words"),
    [
        ((CSV + "2025-04-03,19:00,21:00,1/2," + "x" * 140_000 + ",200,260\n").encode(), {}, ["row 4", "131072"]),
        (CSV.encode(), {"tz": "+99:99"}, ["`tz`", "'+99:99'"]),
        (CSV.encode(), {"encoding": "punycode"}, ["not punycode"]),
        (b"\xff\xfe\xfd" + CSV.encode(), {}, ["UTF-16"]),
    ],
)
async def test_a_csv_that_cannot_be_read_is_a_clear_400_never_a_500(
    client: AsyncTestClient[Any], alice: Player, body: bytes, params: dict[str, str], words: list[str]
) -> None:
    query = {"mapping": MAPPING, "currency": "USD", **params}
    response = await client.post("/api/v1/import/csv", content=body, params=query, headers=alice.headers)
    assert response.status_code == 400, response.text
    for word in words:
        assert word in response.json()["detail"]


async def test_csv_downloads_name_their_charset_once(client: AsyncTestClient[Any], alice: Player) -> None:
    for name in ("sessions.csv", "transactions.csv"):
        response = await fetch(client, alice, f"/api/v1/export/{name}")
        assert response.headers["content-type"] == "text/csv; charset=utf-8"


async def test_a_csv_in_another_encoding_is_a_clear_400(client: AsyncTestClient[Any], alice: Player) -> None:
    body = CSV.replace("Aria", "Café").encode("latin-1")
    params = {"mapping": MAPPING, "currency": "USD"}
    response = await client.post("/api/v1/import/csv", content=body, params=params, headers=alice.headers)
    assert response.status_code == 400 and "not UTF-8" in response.json()["detail"]


async def test_replay_from_clickhouse_equals_the_live_state(
    client: AsyncTestClient[Any], warehouse: Warehouse, alice: Player
) -> None:
    events = await post_history(client, warehouse, alice)
    for session_id in {e["session_id"] for e in events if e["session_id"]}:
        live = (await fetch(client, alice, f"/api/v1/sessions/{session_id}")).json()["state"]
        replayed = (await fetch(client, alice, f"/api/v1/sessions/{session_id}/replay")).json()
        assert replayed == live


async def test_the_cli_replay_folds_directly_from_the_warehouse(
    client: AsyncTestClient[Any], warehouse: Warehouse, alice: Player
) -> None:
    events = await post_history(client, warehouse, alice)
    session_id = events[4]["session_id"]  # the session with a rebuy
    from api.exports import replay_session

    state = await replay_session(warehouse, session_id, user_id=None)
    live = (await fetch(client, alice, f"/api/v1/sessions/{session_id}")).json()["state"]
    assert state is not None and (state.profit, state.invested, state.version) == (-6000, 40000, live["version"])


async def test_players_never_see_each_others_exports_or_replays(
    client: AsyncTestClient[Any], warehouse: Warehouse, alice: Player, bob: Player
) -> None:
    events = await post_history(client, warehouse, alice)
    replay = await client.get(f"/api/v1/sessions/{events[0]['session_id']}/replay", headers=bob.headers)
    assert replay.status_code == 404
    assert (await fetch(client, bob, "/api/v1/export/events.jsonl")).text == ""
    assert len((await fetch(client, bob, "/api/v1/export/sessions.csv")).text.splitlines()) == 1
