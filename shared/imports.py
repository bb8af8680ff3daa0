"""Bringing history in from a spreadsheet: CSV rows become session.started + session.ended events (pure, no I/O).

The plan is all or nothing: every row is checked first and the caller posts the events only when no row has an
error. Ids are deterministic (uuid5 of the user and the row's parsed content), so importing the same file twice
creates nothing new: the second time every event is a duplicate.

Errors: the whole file (encoding, mapping, header) raises ``InvalidInput``; a bad cell becomes a ``RowError``
naming the spreadsheet row (the header is row 1), the column, the value and the rule.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import uuid
from collections.abc import Container, Iterator, Mapping
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from shared import figures
from shared.errors import InvalidEvent, InvalidInput
from shared.events import decode_event
from shared.money import is_currency, parse_money

# The fields a column can be mapped to, with what the cell must hold.
FIELDS: Final[dict[str, str]] = {
    "date": "playing date, YYYY-MM-DD unless a date format is given",
    "start_time": "local start time, HH:MM or HH:MM:SS",
    "end_time": "local end time; earlier than the start means the next day",
    "duration": "hours played, as 4.5 or 4:30 (instead of end_time)",
    "stakes": "blinds in major units, such as 1/2 or 0.50/1",
    "small_blind": "small blind in major units (default: half the big blind)",
    "big_blind": "big blind in major units (instead of stakes)",
    "game": "NLH, PLO, ... (default NLH)",
    "location": "where the session was played",
    "buy_in": "money put on the table, or the tournament buy-in, in major units",
    "cash_out": "money taken off the table, or the tournament prize, in major units",
    "format": "cash or tournament (also ring, mtt, sng); default cash",
    "fee": "tournament fee in major units",
    "place": "tournament finishing place",
    "entrants": "tournament field size",
    "tips": "tips given, in major units",
    "tags": "tags separated by ; or |",
    "currency": "ISO 4217 code per row (default: the import's currency)",
}
MAX_HOURS: Final = 72
FORMAT_NAMES: Final[dict[str, Literal["cash", "tournament"]]] = {
    "cash": "cash", "ring": "cash", "tournament": "tournament", "mtt": "tournament", "sng": "tournament",
}  # fmt: skip
# Fixed forever: changing it would give every imported session a new id, and re-imports would duplicate.
NAMESPACE: Final = uuid.UUID("5b0c3f5e-7d2a-5a41-9c55-2f1e0d6b8a10")
_OFFSET = re.compile(r"^([+-])(\d{2}):?(\d{2})$")
_SYMBOLS: Final = "$€£"
_PATH = re.compile(r"`\$\.([A-Za-z_.\[\]0-9]+)`")
# Event data fields whose import field has another name.
_EVENT_FIELDS: Final = {"prize": "cash_out", "ended_at": "end_time"}


class ImportOptions(msgspec.Struct, frozen=True, kw_only=True):
    """How to read the file: default currency, time zone of the times, date format, default game, encoding."""

    currency: str | None = None
    tz: str = "UTC"
    date_format: str = "%Y-%m-%d"
    game: str = "NLH"
    encoding: str | None = None


class RowError(msgspec.Struct, frozen=True, gc=False):
    """One bad cell (or row): the spreadsheet row, the column header, the cell's text and what is wrong."""

    row: int
    column: str
    value: str
    message: str


class PlannedSession(msgspec.Struct, frozen=True, gc=False):
    """A session one row would create, with the two events that create it, in wire form."""

    row: int
    session_id: str
    format: str
    game: str
    currency: str
    small_blind: int
    big_blind: int
    location: str
    started_at: datetime
    ended_at: datetime
    hours: float
    buy_in: int
    cash_out: int
    profit: int
    events: list[dict[str, Any]]


class ImportPlan(msgspec.Struct, frozen=True, gc=False):
    """Every row checked: the sessions to create, or the errors that stop the import."""

    rows: int
    sessions: list[PlannedSession]
    errors: list[RowError]

    @property
    def valid(self) -> bool:
        return not self.errors


