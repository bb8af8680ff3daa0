"""A small known history, posted through the API, whose figures are worked out by hand in the stats tests.

All local times are UTC+01:00. In USD:

    Mon 2025-03-03 19:00  cash 1/2  buy-in 200, out 300          2 h   +100.00
    Tue 2025-03-04 19:00  cash 2/5  buy-in 500, out 620, #deep   2 h   +120.00
    Wed 2025-03-05 19:00  cash 1/2  200 + rebuy 200, out 340     4 h    -60.00
    Thu 2025-03-06 18:00  tournament 100+10, 2nd of 50, prize 400  3 h +290.00
    Fri 2025-03-07 19:00  cash 1/2  still running (never counts)
    Sat 2025-03-01 10:00  deposit 1000.00

and one EUR session, Sat 2025-03-08 19:00, cash 1/2, buy-in 200, out 250, 1 h, +50.00.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar.testing import AsyncTestClient

from adapters.clickhouse import Warehouse
from tests.conftest import Player, eventually
from tests.factories import SessionScript

ENDED_SESSIONS = 5
ALL_SESSIONS = 6


def at(day: int, hour: int) -> datetime:
    """A UTC instant for a local (UTC+01:00) time in March 2025."""
    return datetime(2025, 3, day, hour - 1, 0, tzinfo=UTC)


def cash(day: int, buy_in: int, cash_out: int, hours: float, sb: int = 100, bb: int = 200, **extra: Any) -> list[Any]:
    s = SessionScript(start=at(day, 19))
    stakes = {"small_blind": sb, "big_blind": bb, "ante": 0}
    return [s.start(buy_in=buy_in, stakes=stakes, **extra), s.end(cash_out, after_minutes=hours * 60)]


def history() -> list[dict[str, Any]]:
    events = cash(3, 20000, 30000, 2)
    events += cash(4, 50000, 62000, 2, sb=200, bb=500, location="Aria", tags=["deep"])
    s = SessionScript(start=at(5, 19))
    events += [s.start(buy_in=20000), s.rebuy(20000, after_minutes=60), s.end(34000, after_minutes=180)]
    t = SessionScript(start=at(6, 18))
    events += [
        t.start(buy_in=10000, format="tournament", stakes=None, fee=1000),
        t.event("session.ended", {"place": 2, "entrants": 50, "prize": 40000}, 180),
    ]
    o = SessionScript(start=at(7, 19))
    events += [o.start(buy_in=20000), o.stack(25000)]
    events += cash(8, 20000, 25000, 1, currency="EUR")
    deposit = SessionScript(start=at(1, 10))
    events.append(
        {
            **deposit.event("transaction.recorded", {"kind": "deposit", "amount": 100000, "currency": "USD"}),
            "session_id": None,
        }
    )
    return events


async def in_warehouse(warehouse: Warehouse, player: Player) -> tuple[int, int, int]:
    """(ended sessions, sessions, transactions) of the player in ClickHouse."""
    sessions = await warehouse.query(
        "SELECT countIf(status = 'ended'), count() FROM sessions FINAL WHERE user_id = {u:String}",
        {"u": player.user_id},
    )
    txs = await warehouse.query(
        "SELECT count() FROM transactions FINAL WHERE user_id = {u:String}", {"u": player.user_id}
    )
    return int(sessions[0][0]), int(sessions[0][1]), int(txs[0][0])


async def post_history(client: AsyncTestClient[Any], warehouse: Warehouse, player: Player) -> list[dict[str, Any]]:
    """Post the history and wait until ClickHouse has all of it."""
    events = history()
    answer = await client.post("/api/v1/events", json={"events": events}, headers=player.headers)
    assert answer.json()["accepted"] == len(events), answer.json()
    await wait_for_history(warehouse, player)
    return events


async def wait_for_history(warehouse: Warehouse, player: Player) -> None:
    async def complete() -> bool:
        return await in_warehouse(warehouse, player) == (ENDED_SESSIONS, ALL_SESSIONS, 1)

    await eventually(complete)
