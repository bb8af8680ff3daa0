"""Simulated live cash-game players, with tilt episodes whose ground truth is kept apart from the events.

Each player has a persona; each session is a Markov chain over behaviours — start, play a stretch and count the
stack, rebuy or top up, take a break, write a note, report a mood, end — whose transition probabilities depend
on a hidden *tilt* state. Tilt is switched on by triggers (big losses, bad beats, long sessions, late hours) and
changes behaviour: faster rebuys, bigger swings and a worse win rate, skipped breaks, falling mood, longer
sessions. Tilt also starts *between* sessions: after a session ended on tilt, in a bust or on a losing day, a
player may sit down again the same day already tilted — a revenge session minutes after a bust, moving up in
stakes and buy-in to win it back, a restart in the small hours (``Simulation.patterns`` names which). Calm
same-day second sessions happen too.

Money follows published live no-limit hold'em figures, per hour and in big blinds (bb):

* Standard deviation. Tracking sites quote 60–80 bb/100 hands for full-ring NLH and 75–120 bb/100 for 6-max
  (pokerdope.com variance calculator, http://pokerdope.com/poker-variance-calculator/; shadepoker.com glossary,
  https://shadepoker.com/en/glossary/standard-deviation). Live games deal about 30 hands an hour, but play
  deeper and looser than online full ring, and the per-hour figure live players quote is about 60–100 bb/hour;
  personas here use 65–95 bb/hour, more when tilted.
* Win rate. A good live player is commonly said to win 5–15 bb/hour; recreational players lose. Personas use
  +8 bb/hour (grinder) down to −12 bb/hour (recreational), and −45 bb/hour while tilted.
* Stakes. 1/2, 2/5 and 5/10 NLH with the usual 100–150 bb / 100–200 bb buy-ins.

Everything is deterministic given the seed: one ``random.Random`` drives every draw, including event ids.
"""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Final

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
    encode_event,
    make_event,
    millis,
)


class Persona(msgspec.Struct, frozen=True):
    """How a kind of player plays when calm, and how easily tilt takes hold of them."""

    name: str
    win_rate_bb: float  # calm win rate, bb per hour
    sd_bb: float  # standard deviation of results, bb per √hour
    susceptibility: float  # multiplier on the per-stretch tilt hazard
    recovery: float  # chance per stretch that a tilt episode ends on its own
    median_hours: float  # usual session length
    break_every_hours: float  # a calm break after about this much play
    stop_loss_buyins: float  # a calm player stops rebuying once down this much
    rebuy_p: float  # chance a calm player rebuys after busting
    chase_p: float  # chance a session ended on tilt is followed the same day by a tilted restart (less after a bust)
    stakes: tuple[int, ...]  # indices into STAKES this player usually plays
    start_hour: float  # usual local start hour
    mood_p: float  # chance per stretch of reporting a mood


STAKES: Final[tuple[tuple[int, int], ...]] = ((100, 200), (200, 500), (500, 1000))  # cents: 1/2, 2/5, 5/10
PERSONAS: Final[dict[str, Persona]] = {
    "grinder": Persona("grinder", 8.0, 70.0, 0.25, 0.35, 6.0, 2.0, 3.0, 0.5, 0.0, (1, 2), 15.0, 0.25),
    "recreational": Persona("recreational", -12.0, 85.0, 0.8, 0.2, 3.5, 2.5, 2.5, 0.7, 0.1, (0, 1), 20.0, 0.3),
    "tilt_prone": Persona("tilt_prone", -3.0, 90.0, 1.8, 0.12, 4.5, 2.5, 3.0, 0.7, 0.35, (0, 1), 19.0, 0.35),
    "chaser": Persona("chaser", -6.0, 95.0, 1.5, 0.1, 5.0, 3.0, 4.0, 0.9, 0.7, (0, 1), 21.0, 0.3),
}
_PERSONA_NAMES: Final = ("grinder", "recreational", "tilt_prone", "chaser")
_PERSONA_WEIGHTS: Final = (0.3, 0.35, 0.2, 0.15)
_OFFSETS: Final = ((-8, "USD"), (-7, "USD"), (-5, "USD"), (0, "GBP"), (1, "EUR"), (2, "EUR"))
_LOCATIONS: Final = ("Bellagio", "Commerce", "Aria", "Hippodrome", "Casino Wien", "Rozvadov", "Home game")
_CALM_NOTES: Final = ("table is soft", "new player in seat 3, loose", "changed seats", "tight table", "nice pot")
_TILT_NOTES: Final = ("unbelievable river again", "this guy never folds", "card dead for hours", "rigged")
TILTED_WIN_RATE_BB: Final = -45.0
TILTED_SD_FACTOR: Final = 1.5