def parse_mapping(text: str) -> dict[str, str]:
    """Read ``"Date=date,Buy In=buy_in"`` (CSV column = field) into {field: column}.

    Raises:
        InvalidInput: a pair without '=', an unknown field, or a field mapped twice.
    """
    mapping: dict[str, str] = {}
    for pair in (p for p in text.split(",") if p.strip()):
        column, sep, field = pair.rpartition("=")
        column, field = column.strip(), field.strip()
        if not sep or not column:
            raise InvalidInput(f"`mapping` item {pair.strip()!r} is not column=field, such as 'Buy In=buy_in'")
        if field not in FIELDS:
            raise InvalidInput(
                f"`mapping` field {field!r} (for column {column!r}) is unknown; fields: {', '.join(FIELDS)}"
            )
        if field in mapping:
            raise InvalidInput(f"`mapping` maps field {field!r} twice: columns {mapping[field]!r} and {column!r}")
        mapping[field] = column
    return mapping


def decode_csv(raw: bytes, encoding: str | None = None) -> str:
    """The file as text: UTF-8 (with or without BOM), UTF-16 with a BOM, or the encoding asked for.

    Raises:
        InvalidInput: the bytes are not in that encoding; the message says which byte and what to do.
    """
    if encoding:
        try:
            return raw.decode(encoding).removeprefix("\ufeff")
        except LookupError:
            raise InvalidInput(f"`encoding` {encoding!r} is not a known text encoding") from None
        except UnicodeError as exc:  # UnicodeDecodeError, and the plain UnicodeError of codecs such as punycode
            raise InvalidInput(f"the file is not {encoding}: {_where(raw, exc)}") from None
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16").removeprefix("\ufeff")
        except UnicodeDecodeError as exc:
            raise InvalidInput(
                f"the file starts with a UTF-16 byte-order mark but is not UTF-16: {_where(raw, exc)}; save it as UTF-8"
            ) from None
    if b"\x00" in raw[:4096]:
        raise InvalidInput(
            "the file has NUL bytes: it looks like UTF-16 without a byte-order mark; "
            "save it as UTF-8 or give the encoding (utf-16-le)"
        )
    try:
        return raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"the file is not UTF-8: {_where(raw, exc)}; it may be latin-1 or Windows-1252 — "
            "save it as UTF-8 or give the encoding (latin-1, cp1252)"
        ) from None


def _where(raw: bytes, exc: UnicodeError) -> str:
    if not isinstance(exc, UnicodeDecodeError) or exc.start >= len(raw):
        return str(exc)
    line = raw[: exc.start].count(b"\n") + 1
    return f"byte 0x{raw[exc.start]:02x} on line {line} cannot be decoded ({exc.reason})"


def plan_csv(
    raw: bytes, mapping: Mapping[str, str], *, user_id: str, options: ImportOptions, now: datetime
) -> ImportPlan:
    """Check every row of the CSV and plan its session; nothing is created here.

    Args:
        raw: the file's bytes.
        mapping: {field: column header}, see ``parse_mapping`` and ``FIELDS``.
        user_id: whose sessions these are (part of every id, so two users never share one).
        options: currency, time zone, date format, default game, encoding.
        now: the server clock; sessions may not end in the future.

    Raises:
        InvalidInput: a problem with the whole file: encoding, mapping, a mapped column missing from the header.
    """
    _check_mapping(mapping, options)
    zone = parse_zone(options.tz)
    text = decode_csv(raw, options.encoding)
    reader = csv.reader(io.StringIO(text), delimiter=_delimiter(text))
    header = [h.strip() for h in next(reader, [])]
    missing = [f"{column!r} (for {field})" for field, column in mapping.items() if column not in header]
    if missing:
        raise InvalidInput(
            f"row 1 (header): column {', '.join(missing)} is not in the file; the header has: "
            f"{', '.join(repr(h) for h in header) or 'nothing'}"
        )
    where = {field: header.index(column) for field, column in mapping.items()}
    sessions: list[PlannedSession] = []
    errors: list[RowError] = []
    seen: dict[bytes, int] = {}
    rows = 0
    for number, cells in _records(reader):
        if not any(c.strip() for c in cells):
            continue
        rows += 1
        row = _Row(number, {f: (mapping[f], cells[i].strip() if i < len(cells) else "") for f, i in where.items()})
        planned = row.plan(user_id, options, zone, now, seen)
        errors.extend(row.errors)
        if planned is not None and not row.errors:
            sessions.append(planned)
    return ImportPlan(rows=rows, sessions=sessions, errors=errors)


