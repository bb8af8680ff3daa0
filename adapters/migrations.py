"""ClickHouse schema, as numbered migrations applied in order at start (same DDL on chDB and a server)."""

from __future__ import annotations

from typing import Final

from shared.columns import clickhouse_type
from shared.events import EventBase, SessionEnded, SessionStarted, Stakes, TransactionRecorded

# Columns that hold a value the API accepted take their type from the field's bound (shared/columns.py), so an
# accepted number always fits. Totals the reducer computes keep Int64/UInt32, checked in tests/unit/test_columns.py.
COLUMN_TYPES: Final[dict[str, str]] = {
    "seq": clickhouse_type(EventBase, "seq"),
    "v": clickhouse_type(EventBase, "v"),
    **{f: clickhouse_type(Stakes, f) for f in ("small_blind", "big_blind", "ante")},
    **{f: clickhouse_type(SessionStarted, f) for f in ("table_size", "buy_in", "fee", "bounty")},
    **{f: clickhouse_type(SessionEnded, f) for f in ("cash_out", "place", "entrants", "prize", "bounties", "tips")},
    "jackpot": clickhouse_type(SessionEnded, "jackpot"),
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
            """
            CREATE TABLE IF NOT EXISTS sessions (
                user_id String,
                session_id String,
                version UInt32,
                status LowCardinality(String),
                format LowCardinality(String),
                game LowCardinality(String),
                currency LowCardinality(String),
                small_blind {small_blind},
                big_blind {big_blind},
                ante {ante},
                location String,
                table_size {table_size},
                tags Array(String),
                buy_in {buy_in},
                fee {fee},
                bounty {bounty},
                started_at DateTime64(3, 'UTC'),
                ended_at Nullable(DateTime64(3, 'UTC')),
                utc_offset_min Int16,
                invested Int64,
                cash_out {cash_out},
                place {place},
                entrants {entrants},
                prize {prize},
                bounties {bounties},
                tips {tips},
                jackpot {jackpot},
                profit Int64,
                win_rate_profit Int64,
                net_profit Int64,
                played_seconds UInt32,
                break_seconds UInt32,
                rebuys UInt32,
                updated_at DateTime64(3, 'UTC')
            ) ENGINE = ReplacingMergeTree(version)
            ORDER BY (user_id, session_id)
            """.format_map(COLUMN_TYPES),
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
