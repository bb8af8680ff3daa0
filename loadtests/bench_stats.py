"""Statistics speed on ten years of one player's history: every stats endpoint's query + compute, and storage.

    .venv/bin/python -m loadtests.bench_stats            # BENCH_STATS_SESSIONS=5200 BENCH_STATS_CALLS=30

A fresh chDB in a temporary folder gets ≥ 5,000 sessions and ≥ 1,000,000 raw events in bulk (column-oriented
inserts). Events are generated column by column rather than as ``Event`` objects to keep generation short; each
session row is ``adapters.rows.session_row(fold(...))`` of the session's money and time events (start, rebuys,
breaks, end), which is what ``fold`` of all its events gives, the stack counts, notes and moods changing nothing
but the version, which is set to the full event count. Then each ``StatsService`` call runs ~30 times: p50/p95 in ms.
"""

from __future__ import annotations

import asyncio
import os
import random
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from adapters.clickhouse import EVENT_COLUMNS, TRANSACTION_COLUMNS, Warehouse
from adapters.rows import SESSION_COLUMNS, session_row
from api.stats import StatsQuery, StatsService
from api.stats.cache import FigureCache
from shared.events import BreakEnded, BreakStarted, ChipsAdded, Event, SessionEnded, SessionStarted, Stakes, make_event
from shared.reducer import fold

USER = "bench-player"
SESSIONS = int(os.environ.get("BENCH_STATS_SESSIONS", "5200"))
CALLS = int(os.environ.get("BENCH_STATS_CALLS", "30"))
EVENTS_PER_SESSION = 200  # ≈ a stack count every 1–2 minutes, plus notes and moods: ≥ 1,000,000 events in all
TARGET_P95_MS = 50.0
CHUNK = 250_000
STAKES = [(100, 200), (200, 500), (500, 1000)]
ZONE = timezone(timedelta(hours=1))


class History:
    """Column lists for the three tables."""

    def __init__(self) -> None:
        self.events: list[list[Any]] = [[] for _ in EVENT_COLUMNS]
        self.sessions: list[list[Any]] = []
        self.transactions: list[list[Any]] = []

    def event(self, rng: random.Random, session: str, seq: int, type_: str, at: datetime, data: str) -> None:
        row = [uuid.UUID(int=rng.getrandbits(128), version=4), USER, session, "phone", seq, type_, at, 60, data, 1, at]
        for column, value in zip(self.events, row, strict=True):
            column.append(value)


def _money_events(rng: random.Random, sid: uuid.UUID, start: datetime, hours: float) -> list[Event]:
    """The events that decide a session's money and time; the filler stack counts change neither."""
    at = start.astimezone(ZONE)
    end = at + timedelta(hours=hours)
    if rng.random() < 0.1:
        buy_in, fee = rng.choice([(10000, 1000), (20000, 2000), (50000, 5000)])
        prize = rng.choice([0, 0, 0, 0, 0, 0, buy_in * 2, buy_in * 4, buy_in * 12])
        started = SessionStarted(format="tournament", game="NLH", currency="USD", buy_in=buy_in, fee=fee)
        ended = SessionEnded(place=rng.randint(1, 200), entrants=200, prize=prize)
        data: list[tuple[datetime, Any]] = [(at, started), (end, ended)]
    else:
        sb, bb = rng.choice(STAKES)
        buy_in = 100 * bb
        result = round(rng.gauss(6 * bb * hours, 80 * bb * hours**0.5))  # +6 bb/h, σ 80 bb/√h
        rebuys = [buy_in] if result < -buy_in // 2 else []
        cash_out = max(0, buy_in + sum(rebuys) + result)
        started = SessionStarted(
            format="cash",
            game=rng.choice(["NLH", "NLH", "NLH", "PLO"]),
            currency="USD",
            buy_in=buy_in,
            stakes=Stakes(small_blind=sb, big_blind=bb),
            location=rng.choice(["Bellagio", "Aria", "Wynn", "Home game"]),
            tags=rng.choice([[], [], ["deep"], ["tired"]]),
        )
        brk = at + timedelta(hours=hours / 2)
        data = [(at, started), *[(at + timedelta(hours=hours / 3), ChipsAdded(amount=r)) for r in rebuys]]
        data += [
            (brk, BreakStarted()),
            (brk + timedelta(minutes=15), BreakEnded()),
            (end, SessionEnded(cash_out=cash_out)),
        ]
    return [
        make_event(p, id=uuid.UUID(int=rng.getrandbits(128), version=4), session_id=sid, seq=i + 1, at=t)
        for i, (t, p) in enumerate(data)
    ]