@dataclass(slots=True)
class Simulation:
    """Events (each with its player's name) in sending order, and the ground truth kept apart from them."""

    events: list[tuple[str, Event]] = field(default_factory=list)
    labels: dict[uuid.UUID, bool] = field(default_factory=dict)  # event id → the player was tilted
    episodes: dict[uuid.UUID, datetime | None] = field(default_factory=dict)  # session id → first tilt start
    personas: dict[str, str] = field(default_factory=dict)  # player name → persona name
    patterns: dict[uuid.UUID, str] = field(default_factory=dict)  # session id → the between-sessions tilt it began in


@dataclass(slots=True)
class SessionLog:
    """One session's events as a phone numbers them: ``seq`` from 1, times in milliseconds, one device.

    The simulator, the hand-written tilt scenarios (``tests/tilt_scenarios``) and the feature tests build sessions
    with it, so an event is put together in one way.
    """

    session_id: uuid.UUID
    device: str = "sim"
    events: list[Event] = field(default_factory=list)

    def add(self, data: Payload, at: datetime, event_id: uuid.UUID | None = None) -> Event:
        """Append the next event (a random id unless one is given) and return it."""
        event = make_event(
            data,
            id=event_id or uuid.uuid4(),
            session_id=self.session_id,
            seq=len(self.events) + 1,
            at=millis(at),
            device=self.device,
        )
        self.events.append(event)
        return event


@dataclass(slots=True)
class _Player:
    name: str
    persona: Persona
    tz: timezone
    currency: str
    location: str


@dataclass(slots=True)
class _Table:
    """The moving parts of one session while it is being simulated."""

    player: _Player
    session_id: uuid.UUID
    big_blind: int
    buy_in: int
    now: datetime
    started: datetime
    tilted: bool
    stack: int = 0
    invested: int = 0
    played_h: float = 0.0
    since_break_h: float = 0.0
    tilt_started: datetime | None = None
    mood: float = 4.0
    out: list[tuple[Event, bool]] = field(default_factory=list)
    log: SessionLog = field(init=False)

    def __post_init__(self) -> None:
        self.log = SessionLog(self.session_id)


def simulate(players: int, sessions_per_player: int, seed: int, start: datetime) -> Simulation:
    """Simulate ``players`` players playing ``sessions_per_player`` sessions each (plus same-day restarts).

    Args:
        players: how many players; personas are drawn with fixed weights.
        sessions_per_player: planned sessions per player; same-day restarts come on top.
        seed: everything, including event ids, follows from it.
        start: aware datetime; the first sessions start within a few days of it.

    Returns:
        The events of all players merged in time order (the order phones would send them) and the labels.
    """
    if start.tzinfo is None:
        raise ValueError(f"start {start.isoformat()} must be an aware datetime")
    rng = random.Random(seed)
    sim = Simulation()
    per_player: list[list[tuple[str, Event]]] = []
    for index in range(players):
        persona = PERSONAS[rng.choices(_PERSONA_NAMES, _PERSONA_WEIGHTS)[0]]
        hours, currency = rng.choice(_OFFSETS)
        player = _Player(
            f"{persona.name}-{index:03d}", persona, timezone(timedelta(hours=hours)), currency, rng.choice(_LOCATIONS)
        )
        sim.personas[player.name] = persona.name
        per_player.append(_play_career(rng, player, sessions_per_player, start, sim))
    merged = [(name, event) for events in per_player for name, event in events]
    merged.sort(key=lambda pair: (pair[1].at, pair[0], pair[1].seq))
    sim.events = merged
    return sim


