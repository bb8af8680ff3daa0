"""Tilt features: one incremental path from a player's events to a fixed vector, the same in training and serving.

Per player a ``PlayerHistory`` (baselines from the last sessions, updated when a session ends) and per session a
``SessionFeatures`` (the reducer's state plus small rolling windows) are updated by ``observe`` one event at a
time. Both are msgspec Structs so the worker can keep them in Redis between events. Work per event is O(1):
the windows only hold the last hour, the history only the last ``HISTORY_SIZE`` sessions.

Money and time come from ``shared.reducer.apply_event`` — the one place that computes a session's money.
"""

from __future__ import annotations

import math
import statistics
from datetime import datetime, timedelta
from typing import Final

import msgspec

from shared import figures
from shared.events import ChipsAdded, Event, MoodReported, NoteAdded, SessionEnded, SessionStarted, StackCounted
from shared.reducer import SessionState, apply_event, played_seconds

FEATURE_NAMES: Final[tuple[str, ...]] = (
    "hours_played",  # at the table, breaks excluded
    "length_vs_median",  # hours played / the player's median session length
    "hours_since_break",  # since the last break ended (or the session started)
    "net_buyins",  # session result in buy-ins (negative: losing)
    "drawdown_buyins",  # below the session's peak, in buy-ins
    "loss_30m_sd",  # lost in the last 30 min, in the player's own 30-minute standard deviations
    "loss_60m_sd",  # lost in the last 60 min, in the player's own one-hour standard deviations
    "loss_60m_buyins",  # lost in the last 60 min, in buy-ins
    "session_z",  # session result against the player's own win rate, in own standard deviations
    "rebuys",  # rebuys and top-ups this session
    "rebuys_60m",  # rebuys and top-ups in the last hour
    "minutes_since_rebuy",  # capped at MINUTES_CAP; the cap when there was none
    "rebuys_vs_typical",  # rebuys this session / the player's typical rebuys per session
    "stakes_vs_usual",  # big blind / the player's usual big blind
    "hour_sin",  # local hour of day on the unit circle
    "hour_cos",
    "late_night",  # 1 between midnight and 6 am local time
    "mood_last",  # last reported mood 1–5 (3 when none yet)
    "mood_drop",  # best mood this session minus the last one
    "bad_beats_60m",  # notes tagged or worded as a bad beat in the last hour
    "minutes_since_last_session",  # from the previous session's end to this one's start, capped at a day
    "last_session_buyins",  # the previous session's result in buy-ins
    "on_break",  # 1 while on a break
    # The player's day: what came before this session (a "day" runs from 6 am to 6 am local time).
    "day_sessions",  # sessions started this day, this one included
    "day_net_buyins",  # the day's earlier sessions' results, each in its own buy-ins
    "day_busts",  # times the stack went to zero in the day's earlier sessions
    "last_session_mood",  # the previous session's last mood 1–5 (3 when none)
    "buyin_vs_usual",  # this session's first buy-in / the player's median first buy-in
    "start_hour_gap",  # hours between this session's local start and the player's usual start (0–12)
    "minutes_bust_to_rebuy",  # how soon the last rebuy followed the stack going to zero; the cap when none did
)
N_FEATURES: Final = len(FEATURE_NAMES)
# Known when a session starts, before any play: the hour, stakes and buy-in, the last session, the day so far.
BEFORE_PLAY: Final = frozenset(
    {
        "stakes_vs_usual",
        "hour_sin",
        "hour_cos",
        "late_night",
        "minutes_since_last_session",
        "last_session_buyins",
        "day_sessions",
        "day_net_buyins",
        "day_busts",
        "last_session_mood",
        "buyin_vs_usual",
        "start_hour_gap",
    }
)
FEATURE_INDEX: Final[dict[str, int]] = {name: i for i, name in enumerate(FEATURE_NAMES)}

