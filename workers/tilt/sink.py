"""The tilt step of the fan-out: every accepted event through features → ONNX model → alert policy.

Per-player engine state lives in Redis between batches (one key per player), so any worker can pick up a
player. Alerts are kept in a short list per user and handed to the push job. A missing or corrupt model makes
this sink unavailable (and /readyz say why) while ingestion and the other sinks go on.
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
from adapters.outbox import OutboxEntry
from shared.errors import SinkUnavailable
from shared.events import Event
from shared.tilt_policy import Alert
from workers.push import alert_payload
from workers.sinks import Sink
from workers.tilt.engine import TiltEngine
from workers.tilt.scorer import ModelUnavailable, TiltScorer

log = logging.getLogger(__name__)
ALERTS_KEPT = 100
STATE_TTL_S = 90 * 86400
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
        by_user: dict[str, list[Event]] = defaultdict(list)
        for entry in entries:
            by_user[entry.user_id].extend(entry.events)
        for user_id, events in by_user.items():
            raw = await self.redis.get(keys.tilt_state(user_id))
            ordered = sorted(events, key=lambda e: e.order_key)
            alerts = await anyio.to_thread.run_sync(self._observe, engine, user_id, raw, ordered)
            state = engine.export_player(user_id)
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.set(keys.tilt_state(user_id), state, ex=STATE_TTL_S)
                for alert in alerts:
                    pipe.lpush(keys.alerts(user_id), _ENC.encode(alert))
                pipe.ltrim(keys.alerts(user_id), 0, ALERTS_KEPT - 1)
                await pipe.execute()
            for alert in alerts:
                log.info("tilt alert for session %s: %.2f %s", alert.session_id, alert.score, alert.reasons)
                await self.redis.enqueue_job(PUSH_JOB, user_id, _ENC.encode(alert_payload(alert)))

    @staticmethod
    def _observe(engine: TiltEngine, user_id: str, raw: bytes | None, events: list[Event]) -> list[Alert]:
        if raw is not None:
            engine.import_player(user_id, raw)
        return [alert for event in events if (alert := engine.observe(user_id, event)) is not None]
