"""The session reducer: one fold for live state, replay and tests; arrival order and duplicates never matter."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.errors import InvalidEvent
from shared.events import Event, SessionEnded, decode_event
from shared.reducer import check_corrected_end, fold, fold_more, live_view
from tests.factories import SessionScript, played_session


def events_of(raw: list[dict[str, object]], device: str = "phone") -> list[Event]:
    return [decode_event(json.dumps(e).encode(), device=device) for e in raw]


def test_profit_is_cash_out_minus_everything_invested() -> None:
    script, raw = played_session(buy_in=20000, cash_out=41000)
    state = fold(script.session_id, events_of(raw))
    assert (state.invested, state.cash_out, state.profit) == (40000, 41000, 1000)


def test_breaks_are_not_played_time() -> None:
    script, raw = played_session()
    state = fold(script.session_id, events_of(raw))
    assert state.break_seconds == 20 * 60
    assert state.played_seconds == 240 * 60
    assert state.hourly == 250  # 1000 cents over 4 hours
    assert state.bb_per_hour == 1.25  # 250 / 200


def test_a_rebuy_adds_to_the_last_counted_stack() -> None:
    s = SessionScript()
    state = fold(s.session_id, events_of([s.start(buy_in=20000), s.stack(5000), s.rebuy(20000)]))
    assert state.stack == 25000
    assert state.profit == 25000 - 40000


def test_jackpot_money_is_profit_but_not_win_rate() -> None:
    s = SessionScript()
    start, end = s.start(buy_in=20000), s.end(50000, after_minutes=120)
    end["data"]["jackpot"] = 10000
    state = fold(s.session_id, events_of([start, end]))
    assert state.profit == 30000
    assert state.win_rate_profit == 20000


def test_a_forgotten_timer_ends_at_the_real_end_time() -> None:
    s = SessionScript(start=datetime(2026, 1, 1, 20, tzinfo=UTC))
    start, end = s.start(), s.end(30000, after_minutes=600)
    end["data"]["ended_at"] = "2026-01-01T23:00:00+00:00"
    state = fold(s.session_id, events_of([start, end]))
    assert state.played_seconds == 3 * 3600


def test_a_tournament_profit_is_prize_and_bounties_minus_buy_in_fee_and_rebuys() -> None:
    s = SessionScript()
    start = s.event(
        "session.started",
        {"format": "tournament", "game": "NLH", "currency": "USD", "buy_in": 10000, "fee": 1000, "bounty": 0},
    )
    end = s.event("session.ended", {"place": 3, "entrants": 120, "prize": 150000, "bounties": 5000}, 300)
    state = fold(s.session_id, events_of([start, s.rebuy(10000), end]))
    assert state.profit == 150000 + 5000 - 21000
    assert state.bb_per_hour is None


def test_live_view_keeps_the_clock_running_for_an_open_session() -> None:
    s = SessionScript(start=datetime.now(UTC) - timedelta(hours=2))
    state = fold(s.session_id, events_of([s.start()]))
    view = live_view(state, datetime.now(UTC))
    assert abs(view.played_seconds - 7200) < 5


def _session_events() -> list[Event]:
    script, raw = played_session()
    other = SessionScript(session_id=script.session_id, start=script.clock - timedelta(hours=3))
    # A second phone logs two events into the same session: its seq numbers overlap the first phone's.
    extra = [other.note("second phone here", 200), other.mood(2, 1)]
    return events_of(raw) + events_of(extra, device="tablet")


EVENTS = _session_events()


@settings(max_examples=200, deadline=None)
@given(st.permutations(EVENTS), st.lists(st.sampled_from(EVENTS), max_size=10))
def test_any_order_with_any_duplicates_folds_to_the_same_state(order: list[Event], dupes: list[Event]) -> None:
    expected = msgspec.to_builtins(fold("s", EVENTS))
    assert msgspec.to_builtins(fold("s", order + dupes)) == expected


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=10**7), min_size=1, max_size=30))
def test_invested_is_buy_in_plus_every_rebuy(amounts: list[int]) -> None:
    s = SessionScript()
    raw = [s.start(buy_in=amounts[0])] + [s.rebuy(a, after_minutes=1) for a in amounts[1:]]
    state = fold(s.session_id, events_of(raw))
    assert state.invested == sum(amounts)
    assert state.rebuys == len(amounts) - 1


def test_breaks_after_a_corrected_end_are_not_taken_off_the_played_time() -> None:
    # Played 20:00–23:00, forgot the timer; a break tapped at 23:30–23:50 and the end confirmed at 06:00 as 23:00.
    s = SessionScript(start=datetime(2026, 1, 1, 20, tzinfo=UTC))
    events = [s.start(), *s.break_(20, after_minutes=210), s.end(30000, after_minutes=370)]
    events[-1]["data"]["ended_at"] = "2026-01-01T23:00:00+00:00"
    state = fold(s.session_id, events_of(events))
    assert (state.played_seconds, state.break_seconds) == (3 * 3600, 0)


def test_a_break_running_over_a_corrected_end_counts_only_up_to_the_end() -> None:
    # A break 22:30–23:30 with the real end at 23:00: 30 minutes of it were inside the session.
    s = SessionScript(start=datetime(2026, 1, 1, 20, tzinfo=UTC))
    events = [s.start(), *s.break_(60, after_minutes=150), s.end(30000, after_minutes=60)]
    events[-1]["data"]["ended_at"] = "2026-01-01T23:00:00+00:00"
    state = fold(s.session_id, events_of(events))
    assert (state.played_seconds, state.break_seconds) == (150 * 60, 30 * 60)


def test_the_same_corrected_end_folds_the_same_live_and_replayed() -> None:
    s = SessionScript(start=datetime(2026, 1, 1, 20, tzinfo=UTC))
    events = events_of([s.start(), *s.break_(60, after_minutes=150), s.end(30000, after_minutes=60)])
    corrected = msgspec.structs.replace(
        events[-1], data=msgspec.structs.replace(events[-1].data, ended_at=datetime(2026, 1, 1, 23, tzinfo=UTC))
    )
    live = fold_more(fold(s.session_id, events[:-1]), [corrected])
    assert live.played_seconds == fold(s.session_id, [*events[:-1], corrected]).played_seconds == 150 * 60


def test_a_stored_corrected_end_before_the_start_falls_back_to_the_tap_time() -> None:
    # Intake refuses it (check_corrected_end); an event stored before that rule folds as if it had no correction.
    s = SessionScript(start=datetime(2026, 1, 1, 20, tzinfo=UTC))
    events = events_of([s.start(), s.end(30000, after_minutes=120)])
    wrong = msgspec.structs.replace(
        events[-1], data=msgspec.structs.replace(events[-1].data, ended_at=datetime(2026, 1, 1, 19, tzinfo=UTC))
    )
    state = fold(s.session_id, [events[0], wrong])
    assert (state.ended_at, state.played_seconds) == (wrong.at, 2 * 3600)


def test_a_corrected_end_before_the_start_is_refused_with_both_times() -> None:
    ended = SessionEnded(cash_out=0, ended_at=datetime(2026, 1, 1, 19, tzinfo=UTC))
    with pytest.raises(InvalidEvent, match=r"`\$.data.ended_at` 2026-01-01T19:00:00\+00:00 is before the session"):
        check_corrected_end(datetime(2026, 1, 1, 20, tzinfo=UTC), ended)
    check_corrected_end(datetime(2026, 1, 1, 19, tzinfo=UTC), ended)  # ending when it started: allowed, 0 h
    check_corrected_end(None, ended)  # start not known yet: nothing to compare
