"""Reading the warehouse for statistics: the filters the statistics share, finished sessions as SessionRow."""

from __future__ import annotations

from datetime import date
from typing import Any, Final

import msgspec

from adapters.clickhouse import Warehouse, read_utc
from shared.errors import InvalidInput
from shared.money import is_currency
from shared.stats import BREAKDOWNS, SessionRow, TransactionRow, group_label

FORMATS: Final = ("cash", "tournament")


class StatsQuery(msgspec.Struct, frozen=True, kw_only=True):
    """The filters every statistics endpoint shares, already checked."""

    currency: str | None = None
    start: date | None = None
    end: date | None = None
    format: str | None = None
    tags: tuple[str, ...] = ()
    game: str | None = None
    location: str | None = None
    # One breakdown group, (by, label) such as ("weekday", "Monday"): what a tapped bar narrows the figures to.
    group: tuple[str, str] | None = None
    day_starts_at: int = 0
    # Win rate, SD and risk are measured per format; only this asks for one figure over cash games and tournaments.
    mix_formats: bool = False

    @classmethod
    def parse(
        cls,
        *,
        currency: str | None = None,
        start: str | None = None,
        end: str | None = None,
        format: str | None = None,
        tags: list[str] | None = None,
        day_starts_at: int = 0,
        mix_formats: bool = False,
        game: str | None = None,
        location: str | None = None,
        group: str | None = None,
    ) -> StatsQuery:
        """Check the query parameters; each bad one raises InvalidInput naming the parameter, the value and the rule."""
        if currency is not None and not is_currency(currency):
            raise InvalidInput(f"`currency` {currency!r} is not an ISO 4217 currency code such as USD")
        if format is not None and format not in FORMATS:
            raise InvalidInput(f"`format` {format!r} is not a format; allowed: {', '.join(FORMATS)}")
        if not 0 <= day_starts_at <= 23:
            raise InvalidInput(f"`day_starts_at` {day_starts_at} must be an hour from 0 to 23")
        first, last = _date("from", start), _date("to", end)
        if first is not None and last is not None and first > last:
            raise InvalidInput(f"`from` {first} is after `to` {last}; the date range must run forward")
        split = tuple(sorted({t.strip() for item in tags or [] for t in item.split(",") if t.strip()}))
        return cls(
            currency=currency,
            start=first,
            end=last,
            format=format,
            tags=split,
            day_starts_at=day_starts_at,
            mix_formats=mix_formats,
            game=game or None,
            location=location or None,
            group=_group(group),
        )


def _group(value: str | None) -> tuple[str, str] | None:
    """``by:label`` (``weekday:Monday``, ``stakes:NLH 1/2``) as (by, label)."""
    if not value:
        return None
    by, colon, label = value.partition(":")
    if not colon or not label or by not in BREAKDOWNS:
        raise InvalidInput(
            f"`group` {value!r} is not a breakdown group; write it as by:label with by one of {', '.join(BREAKDOWNS)}, "
            "such as weekday:Monday"
        )
    return by, label


def _date(name: str, value: str | None) -> date | None:
    if value is None or value == "":
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"`{name}` {value!r} is not a date; write it as YYYY-MM-DD") from None


# Only the columns SessionRow needs, named as its fields (the list is read from the Struct), rendered by ClickHouse
# as one JSON array that msgspec decodes straight into SessionRow (three times faster than building 5,000 rows from
# Python tuples). Times go out as UNIX seconds, which msgspec reads as aware UTC datetimes. FINAL keeps the newest
# version of each session, and the status filter runs after FINAL (ClickHouse does not move non-key conditions of a
# FINAL query to PREWHERE). The filters mean the columns, not the same-named aliases of the output
# (prefer_column_name_to_alias).
READ_AS: Final = {
    "started_at": "toUnixTimestamp64Milli(started_at) / 1000 AS started_at",
    "ended_at": "toUnixTimestamp64Milli(assumeNotNull(ended_at)) / 1000 AS ended_at",
    "utc_offset_minutes": "utc_offset_min AS utc_offset_minutes",
}
SESSION_SELECT: Final = ", ".join(READ_AS.get(f.name, f.name) for f in msgspec.structs.fields(SessionRow))
_SESSION_SQL: Final = (
    "SELECT '[' || arrayStringConcat(groupArray(formatRowNoNewline('JSONEachRow', "
    + SESSION_SELECT
    + """)), ',') || ']'
FROM sessions FINAL
WHERE user_id = {{user:String}} AND status = 'ended' {filters}
SETTINGS output_format_json_quote_64bit_integers = 0, prefer_column_name_to_alias = 1
"""
)
_ROWS = msgspec.json.Decoder(list[SessionRow], strict=False)


async def ended_sessions(warehouse: Warehouse, user_id: str, query: StatsQuery) -> list[SessionRow]:
    """The user's finished sessions that pass the filters, filtered in SQL.

    The date range applies to the playing day: the local start date, moved back a day for sessions that start
    before ``day_starts_at``.
    """
    sql: list[str] = []
    params: dict[str, Any] = {"user": user_id}
    for column in ("currency", "format", "game", "location"):  # each an equal-to filter of its own column
        value = getattr(query, column)
        if value is not None:
            sql.append(f"AND {column} = {{{column}:String}}")
            params[column] = value
    if query.tags:
        sql.append("AND hasAll(tags, {tags:Array(String)})")
        params["tags"] = list(query.tags)
    if query.start is not None or query.end is not None:
        day = "toDate(started_at + toIntervalMinute(utc_offset_min) - toIntervalHour({day_start:UInt8}))"
        params["day_start"] = query.day_starts_at
        if query.start is not None:
            sql.append(f"AND {day} >= {{start:Date}}")
            params["start"] = query.start
        if query.end is not None:
            sql.append(f"AND {day} <= {{end:Date}}")
            params["end"] = query.end
    found = await warehouse.query(_SESSION_SQL.format(filters=" ".join(sql)), params)
    rows = _ROWS.decode(found[0][0])
    if query.group is None:
        return rows
    # A breakdown group is a label computed in Python (stakes, weekday, length …): the one rule shared.stats has.
    by, label = query.group
    return [r for r in rows if group_label(r, by, query.day_starts_at) == label]


async def transactions(warehouse: Warehouse, user_id: str, currency: str | None) -> list[TransactionRow]:
    """The user's deposits, withdrawals and expenses, in one currency or all."""
    sql = "SELECT at, kind, amount, currency FROM transactions FINAL WHERE user_id = {user:String} AND voided = 0"
    params: dict[str, Any] = {"user": user_id}
    if currency is not None:
        sql += " AND currency = {currency:String}"
        params["currency"] = currency
    return [
        TransactionRow(at=read_utc(r[0]), kind=r[1], amount=r[2], currency=r[3])
        for r in await warehouse.query(sql, params)
    ]