HISTORY_SIZE: Final = 30  # sessions kept for the baselines
DAY_STARTS_AT: Final = timedelta(hours=6)  # a session at 02:30 belongs to the evening before
MINUTES_CAP: Final = 240.0
DAY_MINUTES: Final = 24 * 60.0
PRIOR_SD_BB: Final = 80.0  # bb per √hour before a player has history (live NLH; see shared/simulator.py)
PRIOR_WEIGHT: Final = 5.0  # the prior counts as this many sessions
ENDED_KEPT: Final = 8
_WINDOW: Final = timedelta(minutes=60)
_BAD_BEAT_TAGS: Final = frozenset({"bad_beat", "bad-beat", "badbeat", "cooler"})


class SessionSummary(msgspec.Struct, frozen=True, gc=False):
    """What a finished session leaves in the history."""

    hours: float
    big_blind: int
    result_bb: float
    rebuys: int
    buy_in: int = 0
    start_hour: float | None = None  # local hour of day the session started


class PlayerDay(msgspec.Struct, gc=False):
    """The player's current day: how many sessions they started, and how the finished ones went."""

    day: str = ""  # ISO date of the player-day (local time, starting at DAY_STARTS_AT)
    sessions: int = 0
    net_buyins: float = 0.0
    busts: int = 0


class PlayerHistory(msgspec.Struct, gc=False):
    """A player's own baselines, recomputed from the last sessions each time one ends."""

    sessions: int = 0
    recent: list[SessionSummary] = []
    median_hours: float = 4.0
    usual_big_blind: int = 0
    bb_per_hour: float = 0.0
    sd_bb_per_hour: float = PRIOR_SD_BB
    typical_rebuys: float = 0.5
    last_ended_at: datetime | None = None
    last_result_buyins: float = 0.0
    last_mood: int | None = None
    usual_buy_in: int = 0
    usual_start_hour: float | None = None  # circular mean of the recent local start hours
    today: PlayerDay = msgspec.field(default_factory=PlayerDay)


class NetPoint(msgspec.Struct, frozen=True, gc=False):
    at: datetime
    net: int


class SessionFeatures(msgspec.Struct, gc=False):
    """One running session: the reducer's state (with its lists trimmed) and the windows the features need."""

    state: SessionState
    peak_net: int = 0
    points: list[NetPoint] = []  # the last hour of results, plus the point just before it
    rebuy_times: list[datetime] = []  # the last hour
    last_rebuy_at: datetime | None = None
    best_mood: int | None = None
    last_mood: int | None = None
    bad_beat_times: list[datetime] = []  # the last hour
    minutes_since_last_session: float = DAY_MINUTES
    last_session_buyins: float = 0.0
    busts: int = 0  # rebuys after going broke, plus a final bust
    day: str = ""  # the player-day this session belongs to
    day_sessions: int = 1
    day_net_buyins: float = 0.0
    day_busts: int = 0
    last_session_mood: float = 3.0
    start_hour: float | None = None
    start_hour_gap: float = 0.0
    broke_at: datetime | None = None  # when the stack was last counted at zero, until chips come
    bust_to_rebuy: float = MINUTES_CAP


class FeatureVector(msgspec.Struct, frozen=True, gc=False):
    """``FEATURE_NAMES`` values in order."""

    values: tuple[float, ...]

    def __getitem__(self, name: str) -> float:
        return self.values[FEATURE_INDEX[name]]


class PlayerFeatures(msgspec.Struct, gc=False):
    """Everything the features keep for one player: the history and the sessions still running."""

    history: PlayerHistory = msgspec.field(default_factory=PlayerHistory)
    sessions: dict[str, SessionFeatures] = {}
    ended: list[str] = []  # the last ENDED_KEPT sessions that ended: their late events are not a new session


_HISTORY_COPY = msgspec.msgpack.Decoder(PlayerHistory)
_HISTORY_COPY_ENC = msgspec.msgpack.Encoder()


def new_session(session_id: str) -> SessionFeatures:
    """The state of a session before its first event."""
    return SessionFeatures(state=SessionState(session_id=session_id))


