"""The shape of a stored session is written once, as ``SessionRecord``: the DDL, the insert, the export and the
statistics' SELECT are read from it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import msgspec

from adapters.migrations import MIGRATIONS
from adapters.rows import MONEY_COLUMNS, SESSION_COLUMNS, SessionRecord, session_row
from api.exports.service import SESSION_FIELDS
from api.stats.warehouse import SESSION_SELECT
from shared.columns import clickhouse_type
from shared.reducer import SessionState
from shared.stats import SessionRow

FIELDS = msgspec.structs.fields(SessionRecord)


def sessions_ddl() -> list[tuple[str, str]]:
    statement = next(s for _, _, statements in MIGRATIONS for s in statements if "TABLE IF NOT EXISTS sessions" in s)
    body = re.search(r"\((.*)\) ENGINE", statement, re.DOTALL)
    assert body is not None
    return [tuple(line.strip().rstrip(",").split(" ", 1)) for line in body.group(1).strip().splitlines()]  # type: ignore[misc]


def test_the_sessions_table_has_the_records_fields_in_order_with_their_types() -> None:
    assert sessions_ddl() == [(f.encode_name, clickhouse_type(SessionRecord, f.name)) for f in FIELDS]


def test_the_insert_names_every_column_and_sends_one_value_per_column_in_that_order() -> None:
    t0 = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)
    state = SessionState(session_id="s1", status="ended", currency="EUR", big_blind=200, started_at=t0)
    state.ended_at, state.profit, state.played_seconds = t0 + timedelta(hours=2), 6_000, 7_200
    row = session_row("u1", state, t0 + timedelta(hours=3))
    assert [f.encode_name for f in FIELDS] == SESSION_COLUMNS
    assert len(row) == len(SESSION_COLUMNS)
    named = dict(zip(SESSION_COLUMNS, row, strict=True))
    assert (named["user_id"], named["session_id"], named["profit"], named["played_seconds"]) == (
        "u1",
        "s1",
        6_000,
        7_200,
    )
    assert named["ended_at"] == t0 + timedelta(hours=2)


def test_the_export_has_every_stored_column_but_owner_and_bookkeeping() -> None:
    assert [c for c in SESSION_COLUMNS if c not in {"user_id", "version", "updated_at"}] == SESSION_FIELDS
    assert set(SESSION_FIELDS) >= MONEY_COLUMNS
    assert {"profit", "cash_out", "jackpot", "big_blind"} <= MONEY_COLUMNS
    assert not {"played_seconds", "rebuys", "place", "table_size"} & MONEY_COLUMNS


def test_the_statistics_read_each_field_of_their_row_from_a_stored_column() -> None:
    expressions = SESSION_SELECT.split(", ")
    fields = msgspec.structs.fields(SessionRow)
    assert len(expressions) == len(fields)
    for field, expression in zip(fields, expressions, strict=True):
        names = re.findall(r"[a-z_]+", expression)
        assert names[-1] == field.name, expression  # the output is named as the field msgspec decodes it into
        assert set(names) & set(SESSION_COLUMNS), expression
