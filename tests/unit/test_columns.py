"""Nothing accepted can poison the warehouse: every bound fits its column, and every total fits its column too."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from adapters.migrations import MIGRATIONS
from shared.columns import INTEGER_RANGES, bounded, bounds, clickhouse_type
from shared.events import (
    EARLIEST,
    MAX_EVENTS_PER_SESSION,
    MAX_FUTURE,
    EventBase,
    SessionEnded,
    SessionStarted,
    Stakes,
    TransactionRecorded,
)
from shared.money import MAX_AMOUNT

DDL = "\n".join(statement for _, _, statements in MIGRATIONS for statement in statements)


def column(table: str, name: str) -> str:
    body = re.search(rf"CREATE TABLE IF NOT EXISTS {table} \((.*?)\) ENGINE", DDL, re.DOTALL)
    assert body is not None
    found = re.search(rf"^\s*{name} (.+?),?$", body.group(1), re.MULTILINE)
    assert found is not None, (table, name)
    return found.group(1)


def fits(ch_type: str, low: int, high: int) -> bool:
    lo, hi = INTEGER_RANGES[ch_type.removeprefix("Nullable(").removesuffix(")")]
    return lo <= low and high <= hi


@pytest.mark.parametrize(
    ("table", "struct", "field"),
    [
        ("events", EventBase, "seq"),
        ("events", EventBase, "v"),
        *[("sessions", Stakes, f) for f in ("small_blind", "big_blind", "ante")],
        *[("sessions", SessionStarted, f) for f in ("table_size", "buy_in", "fee", "bounty")],
        *[("sessions", SessionEnded, f) for f in ("cash_out", "place", "entrants", "prize", "bounties", "tips")],
        ("sessions", SessionEnded, "jackpot"),
        ("transactions", TransactionRecorded, "amount"),
    ],
)
def test_an_accepted_value_fits_the_column_it_is_stored_in(table: str, struct: type, field: str) -> None:
    ddl_type = column(table, field)
    assert ddl_type == clickhouse_type(struct, field)
    assert fits(ddl_type, *bounds(struct, field))


def test_a_bound_outside_its_column_is_refused_when_the_schema_is_built() -> None:
    with pytest.raises(ValueError, match=re.escape("bounds [0, 70000] do not fit ClickHouse UInt16 [0, 65535]")):
        bounded("UInt16", le=70_000)


def test_the_totals_of_a_full_session_fit_their_columns() -> None:
    """The reducer adds amounts: MAX_EVENTS_PER_SESSION of them at MAX_AMOUNT is the worst a session can reach."""
    worst_sum = MAX_EVENTS_PER_SESSION * MAX_AMOUNT
    for name in ("invested", "profit", "win_rate_profit", "net_profit"):
        assert fits(column("sessions", name), -worst_sum, worst_sum), name
    for name in ("version", "rebuys"):
        assert fits(column("sessions", name), 0, MAX_EVENTS_PER_SESSION), name


def test_played_time_fits_its_column_for_any_accepted_times() -> None:
    """Times run from EARLIEST to MAX_FUTURE past now; a session cannot be longer than that span."""
    latest = datetime(2100, 1, 1, tzinfo=UTC) + MAX_FUTURE
    longest = int((latest - EARLIEST) / timedelta(seconds=1))
    for name in ("played_seconds", "break_seconds"):
        assert fits(column("sessions", name), 0, longest), name
    # ClickHouse DateTime64 holds 1900-01-01 .. 2299-12-31.
    assert EARLIEST.year >= 1900
