"""The tilt step of the fan-out: every accepted event through features → ONNX model → alert policy.

Per-player engine state lives in Redis between batches (one key per player), so any worker can pick up a
player. The sink is idempotent: the ids of the events a player's state has taken are kept beside it (bounded),
a redelivered event is skipped, and each alert's push job has an id derived from the alert. Alerts are kept in
a short list per user and handed to the push job. A missing or corrupt model makes this sink unavailable (and
/readyz say why) while ingestion and the other sinks go on.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from pathlib import Path
from typing import Any

import anyio.to_thread
import msgspec

from adapters import keys
from adapters.jobs import PUSH_JOB
from adapters.metrics import TILT_ALERTS, TILT_SCORE, Tally
from adapters.outbox import OutboxEntry
from adapters.sessions import stored_events
from shared.amendments import is_amendment
from shared.errors import SinkUnavailable
from shared.events import Event, decode_stored
from shared.tilt_policy import Alert
from workers.push import alert_payload, push_job_id
from workers.sinks import Sink
from workers.tilt.engine import TiltEngine
from workers.tilt.scorer import ModelUnavailable, TiltScorer

log = logging.getLogger(__name__)
ALERTS_KEPT = 100
STATE_TTL_S = 90 * 86400
SEEN_KEPT = 5_000  # event ids remembered per player to skip redeliveries (newest by event time)
_ENC = msgspec.json.Encoder()


class TiltSink(Sink):
    name = "tilt"

    def __init__(self, model_path: Path | None = None) -> None:
        self.model_path = model_path
        self.redis: Any = None  # the worker's queue client, bound at worker start
        self._engine: TiltEngine | None = None

    def bind(self, redis: Any) -> None:
        """Give the sink the worker's Redis (state, alert list, push queue)."""
        self.redis = redis

    def load(self) -> TiltEngine:
        """Load the model (once); a bad model file raises ModelUnavailable naming the path and the reason."""
        if self._engine is None:
            self._engine = TiltEngine(TiltScorer(self.model_path) if self.model_path else TiltScorer())
        return self._engine

    async def start(self) -> None:
        if self.redis is None:
            raise SinkUnavailable("the tilt sink has no Redis yet; the worker binds it at start")
        try:
            await anyio.to_thread.run_sync(self.load)
        except ModelUnavailable as exc:
            raise SinkUnavailable(str(exc)) from exc

    async def ping(self) -> None:
        """Readiness: the model loads (raises ModelUnavailable with the reason otherwise)."""
        await anyio.to_thread.run_sync(self.load)

    async def write(self, entries: list[OutboxEntry]) -> None:
        await self.start()
        engine = self.load()
        by_user: dict[str, dict[str, Event]] = defaultdict(dict)
        for entry in entries:
            for event in entry.events:
                by_user[entry.user_id][str(event.id)] = event
        for user_id, events in by_user.items():
            await self._write_player(engine, user_id, list(events.values()))

    async def _write_player(self, engine: TiltEngine, user_id: str, events: list[Event]) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.get(keys.tilt_state(user_id))
            pipe.zmscore(keys.tilt_seen(user_id), [str(e.id) for e in events])
            pipe.zrange(keys.tilt_seen(user_id), 0, 0, withscores=True)
            pipe.zcard(keys.tilt_seen(user_id))
            raw, scores, oldest, kept = await pipe.execute()
        # A redelivered event must not count twice (rebuys, money, alerts). Past the SEEN_KEPT newest ids, an
        # event older than every id kept is taken as seen: tilt is about the session being played.
        floor = oldest[0][1] if oldest and kept >= SEEN_KEPT else float("-inf")
        fresh = [e for e, score in zip(events, scores, strict=True) if score is None and _ms(e) >= floor]
        if not fresh:
            return
        ordered = sorted(fresh, key=lambda e: e.order_key)
        # A session voided or corrected in these entries is folded again from its events seen so far.
        amended = {str(e.session_id) for e in ordered if is_amendment(e) and e.session_id is not None}
        seen = {sid: await self._seen_events(user_id, sid, fresh, floor) for sid in sorted(amended)}
        risks: list[float] = []
        alerts = await anyio.to_thread.run_sync(self._observe, engine, user_id, raw, ordered, seen, risks)
        tally = Tally()
        for risk in risks:
            tally.observe(TILT_SCORE, risk)
        # Queue pushes before the state is saved: a crash in between redelivers the events, which give the same
        # alerts, whose job ids are already taken.
        for alert in alerts:
            log.info("tilt alert for session %s: %.2f %s", alert.session_id, alert.score, alert.reasons)
            tally.count(TILT_ALERTS, alert.kind)
            payload = _ENC.encode(alert_payload(alert))
            await self.redis.enqueue_job(PUSH_JOB, user_id, payload, _job_id=push_job_id(user_id, alert))
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(keys.tilt_state(user_id), engine.export_player(user_id), ex=STATE_TTL_S)
            pipe.zadd(keys.tilt_seen(user_id), {str(e.id): _ms(e) for e in fresh})
            pipe.zremrangebyrank(keys.tilt_seen(user_id), 0, -SEEN_KEPT - 1)
            pipe.expire(keys.tilt_seen(user_id), STATE_TTL_S)
            for alert in alerts:
                pipe.lpush(keys.alerts(user_id), _ENC.encode(alert))
                pipe.publish(keys.alert_channel(user_id), _ENC.encode(alert))  # live subscribers (GraphQL)
            pipe.ltrim(keys.alerts(user_id), 0, ALERTS_KEPT - 1)
            tally.queue(pipe)  # counted with the state that took the events: a redelivery is not counted again
            await pipe.execute()

    async def _seen_events(self, user_id: str, session_id: str, fresh: list[Event], floor: float) -> list[Event]:
        """The session's stored events the engine has taken in: this delivery's and those it remembers (or that are
        older than all it remembers); events stored since, not delivered yet, must not be counted ahead of time."""
        stored = [decode_stored(raw) for raw in await stored_events(self.redis, user_id, session_id)]
        if not stored:
            return []
        taken = {str(e.id) for e in fresh}
        scores = await self.redis.zmscore(keys.tilt_seen(user_id), [str(e.id) for e in stored])
        return [
            e
            for e, score in zip(stored, scores, strict=True)
            if str(e.id) in taken or score is not None or _ms(e) < floor
        ]

    @staticmethod
    def _observe(
        engine: TiltEngine,
        user_id: str,
        raw: bytes | None,
        events: list[Event],
        amended: dict[str, list[Event]],
        scores: list[float],
    ) -> list[Alert]:
        if raw is not None:
            engine.import_player(user_id, raw)
        alerts = [alert for event in events if (alert := engine.observe(user_id, event, scores)) is not None]
        for session_id, seen in amended.items():
            engine.refold(user_id, session_id, seen)
        return alerts


def _ms(event: Event) -> int:
    return int(event.at.timestamp() * 1000)
