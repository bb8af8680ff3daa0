"""Voids and corrections through the API: the intake rules, and one correction seen the same way by the live state,
the ClickHouse session row, the statistics, the exports and a replay."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from adapters import keys
from adapters.clickhouse import Warehouse
from api.accounts import Accounts
from bankroll.wiring import Runtime, make_app
from shared.settings import Settings
from tests.conftest import Player, eventually
from tests.factories import SessionScript
from tests.integration.events.test_ingest import post
from workers.sinks import ClickHouseSink
from workers.tilt.sink import TiltSink


async def live(client: AsyncTestClient[Any], player: Player, session_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/sessions/{session_id}", headers=player.headers)
    assert response.status_code == 200, response.text
    state: dict[str, Any] = response.json()["state"]
    return state


async def test_undo_of_a_rebuy_takes_it_out_of_the_live_state_and_keeps_both_events(
    client: AsyncTestClient[Any], alice: Player
) -> None:
    s = SessionScript()
    start, rebuy = s.start(), s.rebuy(20000)
    await post(client, alice, [start, rebuy])
    assert (await live(client, alice, s.session_id))["invested"] == 40000
    body = await post(client, alice, [s.void(rebuy)])
    assert body["accepted"] == 1, body
    state = await live(client, alice, s.session_id)
    assert (state["invested"], state["rebuys"], state["stack"]) == (20000, 0, 20000)
    events = (await client.get(f"/api/v1/sessions/{s.session_id}/events", headers=alice.headers)).json()
    assert [e["type"] for e in events] == ["session.started", "chips.added", "event.voided"]


async def test_a_tap_and_its_undo_in_one_batch_are_both_accepted(client: AsyncTestClient[Any], alice: Player) -> None:
    s = SessionScript()
    start, rebuy = s.start(), s.rebuy(20000)
    body = await post(client, alice, [start, rebuy, s.void(rebuy)])
    assert body["accepted"] == 3, body
    assert (await live(client, alice, s.session_id))["invested"] == 20000


async def test_a_void_naming_another_users_event_is_refused_as_not_in_this_session(
    client: AsyncTestClient[Any], alice: Player, bob: Player
) -> None:
    a, b = SessionScript(), SessionScript()
    rebuy = a.rebuy(20000)
    await post(client, alice, [a.start(), rebuy])
    await post(client, bob, [b.start()])
    body = await post(client, bob, [b.void(rebuy)])
    assert body["results"][0]["status"] == "rejected"
    assert f"`$.data.event_id` {rebuy['id']} is not an event of this session" in body["results"][0]["reason"]
    assert (await live(client, alice, a.session_id))["invested"] == 40000


async def test_voiding_a_start_or_an_end_is_refused_with_the_rule(client: AsyncTestClient[Any], alice: Player) -> None:
    s = SessionScript()
    start, end = s.start(), s.end(30000)
    await post(client, alice, [start, end])
    body = await post(client, alice, [s.void(start), s.void(end)])
    reasons = [r["reason"] for r in body["results"]]
    assert "a session's start cannot be voided" in reasons[0]
    assert "a session's end cannot be voided" in reasons[1]


async def test_a_correction_that_breaks_its_types_rules_is_refused_naming_the_field(
    client: AsyncTestClient[Any], alice: Player
) -> None:
    s = SessionScript()
    start = s.start()
    await post(client, alice, [start])
    data = {**start["data"], "stakes": {"small_blind": 500, "big_blind": 200, "ante": 0}}
    body = await post(client, alice, [s.correct(start, data)])
    assert "`$.data.data.stakes.small_blind` 500 is larger than big_blind 200" in body["results"][0]["reason"]


async def test_a_corrected_end_before_the_start_is_refused(client: AsyncTestClient[Any], alice: Player) -> None:
    s = SessionScript()
    start, end = s.start(), s.end(30000)
    await post(client, alice, [start, end])
    before = (datetime.fromisoformat(start["at"]) - timedelta(hours=1)).isoformat()
    body = await post(client, alice, [s.correct(end, {"cash_out": 30000, "ended_at": before})])
    assert "`$.data.data.ended_at`" in body["results"][0]["reason"]


async def test_a_resent_correction_is_a_duplicate(client: AsyncTestClient[Any], alice: Player) -> None:
    s = SessionScript()
    start, count = s.start(), s.stack(23500)
    fix = s.correct(count, {"amount": 25300})
    await post(client, alice, [start, count, fix])
    again = await post(client, alice, [fix])
    assert again["results"][0]["status"] == "duplicate"


async def test_a_correction_after_the_end_changes_live_state_warehouse_stats_exports_and_replay_alike(
    client: AsyncTestClient[Any], warehouse: Warehouse, alice: Player
) -> None:
    s = SessionScript(start=datetime(2025, 6, 2, 18, tzinfo=UTC))
    start, rebuy, count, end = s.start(20000), s.rebuy(20000, 30), s.stack(23500, 30), s.end(30000, 60)
    await post(client, alice, [start, rebuy, count, end])
    # The player fixes two taps on the detail screen: the rebuy was never made, the cash-out was 33,000.
    body = await post(client, alice, [s.void(rebuy, 5), s.correct(end, {"cash_out": 33000})])
    assert body["accepted"] == 2, body
    state = await live(client, alice, s.session_id)
    assert (state["invested"], state["rebuys"], state["cash_out"], state["profit"]) == (20000, 0, 33000, 13000)

    async def corrected_row() -> bool:
        rows = await warehouse.query(
            "SELECT profit, invested, rebuys, version FROM sessions FINAL WHERE session_id = {s:String}",
            {"s": s.session_id},
        )
        return rows == [(13000, 20000, 0, 6)]

    await eventually(corrected_row)
    summary = (await client.get("/api/v1/stats/summary?currency=USD", headers=alice.headers)).json()
    assert (summary["sessions"], summary["profit"]) == (1, 13000)
    sessions_csv = (await client.get("/api/v1/export/sessions.csv", headers=alice.headers)).text
    row = next(csv.DictReader(io.StringIO(sessions_csv)))
    assert (row["invested"], row["cash_out"], row["profit"], row["rebuys"]) == ("200.00", "330.00", "130.00", "0")

    async def all_events_exported() -> list[dict[str, Any]] | None:
        text = (await client.get("/api/v1/export/events.jsonl", headers=alice.headers)).text
        lines = [json.loads(line) for line in text.splitlines()]
        return lines if len(lines) == 6 else None

    lines = await eventually(all_events_exported)
    assert [e["type"] for e in lines].count("event.corrected") == 1 and lines[-1]["data"]["data"]["cash_out"] == 33000
    replayed = (await client.get(f"/api/v1/sessions/{s.session_id}/replay", headers=alice.headers)).json()
    assert replayed == state


async def test_a_voided_and_a_corrected_transaction_change_the_bankroll_and_the_export_alike(
    client: AsyncTestClient[Any], warehouse: Warehouse, alice: Player
) -> None:
    money = SessionScript(start=datetime(2025, 6, 1, 10, tzinfo=UTC))

    def transaction(kind: str, amount: int) -> dict[str, Any]:
        data = {"kind": kind, "amount": amount, "currency": "USD", "note": ""}
        return {**money.event("transaction.recorded", data, 1), "session_id": None}

    deposit, typo = transaction("deposit", 100000), transaction("withdrawal", 5000)
    await post(client, alice, [deposit, typo])

    async def balances() -> list[int]:
        curve = (await client.get("/api/v1/stats/bankroll?currency=USD", headers=alice.headers)).json()
        return [p["balance"] for p in curve.get("USD", [])]

    async def before() -> bool:
        return await balances() == [100000, 95000]

    await eventually(before)  # also fills the figure cache, which the amendments must make stale
    fix = {**money.correct(deposit, {"kind": "deposit", "amount": 120000, "currency": "USD"}), "session_id": None}
    undo = {**money.void(typo), "session_id": None}
    body = await post(client, alice, [fix, undo])
    assert body["accepted"] == 2, body

    async def exported() -> list[dict[str, Any]] | None:
        text = (await client.get("/api/v1/export/transactions.csv", headers=alice.headers)).text
        rows = list(csv.DictReader(io.StringIO(text)))
        return rows if [r["amount"] for r in rows] == ["1200.00"] else None

    [row] = await eventually(exported)
    assert row["id"] == deposit["id"]
    assert await balances() == [120000]
    stored = await warehouse.query(
        "SELECT amount, voided, revision FROM transactions FINAL WHERE user_id = {u:String} ORDER BY amount",
        {"u": alice.user_id},
    )
    assert stored == [(5000, 1, 1), (120000, 0, 1)]  # the voided withdrawal stays, marked


async def test_two_devices_correcting_one_event_agree_on_the_later_device_time_whatever_reaches_the_server_first(
    client: AsyncTestClient[Any], redis: Redis, alice: Player
) -> None:
    tablet = await Accounts(redis).add_device(alice.user_id, "tablet")
    tablet_player = Player(name="alice", user_id=alice.user_id, token=tablet.token)
    outcomes = []
    for phone_first in (True, False):
        s = SessionScript()
        start, count = s.start(), s.stack(23500)
        await post(client, alice, [start, count])
        other = SessionScript(session_id=s.session_id, start=datetime.fromisoformat(count["at"]))
        phone_fix = s.correct(count, {"amount": 25000}, after_minutes=5)  # earlier device time
        tablet_fix = other.correct(count, {"amount": 26000}, after_minutes=7)  # later device time: it counts
        sends = [(alice, phone_fix), (tablet_player, tablet_fix)]
        for player, fix in sends if phone_first else sends[::-1]:
            assert (await post(client, player, [fix]))["accepted"] == 1
        state = await live(client, alice, s.session_id)
        outcomes.append((state["stack"], state["profit"]))
    assert outcomes == [(26000, 6000), (26000, 6000)]


async def test_undo_of_a_rebuy_takes_it_out_of_the_tilt_detectors_running_session_too(
    settings: Settings, warehouse: Warehouse, redis: Redis, alice: Player
) -> None:
    runtime = Runtime(settings=settings, warehouse=warehouse, sinks=[ClickHouseSink(warehouse), TiltSink()])
    s = SessionScript()
    start, rebuy, count = s.start(20000), s.rebuy(20000, 10), s.stack(30000, 5)

    async def running() -> dict[str, Any] | None:
        raw = await redis.get(keys.tilt_state(alice.user_id))
        tracked = json.loads(raw) if raw else {}
        session: dict[str, Any] | None = tracked.get("features", {}).get("sessions", {}).get(s.session_id)
        return session

    async def refolded() -> dict[str, Any] | None:
        session = await running()
        return session if session is not None and session["state"]["rebuys"] == 0 else None

    async with AsyncTestClient(app=make_app(runtime), timeout=60) as client:
        await post(client, alice, [start, rebuy, count])
        before = await eventually(running, timeout=60)
        assert (before["state"]["rebuys"], len(before["rebuy_times"])) == (1, 1)
        assert [p["net"] for p in before["points"]][-1] == -10000  # $300 counted after $400 in
        body = await post(client, alice, [s.void(rebuy)])
        assert body["accepted"] == 1, body
        after = await eventually(refolded, timeout=60)
    # The rebuys-in-the-last-hour window and the net curve forget the undone rebuy, as the totals do.
    assert (after["rebuy_times"], after["busts"], after["state"]["invested"]) == ([], 0, 20000)
    assert [p["net"] for p in after["points"]][-1] == 10000
