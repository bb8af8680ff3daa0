"""CSV import planning (shared/imports.py): rows to session.started + session.ended, checked before anything is sent."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest

from shared.errors import InvalidInput
from shared.events import decode_event
from shared.imports import ImportOptions, ImportPlan, parse_mapping, plan_csv
from shared.reducer import fold

NOW = datetime(2026, 1, 1, tzinfo=UTC)
MAPPING = "Date=date,Start=start_time,End=end_time,Stakes=stakes,Venue=location,Buy In=buy_in,Cash Out=cash_out"
HEADER = "Date,Start,End,Stakes,Venue,Buy In,Cash Out\n"
USD = ImportOptions(currency="USD", tz="+01:00")


def plan(
    body: str, mapping: str = MAPPING, user: str = "u1", options: ImportOptions = USD, raw: bytes | None = None
) -> ImportPlan:
    data = raw if raw is not None else (HEADER + body).encode()
    return plan_csv(data, parse_mapping(mapping), user_id=user, options=options, now=NOW)


def test_mapping_reads_column_equals_field_pairs_with_spaces_in_names() -> None:
    assert parse_mapping("Buy In=buy_in, Date = date") == {"buy_in": "Buy In", "date": "Date"}


@pytest.mark.parametrize(
    ("text", "words"),
    [("Colour=colour", ["'colour'", "fields:"]), ("A=date,B=date", ["'date'", "twice"]), ("date", ["column=field"])],
)
def test_a_bad_mapping_names_the_item_and_the_rule(text: str, words: list[str]) -> None:
    with pytest.raises(InvalidInput) as error:
        parse_mapping(text)
    for word in words:
        assert word in str(error.value)


def test_each_row_becomes_a_started_and_an_ended_event_with_seq_1_and_2() -> None:
    result = plan("2025-03-03,19:00,23:30,1/2,Aria,200,350.50\n")
    assert result.valid and result.rows == 1
    (session,) = result.sessions
    started, ended = session.events
    assert [(e["type"], e["seq"]) for e in session.events] == [("session.started", 1), ("session.ended", 2)]
    assert started["at"] == "2025-03-03T19:00:00+01:00" and ended["at"] == "2025-03-03T23:30:00+01:00"
    assert started["data"]["stakes"] == {"small_blind": 100, "big_blind": 200, "ante": 0}
    assert (started["data"]["buy_in"], ended["data"]["cash_out"]) == (20000, 35050)
    assert (session.profit, session.hours, session.location) == (15050, 4.5, "Aria")


def test_the_planned_events_fold_to_the_session_the_row_describes() -> None:
    (session,) = plan("2025-03-03,19:00,23:30,1/2,Aria,200,350.50\n").sessions
    state = fold(session.session_id, [decode_event(msgspec.json.encode(e)) for e in session.events])
    assert (state.status, state.profit, state.played_seconds) == ("ended", 15050, 4 * 3600 + 1800)


def test_an_end_time_before_the_start_is_on_the_next_day() -> None:
    (session,) = plan("2025-03-03,22:00,02:00,1/2,,200,100\n").sessions
    assert session.ended_at.isoformat() == "2025-03-04T02:00:00+01:00"
    assert session.hours == 4.0


def test_duration_may_replace_the_end_time_as_decimal_hours_or_h_mm() -> None:
    mapping = "Date=date,Start=start_time,Hours=duration,BB=big_blind,Buy In=buy_in,Cash Out=cash_out"
    body = "Date,Start,Hours,BB,Buy In,Cash Out\n2025-03-03,19:00,4:30,2,200,250\n2025-03-04,19:00,1.5,5,500,400\n"
    result = plan("", mapping, raw=body.encode())
    assert [(s.hours, s.small_blind, s.big_blind) for s in result.sessions] == [(4.5, 100, 200), (1.5, 250, 500)]


def test_ids_are_the_same_for_the_same_rows_and_user_so_a_second_import_creates_nothing() -> None:
    body = "2025-03-03,19:00,23:30,1/2,Aria,200,350\n"
    first, again, other_user = plan(body), plan(body), plan(body, user="u2")
    assert [e["id"] for e in first.sessions[0].events] == [e["id"] for e in again.sessions[0].events]
    assert first.sessions[0].session_id != other_user.sessions[0].session_id


def test_two_identical_rows_are_two_sessions() -> None:
    result = plan("2025-03-03,19:00,23:30,1/2,Aria,200,350\n" * 2)
    assert len({s.session_id for s in result.sessions}) == 2


def test_an_ambiguous_amount_is_an_error_naming_row_and_column() -> None:
    result = plan("2025-03-03,19:00,23:30,1/2,Aria,200,350\n2025-03-04,19:00,23:00,1/2,Aria,1.250,300\n")
    assert not result.valid
    (error,) = result.errors
    assert (error.row, error.column, error.value) == (3, "Buy In", "1.250")
    assert "thousands or decimals" in error.message


def test_amounts_are_read_as_people_write_them() -> None:
    result = plan('2025-03-04,19:00,23:00,1/2,Aria,"1,250.50",$300\n')
    assert result.valid, result.errors
    assert result.sessions[0].events[0]["data"]["buy_in"] == 125050


def test_every_bad_row_is_reported_at_once() -> None:
    result = plan(
        "2025-02-30,19:00,23:00,1/2,,200,300\n2025-03-04,7pm,23:00,1/2,,200,300\n2025-03-05,19:00,23:00,,,200,x\n"
    )
    assert [(e.row, e.column) for e in result.errors] == [
        (2, "Date"),
        (3, "Start"),
        (4, "Cash Out"),
        (4, "Stakes"),
    ]


def test_a_session_ending_in_the_future_is_refused() -> None:
    result = plan("2026-01-01,00:30,03:00,1/2,,200,300\n")
    assert not result.valid and "ahead of the server clock" in result.errors[0].message


def test_a_tournament_row_has_a_prize_and_fee_instead_of_blinds() -> None:
    mapping = MAPPING + ",Type=format,Fee=fee,Place=place"
    body = "Date,Start,End,Stakes,Venue,Buy In,Cash Out,Type,Fee,Place\n2025-03-06,18:00,21:00,,Aria,100,400,MTT,10,2\n"
    (session,) = plan("", mapping, raw=body.encode()).sessions
    started, ended = session.events
    assert (started["data"]["format"], started["data"]["stakes"], started["data"]["fee"]) == ("tournament", None, 1000)
    assert (ended["data"]["prize"], ended["data"]["place"], session.profit) == (40000, 2, 29000)


def test_a_mapped_column_missing_from_the_header_names_it() -> None:
    with pytest.raises(InvalidInput) as error:
        plan("", raw=b"Date,Start,End,Stakes,Venue,BuyIn,Cash Out\n")
    assert "'Buy In'" in str(error.value) and "row 1" in str(error.value)


def test_a_mapping_without_required_fields_is_refused() -> None:
    with pytest.raises(InvalidInput) as error:
        plan("", "Date=date,Buy In=buy_in")
    assert "start_time" in str(error.value) and "end_time or duration" in str(error.value)


def test_latin_1_bytes_are_a_clear_error_unless_the_encoding_is_given() -> None:
    raw = (HEADER + "2025-03-03,19:00,23:00,1/2,Café de Paris,200,300\n").encode("latin-1")
    with pytest.raises(InvalidInput) as error:
        plan("", raw=raw)
    assert "not UTF-8" in str(error.value) and "line 2" in str(error.value)
    latin = ImportOptions(currency="USD", encoding="latin-1")
    assert plan("", raw=raw, options=latin).sessions[0].location == "Café de Paris"


def test_utf16_with_a_byte_order_mark_is_detected() -> None:
    raw = (HEADER + "2025-03-03,19:00,23:00,1/2,Aria,200,300\n").encode("utf-16")
    assert plan("", raw=raw).valid


def test_utf16_without_a_byte_order_mark_is_a_clear_error() -> None:
    with pytest.raises(InvalidInput, match="UTF-16"):
        plan("", raw=(HEADER + "2025-03-03,19:00,23:00,1/2,Aria,200,300\n").encode("utf-16-le"))


def test_semicolon_separated_files_are_read() -> None:
    raw = (HEADER.replace(",", ";") + "2025-03-03;19:00;23:00;1/2;Aria;200;300\n").encode()
    assert plan("", raw=raw).sessions[0].profit == 10000


def test_a_named_time_zone_applies_daylight_saving_time() -> None:
    options = ImportOptions(currency="EUR", tz="Europe/Berlin")
    winter, summer = plan(
        "2025-01-10,19:00,22:00,1/2,,200,300\n2025-07-10,19:00,22:00,1/2,,200,300\n", options=options
    ).sessions
    assert winter.events[0]["at"].endswith("+01:00") and summer.events[0]["at"].endswith("+02:00")


@pytest.mark.parametrize(
    ("options", "word"), [(ImportOptions(), "`currency`"), (ImportOptions(currency="USD", tz="Mars/Base"), "`tz`")]
)
def test_missing_currency_or_unknown_zone_is_refused(options: ImportOptions, word: str) -> None:
    with pytest.raises(InvalidInput, match=word):
        plan("2025-03-03,19:00,23:00,1/2,,200,300\n", options=options)


def test_an_end_time_equal_to_the_start_is_refused_not_read_as_24_hours() -> None:
    result = plan("2025-03-03,19:00,19:00,1/2,,200,300\n")
    assert [(e.row, e.column, e.value) for e in result.errors] == [(2, "End", "19:00")]
    assert "same as `start_time`" in result.errors[0].message


TOURNAMENT_MAPPING = "Date=date,Start=start_time,End=end_time,Format=format,Buy In=buy_in,Cash Out=cash_out,"


def tournament_plan(header: str, row: str, extra_mapping: str) -> ImportPlan:
    body = f"Date,Start,End,Format,Buy In,Cash Out,{header}\n2025-03-03,19:00,23:00,mtt,100,0,{row}\n"
    return plan("", TOURNAMENT_MAPPING + extra_mapping, raw=body.encode())


def test_a_place_behind_the_field_size_is_refused_naming_the_place_column() -> None:
    result = tournament_plan("Place,Field", "500,100", "Place=place,Field=entrants")
    assert [(e.row, e.column, e.value) for e in result.errors] == [(2, "Place", "500")]
    assert "at most the field size" in result.errors[0].message


@pytest.mark.parametrize(
    ("header", "row", "mapping", "column"),
    [
        ("Game", "Texas Hold'em No Limit", "Game=game", "Game"),
        ("Tags", "a;" + "b" * 41, "Tags=tags", "Tags"),
        ("Venue", "x" * 121, "Venue=location", "Venue"),
    ],
)
def test_every_rule_of_the_event_schema_names_the_csv_column(header: str, row: str, mapping: str, column: str) -> None:
    result = tournament_plan(header, row, mapping)
    assert [(e.row, e.column) for e in result.errors] == [(2, column)]


GOOD = (HEADER + "2025-03-03,19:00,20:00,1/2,,200,300\n").encode()


@pytest.mark.parametrize(
    ("raw", "options", "words"),
    [
        ((HEADER + "2025-03-03,19:00,20:00,1/2,," + "x" * 140_000 + ",300\n").encode(), USD, ["row 2", "131072"]),
        (GOOD, ImportOptions(currency="USD", tz="+99:99"), ["`tz`", "'+99:99'", "-23:59"]),
        (GOOD, ImportOptions(currency="USD", encoding="punycode"), ["not punycode"]),
        (b"\xff\xfe\xfd" + HEADER.encode(), USD, ["UTF-16"]),
        (b"\xff\xfe\xfd", USD, ["UTF-16"]),
        (GOOD, ImportOptions(currency="USD", encoding="rot13"), ["`encoding`", "'rot13'"]),
    ],
)
def test_a_file_that_cannot_be_read_is_a_clear_error_never_a_crash(
    raw: bytes, options: ImportOptions, words: list[str]
) -> None:
    with pytest.raises(InvalidInput) as error:
        plan("", raw=raw, options=options)
    for word in words:
        assert word in str(error.value)
