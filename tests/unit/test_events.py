"""The event schema: what a valid event is, and the precise reason when one is not."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.errors import InvalidEvent
from shared.events import decode_event, encode_event
from shared.money import format_money, parse_money
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


def test_money_is_formatted_and_parsed_in_minor_units() -> None:
    assert format_money(-123456, "USD") == "-1,234.56 USD"
    assert format_money(1500, "JPY") == "1,500 JPY"
    assert parse_money("12.5", "USD") == 1250
    with pytest.raises(ValueError, match="uses ','"):
        parse_money("12,50", "EUR")
    with pytest.raises(ValueError, match="has 3 decimals; USD has 2"):
        parse_money("1.005", "USD")
