"""Specification of the incremental tilt features."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import msgspec

from shared.events import (
    BreakEnded,
    BreakStarted,
    ChipsAdded,
    Event,
    MoodReported,
    NoteAdded,
    Payload,
    SessionEnded,
    SessionStarted,
    StackCounted,
    Stakes,
    TransactionRecorded,
    make_event,
)
from shared.simulator import SessionLog
from shared.tilt_features import (
    DAY_MINUTES,
    ENDED_KEPT,
    FEATURE_NAMES,
    MINUTES_CAP,
    FeatureVector,
    PlayerFeatures,
    PlayerHistory,
    SessionFeatures,
    new_session,
    observe,
    observe_player,
)

TZ = timezone(timedelta(hours=-8))
T0 = datetime(2025, 3, 7, 20, 0, tzinfo=TZ)
BUY_IN = 50_000  # $500 at 2/5


class Session:
    """Builds one 2/5 session's events, a minute offset at a time."""

    def __init__(self) -> None:
        self.log = SessionLog(uuid.uuid4(), device="test")
        self.id = self.log.session_id

    def at(self, minutes: float, data: Payload) -> Event:
        return self.log.add(data, T0 + timedelta(minutes=minutes))

    def start(self, minutes: float = 0, big_blind: int = 500) -> Event:
        return self.at(minutes, SessionStarted("cash", "NLH", "USD", BUY_IN, Stakes(big_blind // 2, big_blind)))


def run(events: list[Event], history: PlayerHistory | None = None) -> tuple[FeatureVector, SessionFeatures]:
    history = history or PlayerHistory()
    session = new_session(str(events[0].session_id))
    vector = None
    for event in events:
        vector = observe(history, session, event)
    assert vector is not None
    return vector, session


def test_vector_has_one_float_per_feature_name_in_order() -> None:
    s = Session()
    vector, _ = run([s.start(), s.at(30, StackCounted(40_000))])
    assert len(vector.values) == len(FEATURE_NAMES)
    assert all(isinstance(v, float) for v in vector.values)


def test_session_loss_and_drawdown_are_counted_in_buy_ins() -> None:
    s = Session()
    vector, _ = run([s.start(), s.at(30, StackCounted(100_000)), s.at(60, StackCounted(0))])
    assert vector["net_buyins"] == -1.0
    assert vector["drawdown_buyins"] == 2.0  # from +1 buy-in at the peak down to −1


def test_loss_in_the_last_hour_ignores_older_losses() -> None:
    s = Session()
    vector, _ = run([s.start(), s.at(10, StackCounted(25_000)), s.at(100, StackCounted(25_000))])
    assert vector["loss_60m_buyins"] == 0.0
    assert vector["net_buyins"] == -0.5
    s2 = Session()
    vector2, _ = run([s2.start(), s2.at(100, StackCounted(50_000)), s2.at(130, StackCounted(0))])
    assert vector2["loss_60m_buyins"] == 1.0
    assert vector2["loss_30m_sd"] > vector2["loss_60m_sd"] > 0


def test_rebuys_leave_the_hourly_window_but_stay_in_the_session_count() -> None:
    s = Session()
    events = [s.start(), s.at(20, StackCounted(0)), s.at(22, ChipsAdded(BUY_IN)), s.at(30, StackCounted(0))]
    events.append(s.at(33, ChipsAdded(BUY_IN)))
    vector, session = run(events)
    assert vector["rebuys_60m"] == 2.0
    assert vector["minutes_since_rebuy"] == 0.0
    history = PlayerHistory()
    late = observe(history, session, s.at(150, StackCounted(BUY_IN)))
    assert late["rebuys_60m"] == 0.0
    assert late["rebuys"] == 2.0
    assert late["minutes_since_rebuy"] == 117.0


def test_no_rebuy_reads_as_the_cap() -> None:
    s = Session()
    vector, _ = run([s.start(), s.at(30, StackCounted(BUY_IN))])
    assert vector["minutes_since_rebuy"] == MINUTES_CAP


def test_break_restarts_the_clock_and_is_flagged_while_it_lasts() -> None:
    s = Session()
    started = [s.start(), s.at(180, StackCounted(BUY_IN)), s.at(181, BreakStarted())]
    on_break, session = run(started)
    assert on_break["on_break"] == 1.0
    history = PlayerHistory()
    observe(history, session, s.at(201, BreakEnded()))
    after = observe(history, session, s.at(231, StackCounted(BUY_IN)))
    assert after["on_break"] == 0.0
    assert after["hours_since_break"] == 0.5
    assert after["hours_played"] == (231 - 20) / 60


def test_mood_drop_is_measured_from_the_sessions_best() -> None:
    s = Session()
    vector, _ = run([s.start(), s.at(10, MoodReported(5)), s.at(90, MoodReported(2))])
    assert (vector["mood_last"], vector["mood_drop"]) == (2.0, 3.0)


def test_bad_beat_notes_are_counted_by_tag_or_words() -> None:
    s = Session()
    events = [s.start(), s.at(5, NoteAdded("cooler", ["bad_beat"])), s.at(9, NoteAdded("Bad beat on the river"))]
    vector, _ = run([*events, s.at(10, NoteAdded("table is soft"))])
    assert vector["bad_beats_60m"] == 2.0


def test_late_night_follows_the_devices_local_hour() -> None:
    s = Session()
    vector, _ = run([s.start(), s.at(6 * 60 + 30, StackCounted(BUY_IN))])  # 02:30 at UTC−8
    assert vector["late_night"] == 1.0


def test_history_learns_length_stakes_and_result_when_a_session_ends() -> None:
    player = PlayerFeatures()
    s = Session()
    for event in [s.start(big_blind=200), s.at(240, StackCounted(30_000)), s.at(241, SessionEnded(cash_out=30_000))]:
        observe_player(player, event)
    history = player.history
    assert history.sessions == 1
    assert history.usual_big_blind == 200
    assert 4.0 < history.median_hours < 4.1
    assert history.last_result_buyins == -0.4
    assert player.sessions == {}
    nxt = Session()
    vector = observe_player(player, nxt.start(minutes=271, big_blind=500))
    assert vector is not None
    assert vector["stakes_vs_usual"] == 2.5
    assert vector["minutes_since_last_session"] == 30.0
    assert vector["last_session_buyins"] == -0.4


def test_transactions_and_feedback_are_not_play() -> None:
    event = make_event(TransactionRecorded("deposit", 100, "USD"), id=uuid.uuid4(), session_id=None, seq=1, at=T0)
    assert observe_player(PlayerFeatures(), event) is None


def test_state_saved_mid_session_continues_exactly_like_the_original() -> None:
    s = Session()
    events = [s.start(), s.at(15, MoodReported(4)), s.at(20, StackCounted(0)), s.at(21, ChipsAdded(BUY_IN))]
    later = [s.at(50, StackCounted(20_000)), s.at(70, NoteAdded("bad beat")), s.at(90, StackCounted(5_000))]
    player = PlayerFeatures()
    for event in events:
        observe_player(player, event)
    copy = msgspec.json.decode(msgspec.json.encode(player), type=PlayerFeatures)
    assert [observe_player(copy, e) for e in later] == [observe_player(player, e) for e in later]


def test_windows_stay_small_over_a_long_session() -> None:
    s = Session()
    history = PlayerHistory()
    session = new_session(str(s.id))
    observe(history, session, s.start())
    for minute in range(1, 12 * 60, 5):
        observe(history, session, s.at(minute, StackCounted(BUY_IN + minute)))
        observe(history, session, s.at(minute + 1, MoodReported(3)))
    assert len(session.points) <= 2 * 60 // 5 + 2
    assert len(session.state.stack_points) <= 1 and len(session.state.moods) <= 1
    assert len(msgspec.json.encode(session)) < 8_000


def _play(player: PlayerFeatures, start: float, end: float, cash_out: int, *, big_blind: int = 500, **kw: int) -> None:
    """One finished 2/5 session from ``start`` to ``end`` minutes after T0, with an optional mood and busts."""
    s = Session()
    events = [s.start(start, big_blind)]
    for _ in range(kw.get("busts", 0)):
        events += [s.at(start + 1, StackCounted(0)), s.at(start + 2, ChipsAdded(BUY_IN))]
    if "mood" in kw:
        events.append(s.at(end - 1, MoodReported(kw["mood"])))
    events.append(s.at(end, SessionEnded(cash_out=cash_out)))
    for event in events:
        observe_player(player, event)


def test_a_session_sees_the_days_earlier_sessions_results_and_busts() -> None:
    player = PlayerFeatures()
    _play(player, 0, 120, 0, busts=1)  # lost the buy-in and a rebuy, then busted: −2 buy-ins, 2 busts
    _play(player, 150, 240, 30_000, mood=1)  # −0.4 buy-ins, mood at the bottom
    third = Session()
    vector = observe_player(player, third.start(270))
    assert vector is not None
    assert vector["day_sessions"] == 3.0
    assert vector["day_net_buyins"] == -2.4
    assert vector["day_busts"] == 2.0
    assert vector["last_session_mood"] == 1.0
    assert vector["minutes_since_last_session"] == 30.0


def test_a_small_hours_session_belongs_to_the_evening_before_and_the_next_day_starts_fresh() -> None:
    player = PlayerFeatures()
    _play(player, 0, 120, 20_000)  # 20:00–22:00 local
    late = observe_player(player, Session().start(6 * 60 + 30))  # 02:30 the next morning: the same player-day
    assert late is not None and late["day_sessions"] == 2.0 and late["day_net_buyins"] == -0.6
    tomorrow = observe_player(player, Session().start(23 * 60))  # 19:00 the next evening
    assert tomorrow is not None and (tomorrow["day_sessions"], tomorrow["day_net_buyins"]) == (1.0, 0.0)


def test_buy_in_stakes_and_start_hour_are_measured_against_the_players_own_usual() -> None:
    player = PlayerFeatures()
    for day in range(3):
        _play(player, day * DAY_MINUTES, day * DAY_MINUTES + 240, BUY_IN, big_blind=200)  # 20:00 starts at 1/2
    s = Session()
    start = s.at(3 * DAY_MINUTES + 6 * 60 + 30, SessionStarted("cash", "NLH", "USD", 4 * BUY_IN, Stakes(500, 1000)))
    vector = observe_player(player, start)  # 02:30, four times the buy-in, 5× the big blind
    assert vector is not None
    assert vector["buyin_vs_usual"] == 4.0
    assert vector["stakes_vs_usual"] == 5.0
    assert vector["start_hour_gap"] == 6.5
    assert player.history.usual_buy_in == BUY_IN


def test_taps_after_a_session_ended_do_not_open_it_again_and_the_memory_of_ended_sessions_is_bounded() -> None:
    player = PlayerFeatures()
    s = Session()
    for event in [s.start(), s.at(60, SessionEnded(cash_out=BUY_IN))]:
        observe_player(player, event)
    assert observe_player(player, s.at(70, BreakStarted())) is None
    assert player.sessions == {}
    for day in range(1, 60):
        _play(player, day * DAY_MINUTES, day * DAY_MINUTES + 60, BUY_IN)
    assert len(player.ended) == ENDED_KEPT and len(player.history.recent) == 30
    assert len(msgspec.json.encode(player)) < 6_000  # a player's whole feature state, however long their history


def test_a_rebuy_right_after_going_broke_is_measured_from_the_bust() -> None:
    s = Session()
    vector, _ = run([s.start(), s.at(40, StackCounted(0)), s.at(43, ChipsAdded(BUY_IN))])
    assert vector["minutes_bust_to_rebuy"] == 3.0
    s2 = Session()
    top_up, _ = run([s2.start(), s2.at(40, StackCounted(10_000)), s2.at(43, ChipsAdded(BUY_IN, "top_up"))])
    assert top_up["minutes_bust_to_rebuy"] == MINUTES_CAP
