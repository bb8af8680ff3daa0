"""`make bench`: ingest throughput and latency, lag to ClickHouse, tilt step latency, then the stats benchmark.

Runs `bankroll serve` (embedded ClickHouse, in-process worker, private Redis) as a separate process on a free
port and drives it from this process with concurrent players posting 50-event batches. Prints a table.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from redis.asyncio import Redis

from tests.services import free_port

REPO = Path(__file__).resolve().parents[1]
BATCH = 50
PLAYERS = int(os.environ.get("BENCH_PLAYERS", "16"))
DURATION_S = float(os.environ.get("BENCH_SECONDS", "20"))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def batches_for(session_id: str, start: datetime) -> Any:
    """An endless cash session: a start, then stack counts, rebuys, notes and moods, 50 events a batch."""
    seq = 0
    clock = start
    while True:
        events = []
        for _ in range(BATCH):
            seq += 1
            clock += timedelta(seconds=1)
            if seq == 1:
                kind, data = "session.started", {
                    "format": "cash", "game": "NLH", "stakes": {"small_blind": 100, "big_blind": 200},
                    "currency": "USD", "buy_in": 20000, "location": "Bench",
                }  # fmt: skip
            elif seq % 10 == 0:
                kind, data = "chips.added", {"amount": 20000, "kind": "rebuy"}
            elif seq % 3 == 0:
                kind, data = "mood.reported", {"score": 1 + seq % 5}
            elif seq % 5 == 0:
                kind, data = "note.added", {"text": "villain 3-bets light from the button", "tags": ["read"]}
            else:
                kind, data = "stack.counted", {"amount": 15000 + (seq * 37) % 20000}
            events.append(
                {"id": str(uuid.uuid4()), "session_id": session_id, "seq": seq, "type": kind,
                 "at": clock.isoformat(), "data": data}
            )  # fmt: skip
        yield json.dumps({"events": events}).encode()


def bodies(count: int) -> list[bytes]:
    """Request bodies made before the clock starts, so the load generator spends its CPU on sending."""
    start = datetime.now(UTC) - timedelta(days=1)
    out: list[bytes] = []
    while len(out) < count:
        # A phone syncing a 100-event session (a long evening) in two batches.
        out.extend(body for body, _ in zip(batches_for(str(uuid.uuid4()), start), range(2), strict=False))
    return out


async def player(
    client: httpx.AsyncClient, token: str, deadline: float, latencies: list[float], work: list[bytes]
) -> int:
    accepted = 0
    headers = {"Authorization": f"Bearer {token}", "content-type": "application/json"}
    for body in work:
        if time.monotonic() >= deadline:
            break
        t0 = time.perf_counter()
        response = await client.post("/api/v1/events", content=body, headers=headers)
        latencies.append((time.perf_counter() - t0) * 1000)
        response.raise_for_status()
        accepted += response.json()["accepted"]
    return accepted


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def ingest_bench(base_url: str, redis_url: str, tokens: list[str], with_worker: bool) -> dict[str, float]:
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=len(tokens), max_keepalive_connections=len(tokens))
    async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits) as client:
        # Warm up (JIT-free Python still has caches, and ClickHouse creates its first parts).
        await asyncio.gather(*(player(client, t, time.monotonic() + 2, [], bodies(40)) for t in tokens[:4]))
        per_player = int(DURATION_S * 30_000 / BATCH / len(tokens)) + 2
        work = [bodies(per_player) for _ in tokens]
        redis = Redis.from_url(redis_url)
        await redis.delete("pbt:metrics:lag:clickhouse")
        t0 = time.monotonic()
        counts = await asyncio.gather(
            *(player(client, t, t0 + DURATION_S, latencies, w) for t, w in zip(tokens, work, strict=True))
        )
        elapsed = time.monotonic() - t0
        # Lag: wait for the ClickHouse sink to catch up, then read its samples.
        total = sum(counts)
        deadline = time.monotonic() + (120 if with_worker else 0)
        while time.monotonic() < deadline:
            info = {_text(g["name"]): g for g in await redis.xinfo_groups("pbt:outbox")}
            group = info.get("sink:clickhouse")
            if group and group["pending"] == 0 and (group.get("lag") or 0) == 0:
                break
            await asyncio.sleep(0.2)
        lags = [float(x) for x in await redis.lrange("pbt:metrics:lag:clickhouse", 0, -1)]
        await redis.aclose()
    return {
        "events": total,
        "seconds": elapsed,
        "events_per_s": total / elapsed,
        "batch_p50_ms": pct(latencies, 0.50),
        "batch_p99_ms": pct(latencies, 0.99),
        "lag_p50_ms": pct(lags, 0.50),
        "lag_p99_ms": pct(lags, 0.99),
    }


def tilt_bench() -> dict[str, float]:
    """Latency of the tilt step per event (features + ONNX + policy), as the worker runs it."""
    from shared.simulator import simulate
    from workers.tilt.engine import TiltEngine
    from workers.tilt.scorer import TiltScorer

    sim = simulate(20, 10, 11, datetime.now(UTC) - timedelta(days=60))
    engine = TiltEngine(TiltScorer())
    times = []
    t_all = time.perf_counter()
    for user, event in sim.events:
        t0 = time.perf_counter()
        engine.observe(user, event)
        times.append((time.perf_counter() - t0) * 1000)
    total = time.perf_counter() - t_all
    return {
        "events": len(times),
        "p50_ms": pct(times, 0.5),
        "p99_ms": pct(times, 0.99),
        "events_per_s": len(times) / total,
    }


async def make_players(redis_url: str, players: int) -> list[str]:
    from api.accounts import Accounts

    redis = Redis.from_url(redis_url)
    try:
        return [(await Accounts(redis).add_user(f"bench{i}")).token for i in range(players)]
    finally:
        await redis.aclose()


async def push_bench(alerts: int = 200) -> dict[str, float]:
    """Alert to push sent: encrypt (RFC 8291), sign (VAPID) and POST to a push endpoint on 127.0.0.1."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from adapters.push import PushBook, load_or_create_vapid
    from shared.push import PushSubscription, SubscriptionKeys
    from shared.tilt_policy import Alert
    from tests.services import start_redis
    from workers.push import PushSender, alert_payload, deliver_alert

    class Sink(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.send_response(201)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory(prefix="bench-push-") as tmp:
        redis_server = start_redis(Path(tmp))
        redis = Redis.from_url(redis_server.url)
        try:
            key = ec.generate_private_key(ec.SECP256R1()).public_key()
            point = key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
            import base64

            def b64(raw: bytes) -> str:
                return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

            sub = PushSubscription(
                endpoint=f"http://127.0.0.1:{server.server_address[1]}/push/1",
                keys=SubscriptionKeys(p256dh=b64(point), auth=b64(os.urandom(16))),
            )
            book = PushBook(redis, allow_insecure_endpoints=True)
            await book.add("bench", sub)
            alert = Alert("s1", datetime.now(UTC), 0.91, ["3 rebuys in 40 min", "down 2.5 buy-ins in the last hour"])
            times = []
            async with PushSender(
                load_or_create_vapid(Path(tmp)), "mailto:bench@example.invalid", timeout_s=5
            ) as sender:
                for _ in range(alerts):
                    t0 = time.perf_counter()
                    report = await deliver_alert(book, sender, "bench", alert_payload(alert))
                    times.append((time.perf_counter() - t0) * 1000)
                    assert report.delivered
        finally:
            await redis.aclose()
            redis_server.stop()
            server.shutdown()
    return {"p50_ms": pct(times, 0.5), "p99_ms": pct(times, 0.99)}


def run(players: int, with_worker: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        port = free_port()
        env = {**os.environ, "BANKROLL_DATA_DIR": tmp, "PORT": str(port), "LOG_LEVEL": "WARNING"}
        env["BANKROLL_EMBEDDED_WORKER"] = "true" if with_worker else "false"
        server = subprocess.Popen(
            [sys.executable, "-m", "bankroll.cli", "serve"], cwd=REPO, env=env,
            stdout=subprocess.DEVNULL, stderr=open(Path(tmp) / "serve.log", "w"),  # noqa: SIM115
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(300):
                try:
                    if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
            redis_url = f"unix://{tmp}/redis/redis.sock"
            tokens = asyncio.run(make_players(redis_url, players))
            ingest = asyncio.run(ingest_bench(base, redis_url, tokens, with_worker))
            rss_kb = int(Path(f"/proc/{server.pid}/status").read_text().split("VmRSS:")[1].split()[0])
        finally:
            server.terminate()
            server.wait(30)
    return {**ingest, "server_rss_mb": rss_kb / 1024}


def main() -> None:
    shapes = [
        ("one process: API + worker (default)", True, PLAYERS),
        ("one process: API + worker (default)", True, 4),
        ("API alone (worker elsewhere)", False, PLAYERS),
        ("API alone (worker elsewhere)", False, 4),
    ]
    print(f"\nIngest: 50-event batches, {DURATION_S:.0f} s per row, load generator on the same 2 cores")
    print("| shape | players | accepted events/s | batch p50 | batch p99 | lag to ClickHouse p50 / p99 | RSS |")
    print("|---|---|---|---|---|---|---|")
    for label, worker, players in shapes:
        r = run(players, worker)
        lag = f"{r['lag_p50_ms']:.0f} / {r['lag_p99_ms']:.0f} ms" if worker else "—"
        print(
            f"| {label} | {players} | {r['events_per_s']:,.0f} | {r['batch_p50_ms']:.1f} ms "
            f"| {r['batch_p99_ms']:.1f} ms | {lag} | {r['server_rss_mb']:.0f} MB |",
            flush=True,
        )
    t = tilt_bench()
    print(f"\nTilt step ({t['events']:,} simulated events, features + ONNX + policy per event)")
    print("| per event p50 | per event p99 | events/s |")
    print("|---|---|---|")
    print(f"| {t['p50_ms']:.3f} ms | {t['p99_ms']:.3f} ms | {t['events_per_s']:,.0f} |")
    p = asyncio.run(push_bench())
    print("\nAlert to push sent (encrypt + VAPID + POST to a push endpoint on 127.0.0.1, 200 alerts)")
    print("| p50 | p99 |")
    print("|---|---|")
    print(f"| {p['p50_ms']:.1f} ms | {p['p99_ms']:.1f} ms |")


if __name__ == "__main__":
    main()
