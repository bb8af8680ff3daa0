"""Voids and corrections: the golden fold cases (any order, duplicates) and the intake rule of an amendment."""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest

from shared.amendments import check_amendment, effective
from shared.errors import InvalidEvent
from shared.events import ChipsAdded, Event, EventCorrected, decode_event, decode_stored, encode_event
from shared.reducer import SessionState, fold

GOLDEN = Path(__file__).parents[1] / "golden" / "amendments.json"
CASES: list[dict[str, Any]] = json.loads(GOLDEN.read_text())["cases"]
NOW = datetime(2026, 11, 21, tzinfo=UTC)


def _events(case: dict[str, Any]) -> list[Event]:
    return [decode_stored(json.dumps(e).encode()) for e in case["events"]]


def _fields(state: SessionState, names: list[str]) -> dict[str, Any]:
    full = msgspec.to_builtins(state)
    full["notes"] = [n.text for n in state.notes]
    full["moods"] = [m.score for m in state.moods]
    return {name: full[name] for name in names}


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_golden_case_gives_the_expected_state_in_every_order_and_with_duplicates(case: dict[str, Any]) -> None:
    events = _events(case)
    expected = case["expected"]
    orders = [events, events[::-1], events + events, events[::-1] + events]
    rng = random.Random(case["name"])
    for _ in range(8):
        shuffled = events * 2
        rng.shuffle(shuffled)
        orders.append(shuffled)
    for order in orders:
        assert _fields(fold("s", order), list(expected)) == expected


def test_effective_leaves_the_amendments_and_voided_events_out_and_keeps_the_history_intact() -> None:
    case = next(c for c in CASES if c["name"] == "a voided rebuy is not a rebuy")
    events = _events(case)
    kept = effective(events)
    assert [e.type for e in kept] == ["session.started", "stack.counted"]
    assert len(events) == 4  # the history itself is untouched


def _wire(type_: str, data: dict[str, Any], *, seq: int, at: str = "2026-11-20T20:30:00+01:00") -> bytes:
    body = {"type": type_, "id": str(uuid.uuid4()), "session_id": "5e55a000-0000-4000-8000-000000000001", "seq": seq,
            "at": at, "data": data}  # fmt: skip
    return json.dumps(body).encode()


START = decode_event(
    _wire(
        "session.started",
        {
            "format": "cash",
            "game": "NLH",
            "currency": "USD",
            "buy_in": 20000,
            "stakes": {"small_blind": 100, "big_blind": 200},
        },
        seq=1,
        at="2026-11-20T20:00:00+01:00",
    ),
    now=NOW,
)
REBUY = decode_event(_wire("chips.added", {"amount": 20000}, seq=2), now=NOW)


def _amend(type_: str, data: dict[str, Any]) -> Event:
    return decode_event(_wire(type_, data, seq=9, at="2026-11-20T20:40:00+01:00"), now=NOW)


def test_a_void_of_an_event_not_in_the_session_is_refused_naming_the_id() -> None:
    void = _amend("event.voided", {"event_id": str(REBUY.id)})
    with pytest.raises(InvalidEvent, match=f"`\\$.data.event_id` {REBUY.id} is not an event of this session"):
        check_amendment(void, None, NOW)


def test_a_session_start_cannot_be_voided() -> None:
    with pytest.raises(InvalidEvent, match="a session's start cannot be voided"):
        check_amendment(_amend("event.voided", {"event_id": str(START.id)}), START, NOW)


def test_a_void_cannot_be_voided_or_corrected() -> None:
    void = _amend("event.voided", {"event_id": str(REBUY.id)})
    with pytest.raises(InvalidEvent, match="cannot be voided or corrected"):
        check_amendment(_amend("event.voided", {"event_id": str(void.id)}), void, NOW)


def test_a_correction_is_checked_with_the_schema_of_its_targets_type() -> None:
    bad = _amend("event.corrected", {"event_id": str(REBUY.id), "data": {"amount": "lots"}})
    with pytest.raises(InvalidEvent, match=r"`\$.data.data.amount`.*whole chips.added payload"):
        check_amendment(bad, REBUY, NOW)
    unknown = _amend("event.corrected", {"event_id": str(REBUY.id), "data": {"amount": 1, "colour": "red"}})
    with pytest.raises(InvalidEvent, match="colour"):
        check_amendment(unknown, REBUY, NOW)


