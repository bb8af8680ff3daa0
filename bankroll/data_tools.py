"""CLI tools over data: simulate players (to files or through the real API), train and replay the tilt model."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import httpx
from redis.asyncio import Redis

from api.accounts import Accounts
from shared.events import MAX_BATCH, Event, to_wire
from shared.simulator import simulate_until, to_jsonl


def simulate_to_files(out_dir: Path, players: int, sessions: int, seed: int) -> tuple[Path, Path, int]:
    """Write ``events.jsonl`` and ``labels.jsonl`` (ground truth kept out of the events)."""
    sim = simulate_until(players, sessions, seed, datetime.now(UTC))
    out_dir.mkdir(parents=True, exist_ok=True)
    events, labels = out_dir / "events.jsonl", out_dir / "labels.jsonl"
    events_jsonl, labels_jsonl = to_jsonl(sim)
    events.write_bytes(events_jsonl)
    labels.write_bytes(labels_jsonl)
    return events, labels, len(sim.events)


async def simulate_through_api(redis: Redis, base_url: str, players: int, sessions: int, seed: int) -> dict[str, int]:
    """Create one user per simulated player (`sim-<name>`) and post their events in batches, as a phone would."""
    sim = simulate_until(players, sessions, seed, datetime.now(UTC))
    accounts = Accounts(redis)
    by_player: dict[str, list[Event]] = defaultdict(list)
    for name, event in sim.events:
        by_player[name].append(event)
    totals = {"accepted": 0, "duplicate": 0, "rejected": 0}
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        for name, events in by_player.items():
            user = f"sim-{name}"
            try:
                token = (await accounts.add_user(user)).token
            except Exception:
                token = (await accounts.add_device(await accounts.user_id(user), "simulator")).token
            for start in range(0, len(events), MAX_BATCH):
                batch = [to_wire(e) for e in events[start : start + MAX_BATCH]]
                response = await client.post(
                    "/api/v1/events", json={"events": batch}, headers={"Authorization": f"Bearer {token}"}
                )
                response.raise_for_status()
                body = response.json()
                for key in totals:
                    totals[key] += body[key]
    return totals


def tilt_replay(path: Path, model: Path | None = None) -> list[str]:
    """One JSON line per alert, through exactly the serving path (features, model, policy, per-player history)."""
    from workers.tilt.engine import TiltEngine
    from workers.tilt.scorer import TiltScorer

    engine = TiltEngine(TiltScorer(model) if model else TiltScorer())
    return [json.dumps(alert) for alert in engine.replay(path)]
