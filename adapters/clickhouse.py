"""The ClickHouse warehouse through clickhouse-connect: chDB embedded by default, a server by http:// URL.

chDB has no async client and allows one engine per process, so one ``Warehouse`` object owns the client and
every call runs in a worker thread behind a lock: the event loop never blocks and the engine is never entered
twice at once.
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio.to_thread
import clickhouse_connect
import msgspec
from clickhouse_connect.driver.exceptions import DataError as ClickHouseDataError
from clickhouse_connect.driver.exceptions import ProgrammingError as ClickHouseProgrammingError

from adapters.migrations import LEDGER, MIGRATIONS
from shared.errors import SinkRejected, SinkUnavailable
from shared.events import Event, TransactionRecorded

EVENT_COLUMNS = [
    "id", "user_id", "session_id", "device", "seq", "type", "at", "utc_offset_min", "data", "v", "received_at",
]  # fmt: skip
TRANSACTION_COLUMNS = ["id", "user_id", "session_id", "at", "kind", "amount", "currency", "note", "revision", "voided"]

_ENC = msgspec.json.Encoder()
# What a value that does not fit its column raises while a batch is serialised (before anything is sent).
_REFUSED = (ClickHouseDataError, ClickHouseProgrammingError, ValueError, TypeError, OverflowError, struct.error)


def to_utc(value: datetime) -> datetime:
    """An aware time as UTC, for a DateTime64 column (which stores UTC and drops the offset)."""
    return value.astimezone(UTC)


def read_utc(value: datetime) -> datetime:
    """A DateTime64 value as clickhouse-connect returns it (naive, in UTC) made aware."""
    return value.replace(tzinfo=UTC)


def event_row(user_id: str, event: Event, received_at: datetime) -> list[Any]:
    offset = event.at.utcoffset()
    return [
        event.id,
        user_id,
        str(event.session_id) if event.session_id else "",
        event.device,
        event.seq,
        event.type,
        to_utc(event.at),
        int(offset.total_seconds() // 60) if offset else 0,
        _ENC.encode(event.data).decode(),
        event.v,
        received_at,
    ]


def transaction_row(user_id: str, event: Event, revision: int = 0, voided: bool = False) -> list[Any] | None:
    """A transaction's row; ``revision`` counts its voids and corrections (the table keeps the highest)."""
    data = event.data
    if not isinstance(data, TransactionRecorded):
        return None
    session = str(event.session_id) if event.session_id else ""
    row = [event.id, user_id, session, to_utc(event.at), data.kind, data.amount, data.currency, data.note]
    return [*row, revision, int(voided)]


class Warehouse:
    """One ClickHouse client for the process, used from threads one call at a time."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self._client: Any = None
        self._lock = threading.Lock()

    @property
    def embedded(self) -> bool:
        return self.dsn.startswith("chdb:")

    def _connect(self) -> Any:
        if self._client is None:
            if self.embedded:
                Path(self.dsn.removeprefix("chdb://")).mkdir(parents=True, exist_ok=True, mode=0o700)
            try:
                self._client = clickhouse_connect.get_client(dsn=self.dsn)
            except Exception as exc:
                raise SinkUnavailable(f"ClickHouse at {self._safe_dsn()} is unreachable: {exc}") from exc
        return self._client

    def _safe_dsn(self) -> str:
        head, _, tail = self.dsn.rpartition("@")
        return f"{head.split('://')[0]}://…@{tail}" if head else self.dsn

    def _call(self, fn: str, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            try:
                return getattr(self._connect(), fn)(*args, **kwargs)
            except SinkUnavailable:
                raise
            except _REFUSED as exc:
                # The client could not serialise a value into its column: the data, not ClickHouse, is at fault.
                raise SinkRejected(f"ClickHouse {fn} refused the data: {exc}") from exc
            except Exception as exc:
                if not self.embedded:
                    self._client = None  # a fresh connection next time
                raise SinkUnavailable(f"ClickHouse {fn} failed: {exc}") from exc

    async def run(self, fn: str, *args: Any, **kwargs: Any) -> Any:
        """Call a client method (query, command, insert) in a thread."""
        return await anyio.to_thread.run_sync(lambda: self._call(fn, *args, **kwargs))

    async def query(self, sql: str, parameters: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        result = await self.run("query", sql, parameters=parameters or {})
        return list(result.result_rows)

    async def migrate(self) -> list[int]:
        """Apply pending migrations; return the versions applied now."""
        await self.run("command", LEDGER)
        done = {row[0] for row in await self.query("SELECT version FROM schema_migrations FINAL")}
        applied = []
        for version, description, statements in MIGRATIONS:
            if version in done:
                continue
            for statement in statements:
                await self.run("command", statement)
            await self.run(
                "insert",
                "schema_migrations",
                [[version, description, datetime.now(UTC)]],
                column_names=["version", "description", "applied_at"],
            )
            applied.append(version)
        return applied

    async def ping(self) -> None:
        await self.query("SELECT 1")

    async def existing_ids(self, user_ids: Sequence[str], ids: Sequence[Any]) -> set[str]:
        """Which of these event ids are already stored: the intake half of exactly-once."""
        if not ids:
            return set()
        rows = await self.query(
            "SELECT toString(id) FROM events WHERE user_id IN {users:Array(String)} AND id IN {ids:Array(UUID)}",
            {"users": list(set(user_ids)), "ids": list(ids)},
        )
        return {row[0] for row in rows}

    async def insert(self, table: str, rows: list[list[Any]], columns: list[str]) -> None:
        if rows:
            await self.run("insert", table, rows, column_names=columns)

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