def _records(reader: Iterator[list[str]]) -> Iterator[tuple[int, list[str]]]:
    """The records after the header with their spreadsheet row number (the header is row 1).

    Raises:
        InvalidInput: a record the csv module cannot read (a cell past its 131,072-character limit: no field of a
            session is anywhere near that long).
    """
    number = 1
    while True:
        number += 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InvalidInput(f"row {number} cannot be read: {exc}; no cell of a session is that long") from None
        yield number, cells


def _check_mapping(mapping: Mapping[str, str], options: ImportOptions) -> None:
    needed = ["date", "start_time", "buy_in", "cash_out"]
    absent = [f for f in needed if f not in mapping]
    if "end_time" not in mapping and "duration" not in mapping:
        absent.append("end_time or duration")
    if "format" not in mapping and "stakes" not in mapping and "big_blind" not in mapping:
        absent.append("stakes or big_blind (cash games need blinds)")
    if absent:
        raise InvalidInput(f"`mapping` has no column for {', '.join(absent)}")
    if "currency" not in mapping and not options.currency:
        raise InvalidInput("`currency` is missing: give the import's currency or map a currency column")
    if options.currency and not is_currency(options.currency):
        raise InvalidInput(f"`currency` {options.currency!r} is not an ISO 4217 currency code such as USD")


def _delimiter(text: str) -> str:
    """The separator the header uses most: ',' or ';' (spreadsheets in comma-decimal locales) or a tab."""
    first = text.split("\n", 1)[0]
    return max([",", ";", "\t"], key=first.count)


def parse_zone(name: str) -> tzinfo:
    """'UTC', a fixed offset such as '+01:00', or an IANA zone such as 'Europe/Berlin' (daylight saving applied).

    Raises:
        InvalidInput: none of those.
    """
    if name.upper() in {"UTC", "Z"}:
        return UTC
    match = _OFFSET.match(name)
    if match:
        sign, hours, minutes = -1 if match[1] == "-" else 1, int(match[2]), int(match[3])
        if hours > 23 or minutes > 59:
            raise InvalidInput(f"`tz` {name!r} is not an offset: offsets run from -23:59 to +23:59")
        return timezone(sign * timedelta(hours=hours, minutes=minutes))
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"`tz` {name!r} is not UTC, an offset like +01:00 or a zone like Europe/Berlin") from None


