"""Tilt engine: features → scorer → alert policy for each event, with per-player state the worker can persist.

The state of one player (feature history, running sessions, policy memory) is one msgspec Struct,
``TrackedPlayer``, so the worker can keep it under one Redis key (``export_player`` / ``import_player``).
``observe`` blocks on the ONNX run: call it through ``anyio.to_thread`` from async code.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec

from shared.amendments import effective, is_amendment
from shared.errors import InvalidEvent
from shared.events import Event, SessionEnded, SessionStarted, TiltFeedback, decode_stored
from shared.figures import hourly_rate
from shared.reducer import played_seconds
from shared.tilt_features import (
    PlayerFeatures,
    PlayerHistory,
    SessionFeatures,
    drop_stale,
    observe_player,
    pause_signals,
    refold,
    session_net,
)
from shared.tilt_policy import Alert, Moment, PlayerPolicy, PolicyConfig, SessionPolicy, Tick, apply_feedback, decide
from workers.tilt.scorer import TiltScorer


class TrackedPlayer(msgspec.Struct, gc=False):
    """Everything the engine keeps about one player."""

    features: PlayerFeatures = msgspec.field(default_factory=PlayerFeatures)
    policy: PlayerPolicy = msgspec.field(default_factory=PlayerPolicy)
    sessions: dict[str, SessionPolicy] = {}


class EngineSnapshot(msgspec.Struct, gc=False):
    players: dict[str, TrackedPlayer] = {}


class _ReplayLine(msgspec.Struct, frozen=True):
    user: str
    event: msgspec.Raw


_PLAYER_DECODER = msgspec.json.Decoder(TrackedPlayer)
_SNAPSHOT_DECODER = msgspec.json.Decoder(EngineSnapshot)
_LINE_DECODER = msgspec.json.Decoder(_ReplayLine)
_KEYS_DECODER = msgspec.json.Decoder(dict[str, msgspec.Raw])
_ENCODER = msgspec.json.Encoder()


def policy_from_card(scorer: TiltScorer) -> PolicyConfig:
    """The policy the model was measured with, threshold included."""
    config = msgspec.convert(scorer.card.policy, PolicyConfig)
    return msgspec.structs.replace(config, threshold=scorer.threshold)


class TiltEngine:
    """Turns each player's events into tilt alerts."""

    def __init__(self, scorer: TiltScorer, config: PolicyConfig | None = None) -> None:
        """Args:
        scorer: the loaded model.
        config: the alert policy; default the one stored in the model card.
        """
        self.scorer = scorer
        self.config = config or policy_from_card(scorer)
        self.players: dict[str, TrackedPlayer] = {}

    def observe(self, user: str, event: Event, scores: list[float] | None = None) -> Alert | None:
        """Take one of ``user``'s events (in order); return the alert to send, if any.

        ``scores``: when given, the risk the model gave the event is appended to it (the worker's metrics).
        """
        player = self.players.get(user)
        if player is None:
            player = self.players[user] = TrackedPlayer()
        if event.session_id is None or is_amendment(event):
            return None  # a void or correction reaches the features through ``correct`` (live) or ``read_replay``
        key = str(event.session_id)
        if isinstance(event.data, TiltFeedback):
            # An answer to a between-sessions push names a session that has ended: it moves the player's threshold
            # and quiets them, but keeps no state for that session.
            session = player.sessions.get(key) or SessionPolicy(key)
            apply_feedback(self.config, player.policy, session, event.data.response, event.at)
            return None
        for stale in drop_stale(player.features, event.at):
            player.sessions.pop(stale, None)
        running = player.features.sessions.get(key)
        history = player.features.history
        if isinstance(event.data, SessionEnded):  # reasons use the baselines from before this session taught them
            history = msgspec.structs.replace(history)
        vector = observe_player(player.features, event)
        running = running or player.features.sessions.get(key)
        if vector is None or running is None:  # nothing to score
            return None
        ended = key not in player.features.sessions
        policy = (
            player.sessions.pop(key, SessionPolicy(key))
            if ended
            else player.sessions.setdefault(key, SessionPolicy(key))
        )
        if running.state.format != "cash":  # a tournament's length and money follow its structure, not the player
            return None
        moment: Moment = "end" if ended else "start" if isinstance(event.data, SessionStarted) else "play"
        # Reasons cost a dozen extra model rows: work them out only for the events that do alert.
        risk = self.scorer.risk(vector)
        if scores is not None:
            scores.append(risk)
        tick = _tick(history, running, event.at, risk, moment)
        if ended:
            tick = msgspec.structs.replace(tick, strong_signals=pause_signals(running, vector))
        alert = decide(self.config, player.policy, policy, tick)
        if alert is None:
            return None
        reasons = self.scorer.score(vector, history, at_start=moment == "start").reasons
        return msgspec.structs.replace(alert, reasons=reasons)

    def refold(self, user: str, session_id: str, events: Iterable[Event]) -> None:
        """Fold a running session's features again from its events after a void or correction, so a voided rebuy
        stops counting in its totals and in its windows (rebuys in the last hour, the net curve) alike.

        Args:
            user: the player.
            session_id: the amended session; nothing happens unless it is running.
            events: the session's events this engine has seen (amendments included, any order, each once).
        """
        player = self.players.get(user)
        running = player.features.sessions.get(session_id) if player is not None else None
        if player is None or running is None:
            return
        counted = effective(sorted(events, key=lambda e: e.order_key))
        player.features.sessions[session_id] = refold(player.features.history, running, counted)

    def export_player(self, user: str) -> bytes:
        """One player's state as JSON bytes (empty state for an unknown player)."""
        return _ENCODER.encode(self.players.get(user) or TrackedPlayer())

    def import_player(self, user: str, raw: bytes) -> None:
        """Load one player's state saved by ``export_player``."""
        self.players[user] = _PLAYER_DECODER.decode(raw)

    def snapshot(self) -> bytes:
        """Every player's state as JSON bytes."""
        return _ENCODER.encode(EngineSnapshot(self.players))

    def restore(self, raw: bytes) -> None:
        """Replace every player's state with a ``snapshot``."""
        self.players = _SNAPSHOT_DECODER.decode(raw).players

    def replay(self, path: Path) -> list[dict[str, Any]]:
        """Feed a file of events through the engine (see ``read_replay`` for the two formats it accepts).

        Earlier sessions of a player in the file are that player's history.

        Returns:
            One ``{"session_id", "at", "score", "reasons"}`` dict per alert (reality checks included when the
            policy asks for them).

        Raises:
            InvalidEvent: a line holds an event that breaks the schema, naming the line.
        """
        alerts: list[dict[str, Any]] = []
        for user, event in read_replay(path):
            alert = self.observe(user, event)
            if alert is not None:
                alerts.append(
                    {
                        "session_id": alert.session_id,
                        "at": alert.at.isoformat(),
                        "score": alert.score,
                        "reasons": alert.reasons,
                    }
                )
        return alerts