def generate(sessions: int, seed: int = 11) -> History:
    """Ten years of sessions, about 1.4 a day, evening starts, 2–9 hours, monthly bankroll moves."""
    import msgspec

    rng = random.Random(seed)
    history = History()
    first = datetime(2016, 1, 1, tzinfo=UTC)
    spacing = timedelta(days=3652) / sessions
    now = datetime.now(UTC)
    for n in range(sessions):
        start = first + spacing * n + timedelta(hours=rng.uniform(0, 6))
        hours = round(rng.uniform(2, 9), 2)
        sid = uuid.UUID(int=rng.getrandbits(128), version=4)
        money = _money_events(rng, sid, start, hours)
        state = fold(str(sid), money)
        state.version = EVENTS_PER_SESSION
        history.sessions.append(session_row(USER, state, now))
        for event in money:
            history.event(
                rng, str(sid), event.seq, event.type, event.at.astimezone(UTC), msgspec.json.encode(event.data).decode()
            )
        stack = 20000
        for seq in range(len(money) + 1, EVENTS_PER_SESSION + 1):
            at = start + timedelta(hours=hours * (seq - len(money)) / EVENTS_PER_SESSION)
            kind = rng.random()
            if kind < 0.9:
                stack = max(0, stack + rng.randint(-800, 800))
                history.event(rng, str(sid), seq, "stack.counted", at, f'{{"amount":{stack}}}')
            elif kind < 0.97:
                history.event(rng, str(sid), seq, "note.added", at, '{"text":"villain 3-bets light","tags":[]}')
            else:
                history.event(rng, str(sid), seq, "mood.reported", at, f'{{"score":{rng.randint(1, 5)}}}')
    for month in range(120):
        at = first + timedelta(days=30.4 * month)
        kind, amount = ("deposit", 200000) if month % 12 == 0 else (rng.choice(["withdrawal", "expense"]), 20000)
        tid = uuid.UUID(int=rng.getrandbits(128), version=4)
        history.transactions.append([tid, USER, "", at, kind, amount, "USD", "", 0, 0])  # revision 0, not voided
    return history


async def load(warehouse: Warehouse, history: History) -> None:
    await warehouse.migrate()
    total = len(history.events[0])
    for first in range(0, total, CHUNK):
        columns = [column[first : first + CHUNK] for column in history.events]
        await warehouse.run("insert", "events", columns, column_names=EVENT_COLUMNS, column_oriented=True)
    await warehouse.insert("sessions", history.sessions, SESSION_COLUMNS)
    await warehouse.insert("transactions", history.transactions, TRANSACTION_COLUMNS)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def timed(call: Callable[[], Awaitable[Any]], calls: int) -> tuple[float, float]:
    await call()  # warm-up: first query plans and page cache
    samples = []
    for _ in range(calls):
        begin = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - begin) * 1000)
    return pct(samples, 0.5), pct(samples, 0.95)


async def storage(warehouse: Warehouse) -> dict[str, tuple[int, int]]:
    rows = await warehouse.query(
        "SELECT table, sum(rows), sum(bytes_on_disk) FROM system.parts "
        "WHERE active AND database = currentDatabase() AND table IN ('events', 'sessions', 'transactions') "
        "GROUP BY table ORDER BY table"
    )
    return {str(t): (int(r), int(b)) for t, r, b in rows}


async def run() -> list[tuple[str, float, float]]:
    folder = tempfile.mkdtemp(prefix="bench-stats-")
    warehouse = Warehouse(f"chdb://{folder}/ch")
    try:
        begin = time.perf_counter()
        history = generate(SESSIONS)
        generated = time.perf_counter() - begin
        await load(warehouse, history)
        loaded = time.perf_counter() - begin - generated
        events = len(history.events[0])
        print(f"generated {SESSIONS} sessions, {events:,} events in {generated:.1f} s; inserted in {loaded:.1f} s")

        cold = StatsService(warehouse, USER)
        # As the app serves it: figures cached per user while the data stamp is unchanged (first call computes).
        warm = StatsService(warehouse, USER, FigureCache())
        # Cash games and tournaments together, as the figures were measured before formats were kept apart.
        usd = StatsQuery.parse(currency="USD", mix_formats=True)
        cash = StatsQuery.parse(currency="USD", format="cash")
        year = StatsQuery.parse(currency="USD", start="2024-01-01", end="2024-12-31", mix_formats=True)

        def cases(service: StatsService) -> list[tuple[str, Callable[[], Awaitable[Any]]]]:
            return [
                ("summary", lambda: service.summary(usd)),
                ("summary 1 year", lambda: service.summary(year)),
                ("breakdown by stakes", lambda: service.breakdown(usd, "stakes")),
                ("breakdown by hour", lambda: service.breakdown(usd, "hour")),
                ("breakdown by month", lambda: service.breakdown(usd, "month")),
                ("calendar", lambda: service.calendar(usd)),
                ("bankroll", lambda: service.bankroll(StatsQuery.parse(currency="USD"))),
                (
                    "guidance",
                    lambda: service.guidance(
                        cash, rule=30, current_stake="NLH 2/5", target_risk=0.05, hysteresis=0.2, buy_in="standard"
                    ),
                ),
                ("drawdown", lambda: service.drawdown(cash)),
            ]

        results = []
        for label, service in (("computed", cold), ("served (cache)", warm)):
            for name, call in cases(service):
                p50, p95 = await timed(call, CALLS)
                results.append((f"{name}, {label}", p50, p95))
        parts = await storage(warehouse)
    finally:
        warehouse.close()

    print(f"\n{'endpoint':<40}{'p50 ms':>10}{'p95 ms':>10}  target p95 < {TARGET_P95_MS:.0f} ms")
    for name, p50, p95 in results:
        mark = "ok" if p95 < TARGET_P95_MS else "MISS"
        print(f"{name:<40}{p50:>10.1f}{p95:>10.1f}  {mark}")
    total = sum(b for _, b in parts.values())
    print(f"\n{'table':<16}{'rows':>12}{'bytes on disk':>16}")
    for table, (rows, size) in parts.items():
        print(f"{table:<16}{rows:>12,}{size:>16,}")
    print(f"storage per session: {total / SESSIONS:,.0f} bytes (all three tables), {events / SESSIONS:.0f} events each")
    return results


def main() -> None:
    """Entry point for `make bench`."""
    asyncio.run(run())


if __name__ == "__main__":
    main()
