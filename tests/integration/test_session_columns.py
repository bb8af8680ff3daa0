"""The sessions table chDB builds from the migrations is the row Struct, and a row inserted from it reads back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec

from adapters.clickhouse import Warehouse
from adapters.rows import SESSION_COLUMNS, SessionRecord, session_row
from api.exports.service import SESSION_FIELDS
from shared.columns import clickhouse_type
from shared.reducer import SessionState


async def test_the_migrated_sessions_table_is_the_row_struct_and_takes_its_rows(warehouse: Warehouse) -> None:
    await warehouse.migrate()
    described = await warehouse.query("DESCRIBE TABLE sessions")
    assert [(r[0], r[1]) for r in described] == [
        (f.encode_name, clickhouse_type(SessionRecord, f.name)) for f in msgspec.structs.fields(SessionRecord)
    ]
    t0 = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)
    state = SessionState(session_id="columns-1", status="ended", currency="EUR", big_blind=200, started_at=t0)
    state.ended_at, state.profit, state.played_seconds, state.cash_out = t0 + timedelta(hours=2), 6_000, 7_200, 26_000
    await warehouse.insert("sessions", [session_row("columns-user", state, t0)], SESSION_COLUMNS)
    found = await warehouse.query(
        f"SELECT {', '.join(SESSION_FIELDS)} FROM sessions FINAL WHERE user_id = 'columns-user'"
    )
    read = dict(zip(SESSION_FIELDS, found[0], strict=True))
    assert (read["session_id"], read["profit"], read["cash_out"], read["played_seconds"]) == (
        "columns-1", 6_000, 26_000, 7_200,
    )  # fmt: skip
