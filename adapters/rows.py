"""The warehouse's session row as one Struct: its fields are the ``sessions`` table's columns, in order, with types.

The DDL, the insert's column list, the export's columns and the statistics' SELECT are all read from
``msgspec.structs.fields(SessionRecord)``, so the shape of a stored session is written once. A field that holds a
value the API accepted reuses that value's annotation from ``shared.events`` (its bound names the ClickHouse type,
``shared.columns``), so an accepted number always fits; totals the reducer computes name their type here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Final, get_type_hints

import msgspec

from shared.columns import clickhouse_type
from shared.events import Place, TableSize
from shared.money import Amount
from shared.reducer import SessionState


def stored(column_type: str) -> msgspec.Meta:
    """The ``msgspec.Meta`` naming the ClickHouse type a field is stored as."""
    return msgspec.Meta(extra={"clickhouse": column_type})


Text = Annotated[str, stored("String")]
Label = Annotated[str, stored("LowCardinality(String)")]
Time = Annotated[datetime, stored("DateTime64(3, 'UTC')")]
Total = Annotated[int, stored("Int64")]  # sums of amounts: MAX_EVENTS_PER_SESSION × MAX_AMOUNT fits
Count = Annotated[int, stored("UInt32")]


class SessionRecord(msgspec.Struct, frozen=True, gc=False, kw_only=True):
    """One version of one session in the warehouse (``ReplacingMergeTree(version)`` keeps the newest)."""

    user_id: Text
    session_id: Text
    version: Count
    status: Label
    format: Label
    game: Label
    currency: Label
    small_blind: Amount
    big_blind: Amount
    ante: Amount
    location: Text
    table_size: TableSize
    tags: Annotated[list[str], stored("Array(String)")]
    buy_in: Amount
    fee: Amount
    bounty: Amount
    started_at: Time
    ended_at: Time | None
    utc_offset_min: Annotated[int, stored("Int16")]
    invested: Total
    cash_out: Amount | None
    place: Place | None
    entrants: Place | None
    prize: Amount
    bounties: Amount
    tips: Amount
    jackpot: Amount
    profit: Total
    win_rate_profit: Total
    net_profit: Total
    played_seconds: Count
    break_seconds: Count
    rebuys: Count
    updated_at: Time


SESSION_COLUMNS: Final[list[str]] = [f.encode_name for f in msgspec.structs.fields(SessionRecord)]
# Columns holding money (minor units of the row's currency): an accepted amount or a total of them.
MONEY_COLUMNS: Final = frozenset(
    f.encode_name
    for f in msgspec.structs.fields(SessionRecord)
    if get_type_hints(SessionRecord, include_extras=True)[f.name] in (Amount, Amount | None, Total)
)


def columns_ddl(struct: type[msgspec.Struct]) -> str:
    """The column list of a CREATE TABLE for ``struct``: one ``name Type`` per field, in field order."""
    return ",\n".join(f"    {f.encode_name} {clickhouse_type(struct, f.name)}" for f in msgspec.structs.fields(struct))


def session_record(user_id: str, s: SessionState, updated_at: datetime) -> SessionRecord:
    """The warehouse row of a session's current state."""
    start = s.started_at or s.last_event_at or updated_at
    return SessionRecord(
        user_id=user_id,
        session_id=s.session_id,
        version=s.version,
        status=s.status,
        format=s.format,
        game=s.game,
        currency=s.currency,
        small_blind=s.small_blind,
        big_blind=s.big_blind,
        ante=s.ante,
        location=s.location,
        table_size=s.table_size,
        tags=s.tags,
        buy_in=s.buy_in,
        fee=s.fee,
        bounty=s.bounty,
        started_at=start.astimezone(UTC),
        ended_at=s.ended_at.astimezone(UTC) if s.ended_at else None,
        utc_offset_min=s.utc_offset_minutes,
        invested=s.invested,
        cash_out=s.cash_out,
        place=s.place,
        entrants=s.entrants,
        prize=s.prize,
        bounties=s.bounties,
        tips=s.tips,
        jackpot=s.jackpot,
        profit=s.profit,
        win_rate_profit=s.win_rate_profit,
        net_profit=s.net_profit,
        played_seconds=s.played_seconds,
        break_seconds=s.break_seconds,
        rebuys=s.rebuys,
        updated_at=updated_at,
    )


def session_row(user_id: str, s: SessionState, updated_at: datetime) -> list[Any]:
    """The insert row (values in ``SESSION_COLUMNS`` order) of a session's current state."""
    return list(msgspec.structs.astuple(session_record(user_id, s, updated_at)))
