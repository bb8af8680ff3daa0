"""ClickHouse schema, as numbered migrations applied in order at start (same DDL on chDB and a server)."""

from __future__ import annotations

from typing import Final

from adapters.rows import SessionRecord, columns_ddl
from shared.columns import clickhouse_type
from shared.events import EventBase, TransactionRecorded

# Columns that hold a value the API accepted take their type from the field's bound (shared/columns.py), so an
# accepted number always fits. Totals the reducer computes keep Int64/UInt32, checked in tests/unit/test_columns.py.
# The sessions table is written from its row Struct (adapters/rows.py). A field added to it later also needs a new
# migration `ALTER TABLE sessions ADD COLUMN IF NOT EXISTS ...` for stores made before it (a no-op on new ones).
COLUMN_TYPES: Final[dict[str, str]] = {
    "seq": clickhouse_type(EventBase, "seq"),
    "v": clickhouse_type(EventBase, "v"),
    "amount": clickhouse_type(TransactionRecorded, "amount"),
}

MIGRATIONS: Final[list[tuple[int, str, list[str]]]] = [
    (
        1,
        "raw events, per-session rows, bankroll transactions",
        [
            """
            CREATE TABLE IF NOT EXISTS events (
                id UUID,
                user_id String,
                session_id String,
                device String,
                seq {seq},
                type LowCardinality(String),
                at DateTime64(3, 'UTC'),
                utc_offset_min Int16,
                data String,
                v {v},
                received_at DateTime64(3, 'UTC')
            ) ENGINE = ReplacingMergeTree
            ORDER BY (user_id, session_id, id)
            """.format_map(COLUMN_TYPES),
            f"""
            CREATE TABLE IF NOT EXISTS sessions (
{columns_ddl(SessionRecord)}
            ) ENGINE = ReplacingMergeTree(version)
            ORDER BY (user_id, session_id)
            """,
            """
            CREATE TABLE IF NOT EXISTS transactions (
                id UUID,
                user_id String,
                session_id String,
                at DateTime64(3, 'UTC'),
                kind LowCardinality(String),
                amount {amount},
                currency LowCardinality(String),
                note String
            ) ENGINE = ReplacingMergeTree
            ORDER BY (user_id, id)
            """.format_map(COLUMN_TYPES),
        ],
    ),
    (
        2,
        "transactions keep their voids and corrections: the row of the highest revision counts, voided rows are kept",
        [
            "RENAME TABLE transactions TO transactions_v1",
            """
            CREATE TABLE transactions (
                id UUID,
                user_id String,
                session_id String,
                at DateTime64(3, 'UTC'),
                kind LowCardinality(String),
                amount {amount},
                currency LowCardinality(String),
                note String,
                revision UInt32,
                voided UInt8
            ) ENGINE = ReplacingMergeTree(revision)
            ORDER BY (user_id, id)
            """.format_map(COLUMN_TYPES),
            "INSERT INTO transactions SELECT id, user_id, session_id, at, kind, amount, currency, note, 0, 0 "
            "FROM transactions_v1",
            "DROP TABLE transactions_v1",
        ],
    ),
]

LEDGER: Final = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version UInt32,
    description String,
    applied_at DateTime('UTC')
) ENGINE = ReplacingMergeTree ORDER BY version
"""
