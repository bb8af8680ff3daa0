"""Tilt engine: features → scorer → alert policy for each event, with per-player state the worker can persist.

The state of one player (feature history, running sessions, policy memory) is one msgspec Struct,
``TrackedPlayer``, so the worker can keep it under one Redis key (``export_player`` / ``import_player``).
``observe`` blocks on the ONNX run: call it through ``anyio.to_thread`` from async code.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec

from shared.events import Event, TiltFeedback, decode_stored
from shared.reducer import played_seconds
from shared.tilt_features import PlayerFeatures, SessionFeatures, drop_stale, observe_player, session_net
from shared.tilt_policy import Alert, PlayerPolicy, PolicyConfig, SessionPolicy, Tick, apply_feedback, decide
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

    def observe(self, user: str, event: Event) -> Alert | None:
        """Take one of ``user``'s events (in order); return the alert to send, if any."""
        player = self.players.get(user)
        if player is None:
            player = self.players[user] = TrackedPlayer()
        if event.session_id is None:
            return None
        key = str(event.session_id)
        if isinstance(event.data, TiltFeedback):
            session = player.sessions.setdefault(key, SessionPolicy(key))
            apply_feedback(self.config, player.policy, session, event.data.response, event.at)
            return None
        for stale in drop_stale(player.features, event.at):
            player.sessions.pop(stale, None)
        vector = observe_player(player.features, event)
        running = player.features.sessions.get(key)
        if vector is None or running is None:  # nothing to score, or the session just ended
            player.sessions.pop(key, None)
            return None
        # Reasons cost a dozen extra model rows: work them out only for the events that do alert.
        tick = _tick(player, running, event.at, self.scorer.risk(vector), [])
        alert = decide(self.config, player.policy, player.sessions.setdefault(key, SessionPolicy(key)), tick)
        if alert is None:
            return None
        return msgspec.structs.replace(alert, reasons=self.scorer.score(vector).reasons)

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
        """Feed a ``{"user": name, "event": <wire event>}`` JSONL file through the engine.

        Earlier sessions of a player in the file are that player's history. Lines are taken in file order.

        Returns:
            One ``{"session_id", "at", "score", "reasons"}`` dict per alert (reality checks included when the
            policy asks for them).

        Raises:
            InvalidEvent: a line holds an event that breaks the schema, naming the line.
        """
        alerts: list[dict[str, Any]] = []
        with path.open("rb") as lines:
            for number, raw in enumerate(lines, start=1):
                if not raw.strip():
                    continue
                line = _LINE_DECODER.decode(raw)
                try:
                    event = decode_stored(bytes(line.event))
                except Exception as exc:
                    exc.add_note(f"{path}:{number}")
                    raise
                alert = self.observe(line.user, event)
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


def _tick(player: TrackedPlayer, session: SessionFeatures, at: datetime, score: float, reasons: list[str]) -> Tick:
    state = session.state
    history = player.features.history
    seconds = played_seconds(state, at)
    net = session_net(state)
    baseline = round(history.bb_per_hour * state.big_blind) if history.sessions and state.big_blind else None
    return Tick(
        session_id=state.session_id,
        at=at,
        score=score,
        reasons=reasons,
        on_break=state.on_break_since is not None,
        played_minutes=seconds / 60,
        net=net,
        currency=state.currency,
        hourly=round(net * 3600 / seconds) if seconds >= 60 else None,
        baseline_hourly=baseline,
    )
