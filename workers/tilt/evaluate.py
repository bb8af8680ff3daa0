"""Judging a tilt detector by episodes: caught or missed, how late, and how many alarms it raised in calm play.

The ground truth is a labels file kept apart from the events (the simulator's, or the hand-scripted scenario set
in ``tests/tilt_scenarios``): one ``{"kind": "session", "session_id", "user", "tilt_started_at", ...}`` line per
session, ``tilt_started_at`` null for a calm session. An episode runs from its onset (which may come before its
session starts: a revenge session's tilt starts with the bust that ended the previous one) to the end of its
session. An alert of that player inside the window catches the episode; its delay is counted from the onset.
Every other alert — in a calm session, or in a tilt session *before* the onset — is a false alarm.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final

import msgspec
import numpy as np

from shared.events import Event
from shared.tilt_features import PlayerFeatures, observe_player


class SessionLabel(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=False):
    """One session's ground truth (extra fields — persona, archetype, reasons — are the writer's business)."""

    kind: str
    session_id: str = ""
    user: str = ""
    tilt_started_at: datetime | None = None
    archetype: str = ""  # the scripted scenarios name theirs


class Episode(msgspec.Struct, frozen=True):
    user: str
    session_id: str
    onset: datetime
    until: datetime
    archetype: str = ""


class AlertAt(msgspec.Struct, frozen=True):
    user: str
    session_id: str
    at: datetime
    kind: str = ""  # the policy's alert kind; "" for a rule
    reasons: list[str] = []


class EpisodeMetrics(msgspec.Struct, frozen=True, kw_only=True):
    """How a detector did on a set of players, counted by episodes."""

    episodes: int
    caught: int
    recall: float
    calm_sessions: int
    false_alarms: int  # alerts outside every episode window, before onsets included
    false_alarms_per_calm_session: float
    median_delay_minutes: float | None  # from the onset to the first alert inside the window
    p90_delay_minutes: float | None


_LABEL: Final = msgspec.json.Decoder(SessionLabel)


def read_labels(path: Path) -> list[SessionLabel]:
    """The session lines of a labels file (event lines are skipped)."""
    labels = []
    for raw in path.read_bytes().splitlines():
        if raw.strip() and b'"session"' in raw:
            label = _LABEL.decode(raw)
            if label.kind == "session":
                labels.append(label)
    return labels


@dataclass(slots=True)
class Truth:
    """Episodes and calm sessions of a set of players, with the session ends the windows need."""

    episodes: list[Episode]
    calm_sessions: set[str]


def truth(labels: Iterable[SessionLabel], events: Iterable[tuple[str, Event]]) -> Truth:
    """Episode windows from the labels and the events (a session's window ends with its last event)."""
    last: dict[str, datetime] = {}
    for _, event in events:
        if event.session_id is not None:
            key = str(event.session_id)
            last[key] = max(last.get(key, event.at), event.at)
    episodes: list[Episode] = []
    calm: set[str] = set()
    for label in labels:
        if label.session_id not in last:
            continue
        if label.tilt_started_at is None:
            calm.add(label.session_id)
        else:
            until = last[label.session_id]
            episodes.append(Episode(label.user, label.session_id, label.tilt_started_at, until, label.archetype))
    return Truth(episodes, calm)


def first_alerts(ground: Truth, alerts: Iterable[AlertAt]) -> tuple[dict[Episode, AlertAt], int]:
    """Each caught episode's first alert inside its window, and the number of false alarms."""
    by_user: dict[str, list[Episode]] = {}
    for episode in ground.episodes:
        by_user.setdefault(episode.user, []).append(episode)
    first: dict[Episode, AlertAt] = {}
    false_alarms = 0
    for alert in alerts:
        hits = [e for e in by_user.get(alert.user, []) if e.onset <= alert.at <= e.until]
        if not hits:
            false_alarms += 1
        for episode in hits:
            if episode not in first or alert.at < first[episode].at:
                first[episode] = alert
    return first, false_alarms


class EpisodeResult(msgspec.Struct, frozen=True, kw_only=True):
    """One episode of a set, as a detector met it."""

    archetype: str
    user: str
    onset: datetime
    kind: str | None  # the first alert's kind; None when missed
    delay_minutes: float | None
    reasons: list[str]


def episode_results(ground: Truth, alerts: Iterable[AlertAt]) -> list[EpisodeResult]:
    """Every episode with its first alert (or None), in onset order."""
    first, _ = first_alerts(ground, alerts)
    results = []
    for episode in sorted(ground.episodes, key=lambda e: e.onset):
        alert = first.get(episode)
        results.append(
            EpisodeResult(
                archetype=episode.archetype,
                user=episode.user,
                onset=episode.onset,
                kind=alert.kind if alert else None,
                delay_minutes=round((alert.at - episode.onset).total_seconds() / 60, 1) if alert else None,
                reasons=list(alert.reasons) if alert else [],
            )
        )
    return results


def judge(ground: Truth, alerts: Iterable[AlertAt]) -> EpisodeMetrics:
    """Count caught episodes, delays and false alarms."""
    first, false_alarms = first_alerts(ground, alerts)
    delays = [(alert.at - episode.onset).total_seconds() / 60 for episode, alert in first.items()]
    n_calm = len(ground.calm_sessions)
    return EpisodeMetrics(
        episodes=len(ground.episodes),
        caught=len(first),
        recall=round(len(first) / max(1, len(ground.episodes)), 4),
        calm_sessions=n_calm,
        false_alarms=false_alarms,
        false_alarms_per_calm_session=round(false_alarms / max(1, n_calm), 4),
        median_delay_minutes=round(statistics.median(delays), 1) if delays else None,
        p90_delay_minutes=round(float(np.percentile(delays, 90)), 1) if delays else None,
    )


def stop_loss_alerts(events: Iterable[tuple[str, Event]], buyins: float) -> list[AlertAt]:
    """The plain rule: alert when a session is down ``buyins`` buy-ins or more (once per crossing)."""
    players: dict[str, PlayerFeatures] = {}
    below: set[str] = set()
    alerts: list[AlertAt] = []
    for user, event in events:
        vector = observe_player(players.setdefault(user, PlayerFeatures()), event)
        if vector is None or event.type == "session.ended":
            continue
        key = str(event.session_id)
        if -vector["net_buyins"] >= buyins:
            if key not in below:
                alerts.append(AlertAt(user, key, event.at))
                below.add(key)
        else:
            below.discard(key)
    return alerts