def observe_player(player: PlayerFeatures, event: Event) -> FeatureVector | None:
    """Route one event to its session's state and observe it; None for events that say nothing about play.

    A session's state is dropped when it ends (its summary is then in the history); events that still come for it
    (a "taking a break" answer to the between-sessions push, a late tap) are ignored.
    """
    if event.session_id is None or event.type in {"transaction.recorded", "tilt.feedback"}:
        return None
    key = str(event.session_id)
    session = player.sessions.get(key)
    if session is None:
        if key in player.ended:
            return None
        session = player.sessions[key] = new_session(key)
    vector = observe(player.history, session, event)
    if session.state.status == "ended":
        del player.sessions[key]
        player.ended = [*player.ended[-(ENDED_KEPT - 1) :], key]
    return vector


def drop_stale(player: PlayerFeatures, now: datetime, max_age: timedelta = timedelta(hours=24)) -> list[str]:
    """Forget sessions with no event for ``max_age`` (a forgotten timer); returns their ids."""
    stale = [
        key
        for key, session in player.sessions.items()
        if session.state.last_event_at is not None and now - session.state.last_event_at > max_age
    ]
    for key in stale:
        del player.sessions[key]
    return stale


def observe(history: PlayerHistory, session: SessionFeatures, event: Event) -> FeatureVector:
    """Apply one event (in order) to the session's state and return the features right after it.

    When the event ends the session, the features are computed first, then the history learns the session.
    """
    state = session.state
    apply_event(state, event)
    _trim(state)
    at = event.at
    match event.data:
        case SessionStarted():
            _start(history, session, at)
        case ChipsAdded(kind=kind):
            session.rebuy_times.append(at)
            session.last_rebuy_at = at
            session.busts += kind == "rebuy"
            if session.broke_at is not None:
                session.bust_to_rebuy = min(MINUTES_CAP, max(0.0, (at - session.broke_at).total_seconds() / 60))
                session.broke_at = None
        case StackCounted(amount=amount):
            session.broke_at = at if amount == 0 and state.format == "cash" else None
        case NoteAdded(text=text, tags=tags):
            if _BAD_BEAT_TAGS.intersection(tags) or "bad beat" in text.lower():
                session.bad_beat_times.append(at)
        case MoodReported(score=score):
            session.best_mood = score if session.best_mood is None else max(session.best_mood, score)
            session.last_mood = score
        case _:
            pass
    net = session_net(state)
    session.peak_net = max(session.peak_net, net)
    _slide(session, at, net)
    vector = _vector(history, session, at, net)
    if isinstance(event.data, SessionEnded):
        _learn(history, session, at, net)
    return vector


def buy_in_unit(state: SessionState) -> int:
    """The money unit of the 'buy-ins' features: the session's first buy-in, or 100 big blinds."""
    return state.buy_in or 100 * state.big_blind or 1


def _trim(state: SessionState) -> None:
    """The features need only the reducer's totals; keep its growing lists short so the state stays O(1)."""
    if len(state.stack_points) > 1:
        state.stack_points = state.stack_points[-1:]
    if len(state.moods) > 1:
        state.moods = state.moods[-1:]
    if state.notes:
        state.notes = []
    if len(state.tilt_feedback) > 5:
        state.tilt_feedback = state.tilt_feedback[-5:]
    if len(state.breaks) > 5:  # only the last ones can fall after a corrected end
        state.breaks = state.breaks[-5:]


def player_day(at: datetime) -> str:
    """The player-day of a local time: the date, with the hours before DAY_STARTS_AT counted to the day before."""
    return (at - DAY_STARTS_AT).date().isoformat()


def local_hour(at: datetime) -> float:
    """Hour of day on the device's clock (the event keeps the device's offset)."""
    return at.hour + at.minute / 60


def hour_gap(a: float, b: float) -> float:
    """Hours between two hours of day around the clock (0–12)."""
    gap = abs(a - b) % 24
    return min(gap, 24 - gap)


# What a session takes from the player's past at its start (``_start``): kept as it was when the session is folded
# again after a void or correction (``refold``), since the past has moved on since.
START_CONTEXT = (
    "minutes_since_last_session",
    "last_session_buyins",
    "last_session_mood",
    "day",
    "day_sessions",
    "day_net_buyins",
    "day_busts",
    "start_hour",
    "start_hour_gap",
)


