"""The event schema: what a valid event is, and the precise reason when one is not."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.errors import InvalidEvent
from shared.events import decode_event, decode_stored, encode_event
from shared.reducer import fold
from tests.factories import SessionScript


def decode(event: dict[str, Any]) -> Any:
    return decode_event(json.dumps(event).encode(), device="phone")


def test_an_event_round_trips_through_its_wire_form() -> None:
    event = decode(SessionScript().start())
    assert decode_event(encode_event(event)) == event


def test_the_device_offset_is_kept_for_local_hour() -> None:
    event = decode(SessionScript(offset_hours=-7).start())
    assert event.at.utcoffset() is not None and event.at.utcoffset().total_seconds() == -7 * 3600  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda e: e["data"].update(amount=1.5), "Expected `int`, got `float` - at `$.data.amount`"),
        (lambda e: e.update(type="chips.lost"), "unknown event type 'chips.lost'"),
        (lambda e: e.update(session_id=None), "`$.session_id` is required for 'chips.added'"),
        (lambda e: e.update(extra=1), "Object contains unknown field `extra`"),
        (lambda e: e["data"].update(kind="gift"), "Invalid enum value 'gift' - at `$.data.kind`"),
        (lambda e: e["data"].update(colour="red"), "Object contains unknown field `colour` - at `$.data`"),
        (lambda e: e.update(at="1999-12-31T23:59:59+00:00"), "is before 2000-01-01, the earliest time accepted"),
        (lambda e: e.update(at="0001-01-01T00:00:00+00:00"), "is before 2000-01-01"),
        (lambda e: e.update(v=70000), "Expected `int` <= 1 - at `$.v`"),
        (lambda e: e.update(v=-1), "Expected `int` >= 1 - at `$.v`"),
        (lambda e: e["data"].update(amount=2**63), "Expected `int` <= 1000000000000000 - at `$.data.amount`"),
        (lambda e: e["data"].update(amount=10**400), "Expected `int` <= 1000000000000000 - at `$.data.amount`"),
    ],
)
def test_bad_events_are_rejected_with_a_reason_naming_the_field(mutate: Any, reason: str) -> None:
    event = SessionScript().rebuy(100)
    mutate(event)
    with pytest.raises(InvalidEvent) as info:
        decode(event)
    assert reason in str(info.value)


def test_a_cash_game_needs_a_big_blind() -> None:
    event = SessionScript().start(big_blind=0)
    with pytest.raises(InvalidEvent, match="big_blind` must be > 0 for a cash game"):
        decode(event)


def test_a_transaction_may_have_no_session() -> None:
    event = {
        "id": "0b7c2f7e-3f55-4f7e-9d41-2d0f0d9a4e10",
        "session_id": None,
        "seq": 1,
        "type": "transaction.recorded",
        "at": "2026-11-23T12:00:00+00:00",
        "data": {"kind": "deposit", "amount": 50000, "currency": "EUR"},
    }
    assert decode(event).session_id is None


def raw_rebuy() -> bytes:
    return json.dumps(SessionScript().rebuy(100)).encode()


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (raw_rebuy().replace(b'"kind": "rebuy"', b'"kind": "\xff\xfe"'), "event is not valid UTF-8"),
        (raw_rebuy().replace(b'"kind": "rebuy"', b'"kind": "\\ud800"'), "event is not valid JSON"),
        (raw_rebuy().replace(b'"kind": "rebuy"', b'"kind": "rebuy", "kind": "top_up"'), "key 'kind' appears twice"),
        (raw_rebuy().replace(b'"seq": 1', b'"seq": 1, "seq": 2'), "key 'seq' appears twice"),
        (raw_rebuy().replace(b'"kind": "rebuy"', b'"kind": ' + b"[" * 5000 + b"]" * 5000), "Expected `str`"),
        (b"[" * 100_000 + b"]" * 100_000, "Expected `object`, got `array`"),
    ],
)
def test_malformed_bytes_are_an_invalid_event_never_a_crash(raw: bytes, reason: str) -> None:
    with pytest.raises(InvalidEvent) as info:
        decode_event(raw, device="phone")
    assert reason in str(info.value)


def test_a_tournament_place_is_at_most_the_field_size() -> None:
    script = SessionScript()
    script.start()
    ended = script.event("session.ended", {"place": 500, "entrants": 100})
    with pytest.raises(InvalidEvent, match=re.escape("`$.data.place` 500 is larger than `$.data.entrants` 100")):
        decode(ended)


def test_times_are_truncated_to_milliseconds_at_intake() -> None:
    event = decode(SessionScript().event("break.started", {}) | {"at": "2026-01-02T03:04:05.123999+01:00"})
    assert event.at.microsecond == 123000


def test_live_fold_and_replay_from_the_warehouse_agree_on_played_time() -> None:
    """The warehouse keeps milliseconds: a live state folded from finer times once said 7200 s, replay 7201 s."""
    script = SessionScript(start=datetime(2026, 1, 2, 20, 0, 0, 999_900, tzinfo=UTC))
    raw = [script.start(), script.event("session.ended", {}, after_minutes=120.0001)]
    live = fold(script.session_id, [decode(e) for e in raw])
    replayed = fold(script.session_id, [decode_stored(encode_event(decode(e))) for e in raw])
    assert live.played_seconds == replayed.played_seconds == 7200


def test_stored_events_are_read_without_the_intake_rules() -> None:
    """An event accepted under older, looser rules stays readable: outbox, live state and exports never stop."""
    old = SessionScript(start=datetime(1999, 6, 1, tzinfo=UTC)).rebuy(10**16)
    old["data"]["retired_field"] = True
    event = decode_stored(json.dumps(old).encode())
    assert event.type == "chips.added" and event.data.amount == 10**16  # type: ignore[union-attr]
    assert event.at.year == 1999


def test_an_event_far_in_the_future_is_refused_against_the_given_clock() -> None:
    event = SessionScript(start=datetime(2026, 1, 1, tzinfo=UTC)).rebuy(100)
    now = datetime(2026, 1, 1, tzinfo=UTC) - timedelta(hours=1)
    with pytest.raises(InvalidEvent, match="s ahead of the server clock; at most 300 s is allowed"):
        decode_event(json.dumps(event).encode(), now=now)