def simulate_until(players: int, sessions_per_player: int, seed: int, now: datetime) -> Simulation:
    """A history that has already happened: it starts about three days per session before ``now`` and, when its
    random gaps would carry it past ``now``, starts that many whole days earlier, so no event is in the future
    (the server refuses those). Whole days keep every local hour, so the ground truth stays the same.

    Args:
        players: how many players.
        sessions_per_player: planned sessions per player.
        seed: everything follows from it, as in ``simulate``.
        now: aware datetime; no event is after it.
    """
    start = now - timedelta(days=sessions_per_player * 3)
    history = simulate(players, sessions_per_player, seed, start)
    last = max((event.at for _, event in history.events), default=now)
    if last <= now:
        return history
    days = math.ceil((last - now) / timedelta(days=1))
    return simulate(players, sessions_per_player, seed, start - timedelta(days=days))


def _play_career(
    rng: random.Random, player: _Player, sessions: int, start: datetime, sim: Simulation
) -> list[tuple[str, Event]]:
    events: list[tuple[str, Event]] = []
    day = start.astimezone(player.tz) + timedelta(days=rng.uniform(0, 3))
    for _ in range(sessions):
        hour = (player.persona.start_hour + rng.gauss(0, 2.0)) % 24
        begin = day.replace(hour=int(hour), minute=rng.randrange(60), second=rng.randrange(60), microsecond=0)
        level = rng.choice(player.persona.stakes)
        plan: _Restart | None = _Restart(begin, level, 1.0, None)
        day_buyins = 0.0
        while plan is not None:  # the planned session, then any same-day restarts (extra, not planned ones)
            table = _play_session(rng, player, plan)
            sim.episodes[table.session_id] = table.tilt_started
            if plan.pattern is not None:
                sim.patterns[table.session_id] = plan.pattern
            for event, tilted in table.out:
                sim.labels[event.id] = tilted
                events.append((player.name, event))
            day_buyins += (table.stack - table.invested) / table.buy_in
            plan = _restart(rng, player, table, level=plan.level, day_buyins=day_buyins)
        day = max(day, table.now) + timedelta(days=rng.uniform(1, 4))
    return events


@dataclass(slots=True, frozen=True)
class _Restart:
    """The next session of the same day: when, at which stakes, how big a buy-in, and whether it starts tilted."""

    begin: datetime
    level: int
    buy_in_factor: float
    pattern: str | None  # the between-sessions tilt it starts with, None when calm


def _restart(rng: random.Random, player: _Player, table: _Table, *, level: int, day_buyins: float) -> _Restart | None:
    """Whether the player sits down again the same day, and in what state.

    Between-sessions tilt: a session that ended on tilt, in a bust or a losing day makes a same-day restart likely
    — a revenge session soon after a bust, moving up to win it back, a late-night restart. Calm restarts (a second
    session after a good or quiet one) happen too, so "another session today" alone is not tilt.
    """
    persona = player.persona
    busted = table.stack == 0
    losing_day = day_buyins <= -1.5
    ended = table.now.astimezone(player.tz)
    if table.tilted or busted or losing_day:
        if rng.random() >= persona.chase_p * (1.0 if table.tilted else 0.6):
            return None
        move_up = rng.random() < 0.5
        factor = rng.uniform(1.0, 2.0) if move_up else 1.0
        level = min(level + move_up, len(STAKES) - 1)
        if busted and rng.random() < 0.7:
            return _Restart(table.now + timedelta(minutes=rng.uniform(5, 30)), level, factor, "revenge_after_bust")
        if (ended.hour >= 20 or ended.hour < 3) and rng.random() < 0.5:  # home, cannot sleep, back in the small hours
            night = (ended + timedelta(hours=6)).replace(hour=0, minute=30) + timedelta(minutes=rng.uniform(0, 180))
            return _Restart(max(night, table.now + timedelta(minutes=20)), level, factor, "late_night_restart")
        gap = timedelta(minutes=rng.uniform(15, 240))
        return _Restart(table.now + gap, level, factor, "moving_up" if move_up else "losing_day_restart")
    if day_buyins >= -1.0 and rng.random() < 0.12 and ended.hour < 22:
        return _Restart(table.now + timedelta(minutes=rng.uniform(15, 240)), level, 1.0, None)
    return None