def refold(history: PlayerHistory, running: SessionFeatures, counted: list[Event]) -> SessionFeatures:
    """A running session's features folded again from the events that count (voids and corrections applied, in
    order): its totals and its windows (rebuys in the last hour, the net curve, bad beats) as if the amended taps had
    been played so, with what it took from the player's past at its start unchanged. ``history`` is not touched."""
    past = _HISTORY_COPY.decode(_HISTORY_COPY_ENC.encode(history))
    fresh = new_session(running.state.session_id)
    for event in counted:
        observe(past, fresh, event)
    return msgspec.structs.replace(fresh, **{name: getattr(running, name) for name in START_CONTEXT})


def _start(history: PlayerHistory, session: SessionFeatures, at: datetime) -> None:
    """Take what the session needs from the player's past at its start: the last session and the day so far."""
    if history.last_ended_at is not None:
        gap = (at - history.last_ended_at).total_seconds() / 60
        session.minutes_since_last_session = min(DAY_MINUTES, max(0.0, gap))
        session.last_session_buyins = history.last_result_buyins
        session.last_session_mood = float(history.last_mood) if history.last_mood is not None else 3.0
    today = history.today
    day = player_day(at)
    if today.day != day:
        today = history.today = PlayerDay(day)
    today.sessions += 1
    session.day = day
    session.day_sessions = today.sessions
    session.day_net_buyins = today.net_buyins
    session.day_busts = today.busts
    session.start_hour = local_hour(at)
    if history.usual_start_hour is not None:
        session.start_hour_gap = hour_gap(session.start_hour, history.usual_start_hour)
    session.peak_net = session_net(session.state)
    session.points = [NetPoint(at, session.peak_net)]


def session_net(state: SessionState) -> int:
    """The session's result so far in minor units (cash: stack minus everything put in; tournaments: 0)."""
    if state.format != "cash" or state.stack is None:
        return 0
    return figures.profit("cash", invested=state.invested, returned=state.stack, ended=False)


def _slide(session: SessionFeatures, at: datetime, net: int) -> None:
    """Add a point and drop what fell out of the hour, keeping one point before the window as its start value."""
    cutoff = at - _WINDOW
    points = session.points
    points.append(NetPoint(at, net))
    while len(points) > 1 and points[1].at <= cutoff:
        points.pop(0)
    session.rebuy_times = [t for t in session.rebuy_times if t > cutoff]
    session.bad_beat_times = [t for t in session.bad_beat_times if t > cutoff]


def _net_at(session: SessionFeatures, when: datetime) -> int:
    """The result at ``when``: the last point at or before it (the session's start value if none)."""
    value = session.points[0].net if session.points else 0
    for point in session.points:
        if point.at > when:
            break
        value = point.net
    return value


def _vector(history: PlayerHistory, session: SessionFeatures, at: datetime, net: int) -> FeatureVector:
    state = session.state
    unit = buy_in_unit(state)
    big_blind = state.big_blind or 1
    hours = figures.hours(played_seconds(state, at))
    sd = history.sd_bb_per_hour
    loss_30 = max(0, _net_at(session, at - timedelta(minutes=30)) - net)
    loss_60 = max(0, _net_at(session, at - _WINDOW) - net)
    since_break_from = state.last_break_end or state.started_at or at
    on_break = state.on_break_since is not None
    since_rebuy = MINUTES_CAP
    if session.last_rebuy_at is not None:
        since_rebuy = min(MINUTES_CAP, max(0.0, (at - session.last_rebuy_at).total_seconds() / 60))
    local = local_hour(at)
    angle = 2 * math.pi * local / 24
    expected_bb = history.bb_per_hour * hours
    mood_last = session.last_mood if session.last_mood is not None else 3
    best_mood = session.best_mood if session.best_mood is not None else mood_last
    usual_bb = history.usual_big_blind
    usual_buy_in = history.usual_buy_in
    values = (
        hours,
        hours / max(history.median_hours, 0.5),
        0.0 if on_break else max(0.0, figures.hours((at - since_break_from).total_seconds())),
        net / unit,
        (session.peak_net - net) / unit,
        loss_30 / big_blind / (sd * math.sqrt(0.5)),
        loss_60 / big_blind / sd,
        loss_60 / unit,
        (net / big_blind - expected_bb) / (sd * math.sqrt(max(hours, 0.25))),
        float(state.rebuys),
        float(len(session.rebuy_times)),
        since_rebuy,
        state.rebuys / max(history.typical_rebuys, 0.5),
        state.big_blind / usual_bb if usual_bb and state.big_blind else 1.0,
        math.sin(angle),
        math.cos(angle),
        1.0 if local < 6 else 0.0,
        float(mood_last),
        float(best_mood - mood_last),
        float(len(session.bad_beat_times)),
        session.minutes_since_last_session,
        session.last_session_buyins,
        1.0 if on_break else 0.0,
        float(session.day_sessions),
        session.day_net_buyins,
        float(session.day_busts),
        session.last_session_mood,
        state.buy_in / usual_buy_in if usual_buy_in and state.buy_in else 1.0,
        session.start_hour_gap,
        session.bust_to_rebuy,
    )
    return FeatureVector(values)