class _Row:
    """One CSV record being checked; every problem is kept, so the report lists them all at once."""

    def __init__(self, number: int, cells: dict[str, tuple[str, str]]) -> None:
        self.number = number
        self.cells = cells
        self.errors: list[RowError] = []

    def fail(self, field: str, message: str) -> None:
        column, value = self.cells.get(field, (column_name(field, {}), ""))
        self.errors.append(RowError(row=self.number, column=column, value=value, message=message))

    def text(self, field: str) -> str:
        return self.cells.get(field, ("", ""))[1]

    def required(self, field: str) -> str | None:
        value = self.text(field)
        if not value:
            self.fail(field, f"`{field}` is empty; it needs {FIELDS[field]}")
            return None
        return value

    def money(self, field: str, currency: str, *, required: bool = False) -> int | None:
        value = self.required(field) if required else self.text(field) or None
        if value is None:
            return None if required else 0
        cleaned = value.strip().lstrip(_SYMBOLS).strip()
        try:
            amount = parse_money(cleaned, currency)
        except ValueError as exc:
            self.fail(field, f"`{field}`: {exc}")
            return None
        if amount < 0:
            self.fail(field, f"`{field}` {value!r} is negative; amounts are ≥ 0")
            return None
        return amount

    def count(self, field: str) -> int | None:
        value = self.text(field)
        if not value:
            return None
        if not value.isdigit() or int(value) < 1:
            self.fail(field, f"`{field}` {value!r} must be a whole number ≥ 1")
            return None
        return int(value)

    def plan(
        self, user_id: str, options: ImportOptions, zone: tzinfo, now: datetime, seen: dict[bytes, int]
    ) -> PlannedSession | None:
        fmt = self.format()
        currency = self.currency(options)
        span = self.span(options.date_format, zone)
        if currency is None or fmt is None:
            return None
        buy_in = self.money("buy_in", currency, required=True)
        cash_out = self.money("cash_out", currency, required=True)
        blinds = self.blinds(currency, fmt)
        fee, tips = self.money("fee", currency), self.money("tips", currency)
        place, entrants = self.count("place"), self.count("entrants")
        if span is None or buy_in is None or cash_out is None or fee is None or tips is None or self.errors:
            return None
        start, end = span
        started: dict[str, Any] = {
            "format": fmt,
            "game": self.text("game") or options.game,
            "currency": currency,
            "buy_in": buy_in,
            "stakes": {"small_blind": blinds[0], "big_blind": blinds[1], "ante": 0} if blinds else None,
            "location": self.text("location"),
            "fee": fee,
            "tags": [t.strip() for t in re.split(r"[;|]", self.text("tags")) if t.strip()],
        }
        ended: dict[str, Any] = (
            {"cash_out": cash_out, "tips": tips}
            if fmt == "cash"
            else {"prize": cash_out, "place": place, "entrants": entrants, "tips": tips}
        )
        key = msgspec.json.encode([currency, start, end, started, ended])
        seen[key] = seen.get(key, 0) + 1
        # The occurrence number keeps two identical rows (same day, same result) as two sessions.
        session = uuid.uuid5(NAMESPACE, f"{user_id}\x1f{key.decode()}\x1f{seen[key]}")
        events = [
            _wire(session, 1, "session.started", start, started),
            _wire(session, 2, "session.ended", end, ended),
        ]
        if not self.valid_events(events, now):
            return None
        invested = buy_in + fee
        return PlannedSession(
            row=self.number,
            session_id=str(session),
            format=fmt,
            game=started["game"],
            currency=currency,
            small_blind=blinds[0] if blinds else 0,
            big_blind=blinds[1] if blinds else 0,
            location=started["location"],
            started_at=start,
            ended_at=end,
            hours=round(figures.hours(figures.played_seconds(start, end, break_seconds=0)), 4),
            buy_in=invested,
            cash_out=cash_out,
            profit=figures.profit(fmt, invested=invested, returned=cash_out, ended=True, prize=cash_out),
            events=events,
        )

    def format(self) -> Literal["cash", "tournament"] | None:
        value = self.text("format").lower()
        if not value:
            return "cash"
        fmt = FORMAT_NAMES.get(value)
        if fmt is None:
            self.fail("format", f"`format` {value!r} is not a format; write one of {', '.join(FORMAT_NAMES)}")
        return fmt

    def currency(self, options: ImportOptions) -> str | None:
        code = self.text("currency").upper() or options.currency
        if code is None or not is_currency(code):
            self.fail("currency", f"`currency` {code!r} is not an ISO 4217 currency code such as USD")
            return None
        return code

    def blinds(self, currency: str, fmt: str) -> tuple[int, int] | None:
        if self.text("stakes"):
            parts = self.text("stakes").split("/")
            if len(parts) != 2:
                self.fail("stakes", "`stakes` must be small/big blind in major units, such as 1/2")
                return None
            sb, bb = (self._amount("stakes", p, currency) for p in parts)
            return (sb, bb) if sb is not None and bb is not None and self._positive("stakes", bb) else None
        if self.text("big_blind"):
            bb = self.money("big_blind", currency)
            if bb is None or not self._positive("big_blind", bb):
                return None
            sb = self.money("small_blind", currency) if self.text("small_blind") else bb // 2
            return (sb, bb) if sb is not None else None
        if fmt == "cash":
            self.fail("stakes", "a cash game needs `stakes` (such as 1/2) or `big_blind`")
        return None

    def _amount(self, field: str, text: str, currency: str) -> int | None:
        try:
            return parse_money(text.strip().lstrip(_SYMBOLS).strip(), currency)
        except ValueError as exc:
            self.fail(field, f"`{field}`: {exc}")
            return None

    def _positive(self, field: str, amount: int) -> bool:
        if amount <= 0:
            self.fail(field, f"`{field}` gives a big blind of {amount}; it must be > 0")
            return False
        return True

    def span(self, date_format: str, zone: tzinfo) -> tuple[datetime, datetime] | None:
        day_text, start_text = self.required("date"), self.required("start_time")
        day = self._day(day_text, date_format) if day_text else None
        start_clock = self._clock("start_time", start_text) if start_text else None
        if day is None or start_clock is None:
            return None
        start = datetime.combine(day, start_clock, tzinfo=zone)
        if self.text("end_time"):
            end_clock = self._clock("end_time", self.text("end_time"))
            if end_clock is None:
                return None
            if end_clock == start_clock:
                # 0 h or 24 h? Neither is a session anyone meant; a whole day at the table is written as a duration.
                self.fail(
                    "end_time",
                    f"`end_time` {self.text('end_time')!r} is the same as `start_time`: write the real end time "
                    "(an earlier time means the next day), or map a duration column for a 24 h session",
                )
                return None
            end = datetime.combine(day, end_clock, tzinfo=zone)
            if end <= start:
                end = datetime.combine(day + timedelta(days=1), end_clock, tzinfo=zone)
        else:
            hours = self._hours()
            if hours is None:
                return None
            end = (start.astimezone(UTC) + timedelta(hours=hours)).astimezone(zone)
        if _elapsed(start, end) > timedelta(hours=MAX_HOURS):
            self.fail("duration" if "duration" in self.cells else "end_time", f"the session is over {MAX_HOURS} h")
            return None
        return start, end

    def _day(self, text: str, date_format: str) -> date | None:
        try:
            return datetime.strptime(text, date_format).date()
        except ValueError:
            self.fail("date", f"`date` {text!r} does not match the date format {date_format!r}")
            return None

    def _clock(self, field: str, text: str) -> time | None:
        for pattern in ("%H:%M", "%H:%M:%S"):
            try:
                return datetime.strptime(text, pattern).time()
            except ValueError:
                continue
        self.fail(field, f"`{field}` {text!r} is not a time; write HH:MM or HH:MM:SS (24 h)")
        return None

    def _hours(self) -> float | None:
        text = self.required("duration")
        if text is None:
            return None
        try:
            if ":" in text:
                hours, _, minutes = text.partition(":")
                value = int(hours) + int(minutes) / 60
            else:
                value = float(text)
        except ValueError:
            self.fail("duration", f"`duration` {text!r} is not hours; write 4.5 or 4:30")
            return None
        if not 0 < value <= MAX_HOURS:
            self.fail("duration", f"`duration` {text!r} must be more than 0 and at most {MAX_HOURS} hours")
            return None
        return value

    def valid_events(self, events: list[dict[str, Any]], now: datetime) -> bool:
        """The schema's own rules (game length, tag length, ...), so the server accepts what the plan promises."""
        for event in events:
            try:
                decode_event(msgspec.json.encode(event), now=now)
            except InvalidEvent as exc:
                self.fail(event_field(str(exc), event["type"], self.cells), str(exc))
                return False
        return True