def test_a_correction_is_checked_with_the_intake_rules_of_its_targets_type() -> None:
    stakes = {
        "format": "cash",
        "game": "NLH",
        "currency": "USD",
        "buy_in": 1,
        "stakes": {"small_blind": 500, "big_blind": 200},
    }
    with pytest.raises(InvalidEvent, match=r"`\$.data.data.stakes.small_blind` 500 is larger than big_blind 200"):
        check_amendment(_amend("event.corrected", {"event_id": str(START.id), "data": stakes}), START, NOW)


def test_an_accepted_correction_is_stored_with_its_payload_in_canonical_form() -> None:
    fixed = check_amendment(_amend("event.corrected", {"event_id": str(REBUY.id), "data": {"amount": 5}}), REBUY, NOW)
    assert isinstance(fixed.data, EventCorrected)
    assert fixed.data.data == {"amount": 5, "kind": "rebuy"}
    assert fold("s", [START, REBUY, fixed]).invested == 20005
    assert isinstance(effective([REBUY, fixed])[0].data, ChipsAdded)


def test_a_void_or_correction_may_name_no_session_only_to_amend_a_transaction() -> None:
    body = {"type": "event.voided", "id": str(uuid.uuid4()), "seq": 1, "at": "2026-11-20T20:00:00+01:00",
            "data": {"event_id": str(uuid.uuid4())}}  # fmt: skip
    assert decode_event(json.dumps(body).encode(), now=NOW).session_id is None


def _session_events() -> list[Event]:
    case = next(c for c in CASES if c["name"] == "a voided rebuy is not a rebuy")
    return _events(case)


def test_tilt_replay_of_an_export_leaves_a_voided_rebuy_out(tmp_path: Path) -> None:
    from workers.tilt.engine import read_replay

    export = tmp_path / "events.jsonl"
    export.write_bytes(b"".join(encode_event(e) + b"\n" for e in _session_events()))
    fed = [event.type for _, event in read_replay(export)]
    assert fed == ["session.started", "stack.counted"]


def test_tilt_replay_feeds_a_corrected_event_with_its_corrected_payload(tmp_path: Path) -> None:
    from workers.tilt.engine import read_replay

    case = next(c for c in CASES if c["name"] == "a corrected rebuy amount changes invested and stack")
    lines = [json.dumps({"user": "ann", "event": e}) for e in case["events"]]
    replay = tmp_path / "replay.jsonl"
    replay.write_text("\n".join(lines) + "\n")
    [_, (_, rebuy)] = read_replay(replay)
    assert isinstance(rebuy.data, ChipsAdded) and rebuy.data.amount == 10000


def test_the_live_tilt_engine_takes_a_voided_rebuy_out_of_the_running_session_and_its_windows() -> None:
    from workers.tilt.engine import TiltEngine
    from workers.tilt.scorer import TiltScorer

    engine = TiltEngine(TiltScorer())
    events = _session_events()
    sid = str(events[0].session_id)
    for event in events:
        engine.observe("ann", event)
    running = engine.players["ann"].features.sessions[sid]
    assert running.state.rebuys == 1 and len(running.rebuy_times) == 1  # the engine saw the tap before its void
    assert [p.net for p in running.points] == [0, 0, -10000]  # $300 counted after $400 in
    engine.refold("ann", sid, reversed(events))  # the store hands them in no particular order
    running = engine.players["ann"].features.sessions[sid]
    assert (running.state.rebuys, running.state.invested) == (0, 20000)
    assert (running.rebuy_times, running.last_rebuy_at, running.busts) == ([], None, 0)
    assert [p.net for p in running.points] == [0, 10000]  # the net curve as if the rebuy was never taken: $300 - $200


def test_folding_a_running_session_again_keeps_what_it_took_from_the_players_day() -> None:
    from workers.tilt.engine import TiltEngine
    from workers.tilt.scorer import TiltScorer

    engine = TiltEngine(TiltScorer())
    events = [e for e in _session_events() if e.type != "event.voided"]
    sid = str(events[0].session_id)
    for event in events:
        engine.observe("ann", event)
    before = msgspec.to_builtins(engine.players["ann"].features.sessions[sid])
    history = engine.players["ann"].features.history
    history.today.sessions += 3  # the player's day moved on (another session started meanwhile)
    engine.refold("ann", sid, events)
    assert msgspec.to_builtins(engine.players["ann"].features.sessions[sid]) == before
    assert history.today.sessions == before["day_sessions"] + 3  # the history itself is not touched