def _play_session(rng: random.Random, player: _Player, plan: _Restart) -> _Table:
    small, big = STAKES[plan.level]
    buy_in = _round_money(big * rng.uniform(100, 150 if plan.level == 0 else 200) * plan.buy_in_factor, big)
    begin, tilted = plan.begin, plan.pattern is not None
    table = _Table(player, _uuid(rng), big, buy_in, begin, begin, tilted)
    if tilted:
        table.tilt_started, table.mood = begin, 2.0
    table.stack, table.invested = buy_in, buy_in
    stakes = Stakes(small_blind=small, big_blind=big)
    _emit(rng, table, SessionStarted("cash", "NLH", player.currency, buy_in, stakes, player.location))
    while not _stretch(rng, table):
        pass
    table.now += timedelta(minutes=rng.uniform(1, 4))
    _emit(rng, table, SessionEnded(cash_out=table.stack))
    return table


def _stretch(rng: random.Random, table: _Table) -> bool:
    """Play 15–40 minutes and log what a phone would log; True when the player gets up for good."""
    persona = table.player.persona
    minutes = rng.uniform(15, 40)
    hours = minutes / 60
    table.now += timedelta(minutes=minutes)
    table.played_h += hours
    table.since_break_h += hours
    rate = TILTED_WIN_RATE_BB if table.tilted else persona.win_rate_bb
    sd = persona.sd_bb * (TILTED_SD_FACTOR if table.tilted else 1.0)
    result = round(rng.gauss(rate * hours, sd * math.sqrt(hours)) * table.big_blind)
    before = table.stack
    table.stack = max(0, table.stack + result)
    lost = before - table.stack
    bad_beat = lost >= 0.6 * table.buy_in and rng.random() < 0.6
    if rng.random() < (0.55 if table.tilted else 0.85) or table.stack == 0:
        _emit(rng, table, StackCounted(table.stack))
    if bad_beat:
        _emit(rng, table, NoteAdded("bad beat, " + rng.choice(_TILT_NOTES), ["bad_beat"]))
    _maybe_tilt(rng, table, bad_beat)
    _mood(rng, table)
    if table.stack == 0 and not _rebuy(rng, table):
        return True
    if table.stack < table.buy_in // 2 and rng.random() < (0.6 if table.tilted else 0.25):
        table.now += timedelta(minutes=rng.uniform(0.5, 3))
        _add_chips(rng, table, table.buy_in - table.stack, "top_up")
    if _wants_to_leave(rng, table):
        return True
    _maybe_break(rng, table)
    if rng.random() < 0.06:
        _emit(rng, table, NoteAdded(rng.choice(_TILT_NOTES if table.tilted else _CALM_NOTES)))
    return False


def _maybe_tilt(rng: random.Random, table: _Table, bad_beat: bool) -> None:
    persona = table.player.persona
    if table.tilted:
        if rng.random() < persona.recovery and table.stack > 0:
            table.tilted = False
        return
    net_buyins = (table.stack - table.invested) / table.buy_in
    hazard = 0.01 + 0.3 * bad_beat + 0.07 * max(0.0, -net_buyins - 0.5) + 0.05 * (table.played_h > 5)
    hazard += 0.05 * (table.now.hour < 6)
    if rng.random() < min(0.9, hazard * persona.susceptibility):
        table.tilted = True
        table.tilt_started = table.tilt_started or table.now + timedelta(seconds=1)
        table.now += timedelta(seconds=1)  # the episode starts with the next thing the player does


def _mood(rng: random.Random, table: _Table) -> None:
    net_buyins = (table.stack - table.invested) / table.buy_in
    target = 1.5 if table.tilted else min(5.0, max(2.0, 4.0 + 0.6 * net_buyins))
    table.mood += 0.6 * (target - table.mood)
    if rng.random() < table.player.persona.mood_p:
        table.now += timedelta(seconds=rng.randrange(5, 60))
        _emit(rng, table, MoodReported(min(5, max(1, round(table.mood + rng.gauss(0, 0.5))))))


