"""Speed of the Stats, Bankroll and Breakdowns screens over ten years of one player's history (5,200 sessions).

    .venv/bin/python -m loadtests.bench_screens        # BENCH_SCREENS_SESSIONS=5200 BENCH_SCREENS_LOADS=20

The app runs as ``bankroll serve`` builds it (private Redis, embedded chDB, gzip) under uvicorn on a free port in a
scratch data directory. The history of ``loadtests.bench_stats`` is bulk-loaded into ClickHouse for a user made
through the accounts API, then headless Chromium (360x640, paired through the pairing link) opens each screen:

- first load: every byte the screen transfers with the HTTP cache and service worker bypassed (HTTP bodies and
  headers as sent, gzip included, plus ReactPy's WebSocket frames as text), target <= 150 KB;
- server time: each screen's loading of its figures over HTTP (what the screen's ``use_load`` awaits: the same
  calls, the same client), p50 and p95 over ``LOADS`` loads after a first one, target p95 < 200 ms; the first,
  uncached, load is shown too;
- time to figures in the browser: navigation start until the screen's figures are on screen (p95 of 5 loads).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import uvicorn
from playwright.async_api import async_playwright
from redis.asyncio import Redis

from api.accounts import Accounts
from bankroll.wiring import build_runtime, make_app
from loadtests import bench_stats
from shared.settings import load_settings
from web.bench_budget import ARGS, CHROMIUM, count_transfer, free_port
from web.client import BankrollClient
from web.filters import Filters
from web.screens.bankroll import load_bankroll
from web.screens.breakdowns import load_breakdown
from web.screens.stats import load_stats

SESSIONS = int(os.environ.get("BENCH_SCREENS_SESSIONS", "5200"))
LOADS = int(os.environ.get("BENCH_SCREENS_LOADS", "20"))
BUDGET_BYTES = 150 * 1024
BUDGET_P95_MS = 200.0
# Each screen's address, the element that says its figures are drawn, and what it loads.
SCREENS: list[tuple[str, str, str, Callable[[BankrollClient], Awaitable[Any]]]] = [
    ("stats", "/app/stats?currency=USD", "[data-testid=downswing]",
     lambda c: load_stats(c, Filters(currency="USD"))),
    ("bankroll", "/app/bankroll?stake=NLH+2%2F5", "[data-testid=guidance-text]",
     lambda c: load_bankroll(c, Filters(), "30", "", "NLH 2/5")),
    ("breakdowns by stakes", "/app/breakdowns?currency=USD&by=stakes", "[data-testid=calendar-chart]",
     lambda c: load_breakdown(c, Filters(currency="USD"), "stakes")),
    ("breakdowns by month", "/app/breakdowns?currency=USD&by=month&format=cash", "[data-testid=calendar-chart]",
     lambda c: load_breakdown(c, Filters(currency="USD", format="cash"), "month")),
]  # fmt: skip


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def server_times(client: BankrollClient) -> dict[str, tuple[float, float, float]]:
    """(first, p50, p95) ms of each screen's figure loading."""
    found = {}
    for name, _, _, load in SCREENS:
        begin = time.perf_counter()
        await load(client)
        first = (time.perf_counter() - begin) * 1000
        samples = []
        for _ in range(LOADS):
            begin = time.perf_counter()
            await load(client)
            samples.append((time.perf_counter() - begin) * 1000)
        found[name] = (first, pct(samples, 0.5), pct(samples, 0.95))
    return found


async def browser(url: str, code: str) -> dict[str, tuple[float, float]]:
    """(first-load bytes, p95 ms to figures) of each screen in phone-sized Chromium."""
    found = {}
    with tempfile.TemporaryDirectory() as profile:
        async with async_playwright() as pw:
            context = await pw.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, args=ARGS, viewport={"width": 360, "height": 640}, is_mobile=True
            )
            page = context.pages[0] if context.pages else await context.new_page()
            await page.goto(f"{url}/pair#{code}")
            await page.wait_for_url(f"{url}/app/")
            counted = await count_transfer(context, page)
            for name, path, ready, _ in SCREENS:
                times = []
                for attempt in range(5):
                    await page.goto(f"{url}/capture")  # leave the screen so each load starts from nothing
                    counted["http"] = counted["ws"] = 0
                    await page.goto(f"{url}{path}", wait_until="commit")
                    await page.wait_for_selector(ready, timeout=60000)
                    times.append(float(await page.evaluate("performance.now()")))
                    if attempt == 0:
                        # Frames still on their way once the figures show (none expected): wait for the socket to idle.
                        await page.wait_for_load_state("networkidle")
                        first_bytes = counted["http"] + counted["ws"]
                found[name] = (float(first_bytes), pct(times, 0.95))
            await context.close()
    return found


async def run(data_dir: Path) -> bool:
    port = free_port()
    settings = load_settings({"BANKROLL_DATA_DIR": str(data_dir), "PORT": str(port), "LOG_LEVEL": "WARNING"})
    runtime = build_runtime(settings)
    server: uvicorn.Server | None = None
    try:
        redis = Redis.from_url(runtime.settings.redis_url)
        accounts = Accounts(redis)
        user = await accounts.add_user("bench-screens")
        bench_stats.USER = user.user_id  # the generator writes its rows for this user
        bench_stats.EVENTS_PER_SESSION = 0  # the screens read sessions and transactions, not the stack counts
        begin = time.perf_counter()
        await bench_stats.load(runtime.warehouse, bench_stats.generate(SESSIONS))
        print(f"loaded {SESSIONS} sessions in {time.perf_counter() - begin:.1f} s")
        server = uvicorn.Server(uvicorn.Config(make_app(runtime), host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, name="bench-uvicorn", daemon=True)
        thread.start()
        deadline = time.monotonic() + 60
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the app did not start")
            await asyncio.sleep(0.05)
        url = f"http://127.0.0.1:{port}"
        times = await server_times(BankrollClient(url, user.token))
        loads = await browser(url, await accounts.create_pairing(user.user_id, "phone"))
        await redis.aclose()
    finally:
        if server is not None:
            server.should_exit = True
            await asyncio.sleep(0.5)
        runtime.close()
    return report(times, loads)


def report(times: dict[str, tuple[float, float, float]], loads: dict[str, tuple[float, float]]) -> bool:
    ok = True
    print(f"\n{'screen':<24}{'first load':>12}{'server first':>14}{'p50':>8}{'p95':>8}{'to figures p95':>16}")
    for name, (first, p50, p95) in times.items():
        size, shown = loads[name]
        good = size <= BUDGET_BYTES and p95 < BUDGET_P95_MS
        ok = ok and good
        print(f"{name:<24}{size / 1024:>9.1f} KB{first:>11.0f} ms{p50:>6.0f}ms{p95:>6.0f}ms{shown:>13.0f} ms"
              f"  {'ok' if good else 'MISS'}")  # fmt: skip
    print(f"budgets: first load <= {BUDGET_BYTES // 1024} KB, server p95 < {BUDGET_P95_MS:.0f} ms; median of means "
          f"{statistics.mean(t[2] for t in times.values()):.0f} ms")  # fmt: skip
    return ok


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-screens-") as folder:
        return 0 if asyncio.run(run(Path(folder))) else 1


if __name__ == "__main__":
    raise SystemExit(main())