def _learn(history: PlayerHistory, session: SessionFeatures, at: datetime, net: int) -> None:
    """Fold a finished session into the player's baselines."""
    state = session.state
    history.sessions += 1
    history.last_ended_at = state.ended_at or at
    history.last_result_buyins = net / buy_in_unit(state)
    history.last_mood = session.last_mood
    busted = state.format == "cash" and state.stack == 0
    if history.today.day == session.day:
        history.today.net_buyins += history.last_result_buyins
        history.today.busts += session.busts + busted
    hours = figures.hours(played_seconds(state, at))
    if state.format != "cash" or state.big_blind <= 0 or hours < 0.05:
        return
    summary = SessionSummary(
        hours, state.big_blind, net / state.big_blind, state.rebuys, state.buy_in, session.start_hour
    )
    history.recent = [*history.recent[-(HISTORY_SIZE - 1) :], summary]
    recent = history.recent
    history.median_hours = statistics.median(s.hours for s in recent)
    history.usual_big_blind = int(statistics.median_low(s.big_blind for s in recent))
    history.usual_buy_in = int(statistics.median_low(s.buy_in for s in recent))
    history.usual_start_hour = _mean_hour([s.start_hour for s in recent if s.start_hour is not None])
    total_hours = sum(s.hours for s in recent)
    history.bb_per_hour = sum(s.result_bb for s in recent) / total_hours
    # Each session's deviation from the player's rate, scaled to one hour, estimates the per-hour variance;
    # the prior keeps a new player's SD sane.
    squares = sum((s.result_bb - history.bb_per_hour * s.hours) ** 2 / s.hours for s in recent)
    history.sd_bb_per_hour = math.sqrt((PRIOR_WEIGHT * PRIOR_SD_BB**2 + squares) / (PRIOR_WEIGHT + len(recent)))
    history.typical_rebuys = sum(s.rebuys for s in recent) / len(recent)


def _mean_hour(hours: list[float]) -> float | None:
    """The circular mean of hours of day (23:00 and 01:00 average to midnight, not noon)."""
    if not hours:
        return None
    angles = [2 * math.pi * h / 24 for h in hours]
    mean = math.atan2(sum(map(math.sin, angles)), sum(map(math.cos, angles)))
    return (mean * 24 / (2 * math.pi)) % 24


def pause_signals(session: SessionFeatures, vector: FeatureVector) -> int:
    """How many strong tilt signals a session ends with: a bust, mood at the bottom or falling, a rebuy in the last
    hour, a losing day (this session and the day's earlier ones down 1.5 buy-ins or more)."""
    busted = session.state.format == "cash" and session.state.stack == 0
    low_mood = session.last_mood is not None and (vector["mood_last"] <= 2 or vector["mood_drop"] >= 2)
    losing_day = vector["day_net_buyins"] + vector["net_buyins"] <= -1.5
    return int(busted) + int(low_mood) + int(vector["rebuys_60m"] >= 1) + int(losing_day)