def _rebuy(rng: random.Random, table: _Table) -> bool:
    """After busting: rebuy (True) or go home (False)."""
    persona = table.player.persona
    down = (table.invested - table.stack) / table.buy_in
    if table.tilted:
        if rng.random() > 0.95:
            return False
        table.now += timedelta(minutes=rng.uniform(0.5, 4))
        amount = table.buy_in if rng.random() < 0.5 else _round_money(table.buy_in * 1.5, table.big_blind)
    else:
        if down >= persona.stop_loss_buyins or rng.random() > persona.rebuy_p:
            return False
        table.now += timedelta(minutes=rng.uniform(4, 20))
        amount = table.buy_in
    _add_chips(rng, table, amount, "rebuy")
    return True


def _wants_to_leave(rng: random.Random, table: _Table) -> bool:
    persona = table.player.persona
    if table.played_h > 14:
        return True
    if table.tilted:
        return rng.random() < 0.03
    over = table.played_h / persona.median_hours
    return rng.random() < min(0.9, 0.02 + 0.5 * max(0.0, over - 0.8) ** 2)


def _maybe_break(rng: random.Random, table: _Table) -> None:
    persona = table.player.persona
    due = table.since_break_h >= persona.break_every_hours * rng.uniform(0.8, 1.2)
    if not due or (table.tilted and rng.random() < 0.9):
        return
    _emit(rng, table, BreakStarted())
    table.now += timedelta(minutes=rng.uniform(8, 25))
    table.since_break_h = 0.0
    if table.tilted and rng.random() < 0.4:
        table.tilted = False  # a real break is the classic cure
    _emit(rng, table, BreakEnded())


def _add_chips(rng: random.Random, table: _Table, amount: int, kind: str) -> None:
    table.stack += amount
    table.invested += amount
    _emit(rng, table, ChipsAdded(amount, "rebuy" if kind == "rebuy" else "top_up"))


def _emit(rng: random.Random, table: _Table, data: Payload) -> None:
    table.now += timedelta(seconds=rng.randrange(1, 30))
    table.out.append((table.log.add(data, table.now, _uuid(rng)), table.tilted))


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _round_money(amount: float, big_blind: int) -> int:
    """Buy-ins come in round numbers: whole multiples of ten big blinds."""
    step = big_blind * 10
    return max(step, round(amount / step) * step)


class _LabelLine(msgspec.Struct, frozen=True, tag_field="kind", tag="event"):
    event_id: uuid.UUID
    tilted: bool


class _EpisodeLine(msgspec.Struct, frozen=True, tag_field="kind", tag="session"):
    session_id: uuid.UUID
    user: str
    persona: str
    tilt_started_at: datetime | None
    # "within" (tilt began during the session) or the between-sessions pattern it started with:
    # revenge_after_bust, late_night_restart, moving_up, losing_day_restart; None for a calm session.
    pattern: str | None = None


def to_jsonl(sim: Simulation) -> tuple[bytes, bytes]:
    """The events as ``{"user": name, "event": <wire event>}`` lines, and the ground truth as a file of its own.

    The labels file has one ``{"kind": "event", "event_id", "tilted"}`` line per event, then one
    ``{"kind": "session", "session_id", "user", "persona", "tilt_started_at", "pattern"}`` line per session.
    """
    encoder = msgspec.json.Encoder()
    owners: dict[uuid.UUID, str] = {}
    events: list[bytes] = []
    for name, event in sim.events:
        events.append(b'{"user":' + encoder.encode(name) + b',"event":' + encode_event(event) + b"}\n")
        if event.session_id is not None:
            owners.setdefault(event.session_id, name)
    labels = [encoder.encode(_LabelLine(event.id, sim.labels[event.id])) + b"\n" for _, event in sim.events]
    for session_id, started in sim.episodes.items():
        user = owners.get(session_id, "")
        pattern = sim.patterns.get(session_id, "within" if started is not None else None)
        line = _EpisodeLine(session_id, user, sim.personas.get(user, ""), started, pattern)
        labels.append(encoder.encode(line) + b"\n")
    return b"".join(events), b"".join(labels)
