"""Realistic traffic for locust: players syncing 20–100-event batches, reading live state, holding SSE streams.

Run against a server you started (never a remote address):

    .venv/bin/bankroll user add load1 | tail -1 >> var/tokens.txt     # one line per simulated phone
    TOKENS_FILE=var/tokens.txt .venv/bin/locust -f loadtests/locustfile.py --headless \\
        -H http://127.0.0.1:8000 -u 20 -r 5 -t 60s
"""

from __future__ import annotations

import itertools
import os
import random
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from locust import FastHttpUser, between, task

_TOKENS = itertools.cycle(Path(os.environ.get("TOKENS_FILE", "var/tokens.txt")).read_text().split())


class Phone(FastHttpUser):
    """One player's phone: plays sessions, syncs in batches, watches the live screen."""

    wait_time = between(0.5, 3)

    def on_start(self) -> None:
        self.token = next(_TOKENS)
        self.headers = {"Authorization": f"Bearer {self.token}", "content-type": "application/json"}
        self.new_session()

    def new_session(self) -> None:
        self.session_id = str(uuid.uuid4())
        self.seq = 0
        self.clock = datetime.now(UTC) - timedelta(hours=8)
        self.synced = False
        self.stack = 20000
        self.pending: list[dict[str, Any]] = [self.event("session.started", {
            "format": "cash", "game": random.choice(["NLH", "PLO"]), "currency": "USD", "buy_in": 20000,
            "stakes": {"small_blind": 100, "big_blind": 200}, "location": "Load test casino",
        })]  # fmt: skip

    def event(self, kind: str, data: dict[str, Any]) -> dict[str, Any]:
        self.seq += 1
        self.clock += timedelta(seconds=random.randint(10, 60))
        return {"id": str(uuid.uuid4()), "session_id": self.session_id, "seq": self.seq, "type": kind,
                "at": self.clock.isoformat(), "data": data}  # fmt: skip

    @task(6)
    def sync_batch(self) -> None:
        """The phone comes back online with 20–100 events queued."""
        for _ in range(random.randint(20, 100) - len(self.pending)):
            roll = random.random()
            if roll < 0.5:
                self.stack = max(0, self.stack + random.randint(-3000, 3000))
                self.pending.append(self.event("stack.counted", {"amount": self.stack}))
            elif roll < 0.6:
                self.stack += 20000
                self.pending.append(self.event("chips.added", {"amount": 20000, "kind": "rebuy"}))
            elif roll < 0.8:
                self.pending.append(self.event("mood.reported", {"score": random.randint(1, 5)}))
            else:
                self.pending.append(self.event("note.added", {"text": "button opens wide", "tags": ["read"]}))
        ended = self.seq > 300
        if ended:
            self.pending.append(self.event("session.ended", {"cash_out": self.stack}))
        with self.client.post("/api/v1/events", json={"events": self.pending}, headers=self.headers,
                              catch_response=True) as response:  # fmt: skip
            if response.status_code == 200 and response.json()["rejected"] == 0:
                self.pending = []
                self.synced = True
                response.success()
            else:
                response.failure(f"{response.status_code}: {response.text[:200]}")
        if ended:
            self.new_session()

    @task(3)
    def live_state(self) -> None:
        if not self.synced:
            return
        self.client.get(f"/api/v1/sessions/{self.session_id}", headers=self.headers, name="/api/v1/sessions/[id]")

    @task(1)
    def hold_stream(self) -> None:
        """Keep the live screen's SSE stream open for a few seconds, as a phone on the table does."""
        if not self.synced:
            return
        url = f"/api/v1/sessions/{self.session_id}/stream?token={self.token}"
        with self.client.get(url, stream=True, name="/api/v1/sessions/[id]/stream", timeout=10) as response:
            for _ in zip(response.iter_content(1024), range(3), strict=False):
                pass