def event_field(reason: str, event_type: str, mapped: Container[str]) -> str:
    """The import field (so the CSV column) behind an event rule's reason, such as `$.data.place` → place.

    Args:
        reason: the rule's message, which names the event path it is about.
        event_type: the event it was about: a time with no path of its own belongs to its start or end.
        mapped: the fields that have a column.
    """
    match = _PATH.search(reason)
    path = match[1] if match else ""
    if path.startswith("data.stakes"):
        return "stakes" if "stakes" in mapped else path.removeprefix("data.stakes.")
    if path.startswith("data."):
        name = path.removeprefix("data.").split(".")[0].split("[")[0]
        return _EVENT_FIELDS.get(name, name)
    if event_type == "session.started":
        return "start_time"
    return "duration" if "duration" in mapped else "end_time"


def column_name(field: str, mapping: Mapping[str, str]) -> str:
    """The CSV column of a field; a field without one took the import's default (the game, the currency)."""
    return mapping.get(field, f"(the import's `{field}`)")


def _wire(session: uuid.UUID, seq: int, type_: str, at: datetime, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid5(session, type_)),
        "session_id": str(session),
        "seq": seq,
        "type": type_,
        "at": at.isoformat(),
        "data": data,
    }


def _elapsed(start: datetime, end: datetime) -> timedelta:
    # In UTC: two datetimes sharing one ZoneInfo subtract as wall clocks and would miss a daylight-saving change.
    return end.astimezone(UTC) - start.astimezone(UTC)
