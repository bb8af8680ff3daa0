"""Tilt alert policy: when a stream of risk scores becomes a message to the player, and when it stays quiet.

Pure and serializable: ``decide`` and ``apply_feedback`` update msgspec Structs in place (like the reducer), so
the worker can keep them in Redis between events.

* During play, alert only on sustained risk: the score is at or above the threshold now and on ``k`` of the last
  ``n`` scored events, or has stayed there for ``sustained_minutes`` — one noisy event does not alert, unless the
  model is sure (a score at or above ``instant_score``; the score is calibrated, so 0.85 means 85 in 100 such
  moments are tilt, and waiting for a second event would cost the player another 15–30 minutes of play).
* A ``cooldown_minutes`` pause after an alert or after feedback; silence while the player is on a break.
* Feedback: "fine" raises this player's threshold a step (up to ``max_raise``); "break" resets it to a step
  below the model's threshold (not lower than ``max_lower``).
* At a session's **start** one scored event is all there is: a score at or above the threshold alerts at once
  (``start_check``: "third session today, down 2.4 buy-ins today; stakes 4× your usual").
* At a session's **end**, the between-sessions check: a score at or above the threshold *and* at least one strong
  signal (a bust, mood at the bottom or falling, a rebuy in the last hour, a losing day) sends one
  ``pause_suggestion`` before the next session — at most one per player per cooldown.
* Every kind of alert counts in ``PlayerPolicy.alerts`` and the same feedback answers it.
* Optional reality checks every ``reality_check_minutes`` of play — time played, result, hourly against the
  player's own — coming sooner and more insistently as the score rises.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

import msgspec

AlertKind = Literal["break_suggestion", "start_check", "pause_suggestion", "reality_check"]
Moment = Literal["play", "start", "end"]
Level = Literal["info", "nudge", "urge"]


class PolicyConfig(msgspec.Struct, frozen=True, kw_only=True):
    """The knobs; ``threshold`` normally comes from the model card."""

    threshold: float = 0.5
    # At a session's start and end one score decides, on other evidence (the day, the last session, stakes): the
    # model card chooses its own threshold for those moments; None means the same as ``threshold``.
    between_threshold: float | None = None
    instant_score: float | None = 0.85  # a score this high alerts without waiting for a second one (None: never)
    k: int = 2
    n: int = 3
    sustained_minutes: float = 15.0
    cooldown_minutes: float = 45.0
    fine_step: float = 0.05
    max_raise: float = 0.3
    max_lower: float = 0.1
    reality_check_minutes: float | None = None  # None: no reality checks


class PlayerPolicy(msgspec.Struct, gc=False):
    """What the policy remembers about a player across sessions."""

    threshold_offset: float = 0.0
    fine: int = 0
    breaks: int = 0
    alerts: int = 0  # every alert sent, of any kind but reality checks
    pause_quiet_until: datetime | None = None  # no second between-sessions push before this


class SessionPolicy(msgspec.Struct, gc=False):
    """What the policy remembers within one session."""

    session_id: str
    recent: list[float] = []  # the last n scores
    high_since: datetime | None = None
    last_alert_at: datetime | None = None
    quiet_until: datetime | None = None
    last_reality_minutes: float = 0.0


class Tick(msgspec.Struct, frozen=True, kw_only=True):
    """One scored event, with the session figures a reality check shows."""

    session_id: str
    at: datetime
    score: float
    reasons: list[str] = []
    moment: Moment = "play"  # "start": the session.started event; "end": the session.ended event
    strong_signals: int = 0  # at an end: how many strong tilt signals the session ended with
    on_break: bool = False
    played_minutes: float = 0.0
    net: int = 0  # minor units
    currency: str = ""
    hourly: int | None = None  # minor units per hour this session
    baseline_hourly: int | None = None  # the player's own usual hourly, minor units


class RealityCheck(msgspec.Struct, frozen=True):
    played_minutes: int
    net: int
    currency: str
    hourly: int | None
    baseline_hourly: int | None
    level: Level


class Alert(msgspec.Struct, frozen=True):
    session_id: str
    at: datetime
    score: float
    reasons: list[str]
    kind: AlertKind = "break_suggestion"
    reality: RealityCheck | None = None


def threshold_for(config: PolicyConfig, player: PlayerPolicy, moment: Moment = "play") -> float:
    """The player's own threshold for a moment: the model's, moved by their feedback (within 0.05–0.95)."""
    base = config.threshold if moment == "play" or config.between_threshold is None else config.between_threshold
    return min(0.95, max(0.05, base + player.threshold_offset))


def decide(config: PolicyConfig, player: PlayerPolicy, session: SessionPolicy, tick: Tick) -> Alert | None:
    """Take one scored event; return the alert to send now, if any."""
    if tick.moment == "end":
        return _between_sessions(config, player, tick)
    if tick.moment == "start":
        return _at_start(config, player, session, tick)
    if tick.on_break:
        # A break is what we would suggest: forget the streak, say nothing.
        session.recent.clear()
        session.high_since = None
        return None
    threshold = threshold_for(config, player)
    high = tick.score >= threshold
    session.recent = [*session.recent[-(config.n - 1) :], tick.score] if config.n > 1 else [tick.score]
    if not high:
        session.high_since = None
    elif session.high_since is None:
        session.high_since = tick.at
    if session.quiet_until is not None and tick.at < session.quiet_until:
        return None
    if high and _sustained(config, session, tick.at, threshold):
        return _alert(config, player, session, tick, "break_suggestion")
    return _reality_check(config, session, tick, threshold)


def _alert(config: PolicyConfig, player: PlayerPolicy, session: SessionPolicy, tick: Tick, kind: AlertKind) -> Alert:
    player.alerts += 1
    session.last_alert_at = tick.at
    session.quiet_until = tick.at + timedelta(minutes=config.cooldown_minutes)
    session.last_reality_minutes = tick.played_minutes
    return Alert(tick.session_id, tick.at, tick.score, list(tick.reasons), kind)


def _at_start(config: PolicyConfig, player: PlayerPolicy, session: SessionPolicy, tick: Tick) -> Alert | None:
    """A session's first event: the day so far, stakes and the hour are all known, and nothing more will come
    before money is on the table — one high score is enough."""
    session.recent = [tick.score]
    if tick.score < threshold_for(config, player, "start"):
        return None
    session.high_since = tick.at
    return _alert(config, player, session, tick, "start_check")


def _between_sessions(config: PolicyConfig, player: PlayerPolicy, tick: Tick) -> Alert | None:
    """A session just ended: suggest a pause before the next one when the risk is high and a strong signal backs it."""
    if tick.score < threshold_for(config, player, "end") or tick.strong_signals < 1:
        return None
    if player.pause_quiet_until is not None and tick.at < player.pause_quiet_until:
        return None
    player.alerts += 1
    player.pause_quiet_until = tick.at + timedelta(minutes=config.cooldown_minutes)
    return Alert(tick.session_id, tick.at, tick.score, list(tick.reasons), "pause_suggestion")


def apply_feedback(
    config: PolicyConfig, player: PlayerPolicy, session: SessionPolicy, response: Literal["fine", "break"], at: datetime
) -> None:
    """The player answered an alert: "fine" (I am OK) or "break" (I am taking one)."""
    if response == "fine":
        player.fine += 1
        player.threshold_offset = min(config.max_raise, player.threshold_offset + config.fine_step)
    else:
        player.breaks += 1
        player.threshold_offset = max(-config.max_lower, min(0.0, player.threshold_offset) - config.fine_step)
    session.recent.clear()
    session.high_since = None
    session.quiet_until = at + timedelta(minutes=config.cooldown_minutes)
    player.pause_quiet_until = at + timedelta(minutes=config.cooldown_minutes)


def _sustained(config: PolicyConfig, session: SessionPolicy, at: datetime, threshold: float) -> bool:
    if sum(score >= threshold for score in session.recent) >= config.k:
        return True
    if config.instant_score is not None and session.recent:
        # Feedback moves the instant level with the threshold, so "I'm fine" quiets both.
        instant = max(threshold, config.instant_score + threshold - config.threshold)
        if session.recent[-1] >= instant:
            return True
    started = session.high_since
    return started is not None and at - started >= timedelta(minutes=config.sustained_minutes)


def _reality_check(config: PolicyConfig, session: SessionPolicy, tick: Tick, threshold: float) -> Alert | None:
    every = config.reality_check_minutes
    if every is None:
        return None
    level: Level = "urge" if tick.score >= threshold else "nudge" if tick.score >= threshold / 2 else "info"
    interval = every * {"info": 1.0, "nudge": 0.66, "urge": 0.5}[level]
    if tick.played_minutes - session.last_reality_minutes < interval:
        return None
    session.last_reality_minutes = tick.played_minutes
    reality = RealityCheck(
        played_minutes=int(tick.played_minutes),
        net=tick.net,
        currency=tick.currency,
        hourly=tick.hourly,
        baseline_hourly=tick.baseline_hourly,
        level=level,
    )
    return Alert(tick.session_id, tick.at, tick.score, list(tick.reasons), "reality_check", reality)