EXPORT_USER = "me"


def read_replay(path: Path) -> list[tuple[str, Event]]:
    """The events of a replay file with their players, in the order the engine must see them.

    Two formats, told apart by the first line:

    * the replay contract: ``{"user": name, "event": <wire event>}`` lines in phone order, taken in file order;
    * the app's own ``events.jsonl`` export (``GET /api/v1/export/events.jsonl`` or a backup): one wire event per
      line, all of one player (called ``EXPORT_USER``), in the order the server received them — put back in the
      order the phones made them (``Event.order_key``), as the reducer does.

    Voids and corrections are applied as the reducer applies them (per player and session): a voided event is left
    out, a corrected one comes with its corrected payload, and the amendments themselves are not fed.

    Raises:
        InvalidEvent: a line that is not JSON, mixes the formats or breaks the event schema, starting with
            ``path:line``.
    """
    pairs: list[tuple[str, Event]] = []
    wrapped: bool | None = None
    with path.open("rb") as lines:
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            try:
                keys = _KEYS_DECODER.decode(raw)
                is_wrapped = "event" in keys
                if wrapped is not None and is_wrapped != wrapped:
                    expected = 'a {"user", "event"} line' if wrapped else "a bare event (the export format)"
                    raise InvalidEvent(f"expected {expected} like the first line, found keys {sorted(keys)}")
                wrapped = is_wrapped
                if is_wrapped:
                    line = _LINE_DECODER.decode(raw)
                    pairs.append((line.user, decode_stored(bytes(line.event))))
                else:
                    pairs.append((EXPORT_USER, decode_stored(raw)))
            except (msgspec.DecodeError, InvalidEvent) as exc:
                raise InvalidEvent(f"{path}:{number}: {exc}") from None
    if wrapped is False:
        pairs.sort(key=lambda pair: pair[1].order_key)
    return _counted(pairs)


def _counted(pairs: list[tuple[str, Event]]) -> list[tuple[str, Event]]:
    """The events that count, each once, in the given order (``shared.amendments.effective`` per session)."""
    streams: dict[tuple[str, str], dict[str, Event]] = {}
    for user, event in pairs:
        streams.setdefault((user, str(event.session_id)), {}).setdefault(str(event.id), event)
    counted = {(user, str(e.id)): e for (user, _), events in streams.items() for e in effective(events.values())}
    out: list[tuple[str, Event]] = []
    for user, event in pairs:
        found = counted.pop((user, str(event.id)), None)
        if found is not None:
            out.append((user, found))
    return out


def _tick(history: PlayerHistory, session: SessionFeatures, at: datetime, score: float, moment: Moment) -> Tick:
    state = session.state
    seconds = played_seconds(state, at)
    net = session_net(state)
    baseline = round(history.bb_per_hour * state.big_blind) if history.sessions and state.big_blind else None
    return Tick(
        session_id=state.session_id,
        at=at,
        score=score,
        moment=moment,
        on_break=state.on_break_since is not None,
        played_minutes=seconds / 60,
        net=net,
        currency=state.currency,
        hourly=hourly_rate(net, seconds),
        baseline_hourly=baseline,
    )
