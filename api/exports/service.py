"""Everything a player has, out of ClickHouse: sessions and transactions as CSV, raw events as JSONL or Parquet,
and replay (a session's state folded again from its raw events)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from functools import cache
from typing import Any, Final

import anyio.to_thread
import msgspec

from adapters.clickhouse import Warehouse
from adapters.rows import MONEY_COLUMNS, SESSION_COLUMNS
from shared.events import Event, decode_stored, encode_event
from shared.money import format_money
from shared.reducer import SessionState, fold

PAGE: Final = 50_000  # events per warehouse query while streaming an export

# Every stored column but the owner and the bookkeeping ones, in the table's order.
SESSION_FIELDS: Final = [c for c in SESSION_COLUMNS if c not in ("user_id", "version", "updated_at")]
TRANSACTION_FIELDS: Final = ["id", "at", "kind", "amount", "currency", "note", "session_id"]
# Restore order: the order the server accepted them in, so a replayed import meets the same rules the same way.
_EVENT_SQL: Final = """
SELECT toString(id), session_id, device, seq, type, at, utc_offset_min, data, v
FROM events FINAL
WHERE {where}
ORDER BY received_at, at, device, seq, id
"""


class TransactionRecord(msgspec.Struct, frozen=True, gc=False):
    """A deposit, withdrawal or expense as the warehouse holds it (money in minor units)."""

    id: str
    at: datetime
    kind: str
    amount: int
    currency: str
    note: str
    session_id: str | None


_ENC = msgspec.json.Encoder()


@cache
def _zone(minutes: int) -> timezone:
    return timezone(timedelta(minutes=minutes))


def stored_event(r: tuple[Any, ...]) -> Event:
    """A warehouse row back as the accepted event, with the device's own UTC offset (ClickHouse keeps ms)."""
    wire = {
        "type": r[4],
        "data": msgspec.Raw(r[7].encode()),
        "id": r[0],
        "session_id": r[1] or None,
        "seq": r[3],
        "at": r[5].replace(tzinfo=UTC).astimezone(_zone(r[6])),
        "v": r[8],
        "device": r[2],
    }
    return decode_stored(_ENC.encode(wire))


def major(amount: int | None, currency: str) -> str:
    """Minor units as a plain decimal in major units for spreadsheets: 123450 USD → '1234.50' (no grouping)."""
    return "" if amount is None else format_money(amount, currency, symbol=False, grouping=False)


def _iso(value: datetime | None) -> str:
    return value.replace(tzinfo=UTC).isoformat() if value is not None else ""


class ExportService:
    """One user's data, complete, in open formats."""

    def __init__(self, rows: Warehouse, user_id: str) -> None:
        self.rows = rows
        self.user_id = user_id

    async def sessions_csv(self) -> bytes:
        """Every session (running ones too), newest version; money in major units with its currency."""
        sql = (
            f"SELECT {', '.join(SESSION_FIELDS)} FROM sessions FINAL WHERE user_id = {{user:String}} "
            "ORDER BY started_at, session_id"
        )
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(SESSION_FIELDS)
        currency_at = SESSION_FIELDS.index("currency")
        for row in await self.rows.query(sql, {"user": self.user_id}):
            writer.writerow(
                [_cell(name, value, row[currency_at]) for name, value in zip(SESSION_FIELDS, row, strict=True)]
            )
        return out.getvalue().encode()

    async def transactions(self) -> list[TransactionRecord]:
        """Every deposit, withdrawal and expense, oldest first."""
        sql = (
            "SELECT toString(id), at, kind, amount, currency, note, session_id FROM transactions FINAL "
            "WHERE user_id = {user:String} AND voided = 0 ORDER BY at, id"
        )
        return [
            TransactionRecord(tid, at.replace(tzinfo=UTC), kind, amount, currency, note, session or None)
            for tid, at, kind, amount, currency, note, session in await self.rows.query(sql, {"user": self.user_id})
        ]

    async def transactions_csv(self) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(TRANSACTION_FIELDS)
        for t in await self.transactions():
            writer.writerow([t.id, _iso(t.at), t.kind, major(t.amount, t.currency), t.currency, t.note, t.session_id])
        return out.getvalue().encode()

    async def events(self) -> AsyncIterator[list[Event]]:
        """Every raw event of the user in restore order, a page at a time."""
        offset = 0
        while True:
            sql = _EVENT_SQL.format(where="user_id = {user:String}") + f" LIMIT {PAGE} OFFSET {offset}"
            page = [stored_event(r) for r in await self.rows.query(sql, {"user": self.user_id})]
            if page:
                yield page
            if len(page) < PAGE:
                return
            offset += PAGE

    async def events_jsonl(self) -> AsyncIterator[bytes]:
        """One event per line in wire form: the export, and the backup (state = fold(events))."""
        async for page in self.events():
            yield b"".join(encode_event(event) + b"\n" for event in page)

    async def events_parquet(self) -> bytes:
        """The raw events as one Parquet table (the payload as a JSON string column)."""
        events = [event async for page in self.events() for event in page]
        return await anyio.to_thread.run_sync(lambda: _parquet(events))


def _cell(name: str, value: Any, currency: str) -> Any:
    if name in MONEY_COLUMNS:
        return major(value, currency)
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, list):
        return ";".join(value)
    return "" if value is None else value


def _parquet(events: list[Event]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "id": pa.array([str(e.id) for e in events], pa.string()),
            "session_id": pa.array([str(e.session_id) if e.session_id else None for e in events], pa.string()),
            "device": pa.array([e.device for e in events], pa.string()),
            "seq": pa.array([e.seq for e in events], pa.int32()),
            "type": pa.array([e.type for e in events], pa.string()).dictionary_encode(),
            "at": pa.array([e.at for e in events], pa.timestamp("ms", tz="UTC")),
            "utc_offset_min": pa.array([_offset(e.at) for e in events], pa.int16()),
            "data": pa.array([_ENC.encode(e.data).decode() for e in events], pa.string()),
            "v": pa.array([e.v for e in events], pa.int16()),
        }
    )
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def _offset(at: datetime) -> int:
    offset = at.utcoffset()
    return int(offset.total_seconds() // 60) if offset else 0


async def replay_session(rows: Warehouse, session_id: str, user_id: str | None) -> SessionState | None:
    """Fold a session again from its raw events in ClickHouse; None when it has none (for this user).

    Args:
        rows: the warehouse.
        session_id: the session.
        user_id: whose session it must be; None only for the operator's CLI, which reads the store directly.
    """
    where = "session_id = {session:String}" + (" AND user_id = {user:String}" if user_id is not None else "")
    found = await rows.query(_EVENT_SQL.format(where=where), {"session": session_id, "user": user_id or ""})
    if not found:
        return None
    events = [stored_event(r) for r in found]
    return fold(session_id, events)
