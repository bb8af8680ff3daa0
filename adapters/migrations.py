"""ClickHouse schema, as numbered migrations applied in order at start (same DDL on chDB and a server)."""

from __future__ import annotations

from typing import Final

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
                seq UInt32,
                type LowCardinality(String),
                at DateTime64(3, 'UTC'),
                utc_offset_min Int16,
                data String,
                v UInt16,
                received_at DateTime64(3, 'UTC')
            ) ENGINE = ReplacingMergeTree
            ORDER BY (user_id, session_id, id)
            """,
            """
            CREATE TABLE IF NOT EXISTS sessions (
                user_id String,
                session_id String,
                version UInt32,
                status LowCardinality(String),
                format LowCardinality(String),
                game LowCardinality(String),
                currency LowCardinality(String),
                small_blind Int64,
                big_blind Int64,
                ante Int64,
                location String,
                table_size UInt8,
                tags Array(String),
                buy_in Int64,
                fee Int64,
                bounty Int64,
                started_at DateTime64(3, 'UTC'),
                ended_at Nullable(DateTime64(3, 'UTC')),
                utc_offset_min Int16,
                invested Int64,
                cash_out Nullable(Int64),
                place Nullable(UInt32),
                entrants Nullable(UInt32),
                prize Int64,
                bounties Int64,
                tips Int64,
                jackpot Int64,
                profit Int64,
                win_rate_profit Int64,
                net_profit Int64,
                played_seconds UInt32,
                break_seconds UInt32,
                rebuys UInt32,
                updated_at DateTime64(3, 'UTC')
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
                amount Int64,
                currency LowCardinality(String),
                note String
            ) ENGINE = ReplacingMergeTree
            ORDER BY (user_id, id)
            """,
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
