"""Budget benchmark of the live-session screen on loopback: first-load bytes, time to interactive, tap feedback.

Run: ``python -m web.bench_budget`` (``make bench``). It starts ``bankroll serve`` on a free port with a scratch
data directory, pairs headless Chromium through the pairing link, starts a session over the API and measures:

- first load: every byte the screen transfers with the HTTP cache and service worker bypassed (HTTP bodies and
  headers plus ReactPy's WebSocket frames), target <= 300 KB;
- time to interactive: navigation start until the figures and the capture buttons are on screen, target < 1.5 s;
- tap feedback: a tap on "Stack count" until its dialog is open, target < 100 ms (median of 15 taps).

It talks to the app over HTTP only, like the screens do.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import async_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
BUDGET_BYTES = 300 * 1024
BUDGET_TTI_S = 1.5
BUDGET_TAP_MS = 100.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def count_transfer(context: Any, page: Any) -> dict[str, int]:
    """Count every byte ``page`` transfers from now on, with the HTTP cache and the service worker bypassed.

    The returned dict grows as the page loads: ``http`` (bodies and headers) and ``ws`` (ReactPy's WebSocket frames).
    """
    cdp = await context.new_cdp_session(page)
    await cdp.send("Network.enable")
    await cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    await cdp.send("Network.setBypassServiceWorker", {"bypass": True})
    transferred = {"http": 0, "ws": 0}

    def on_finished(params: dict[str, Any]) -> None:
        transferred["http"] += int(params.get("encodedDataLength", 0))

    def on_frame(params: dict[str, Any]) -> None:
        transferred["ws"] += len(params["response"]["payloadData"].encode())

    cdp.on("Network.loadingFinished", on_finished)
    cdp.on("Network.webSocketFrameReceived", on_frame)
    cdp.on("Network.webSocketFrameSent", on_frame)
    return transferred


def bankroll(*args: str, env: dict[str, str]) -> str:
    exe = Path(sys.executable).with_name("bankroll")
    done = subprocess.run([str(exe), *args], env=env, capture_output=True, text=True, check=True)  # noqa: S603
    return done.stdout


async def wait_ready(url: str, within_s: float = 60) -> None:
    deadline = time.monotonic() + within_s
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get(f"{url}/readyz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"bankroll serve did not become ready at {url}")


async def start_session(url: str, token: str) -> str:
    session_id = str(uuid.uuid4())
    start = datetime.now(UTC).astimezone() - timedelta(hours=2)
    events = [
        {"id": str(uuid.uuid4()), "session_id": session_id, "seq": 1, "type": "session.started",
         "at": start.isoformat(), "data": {"format": "cash", "game": "NLH", "currency": "USD", "buy_in": 20000,
                                           "stakes": {"small_blind": 100, "big_blind": 200}}},
    ]  # fmt: skip
    for seq in range(2, 26):
        at = (start + timedelta(minutes=5 * seq)).isoformat()
        amount = 20000 + (seq * 733) % 9000
        events.append({"id": str(uuid.uuid4()), "session_id": session_id, "seq": seq, "type": "stack.counted",
                       "at": at, "data": {"amount": amount}})  # fmt: skip
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}) as client:
        answer = (await client.post("/api/v1/events", json={"events": events})).json()
    if answer["accepted"] != len(events):
        raise RuntimeError(f"the session was not accepted: {answer}")
    return session_id


async def measure(url: str, pair_link: str, token: str, taps: int) -> dict[str, float]:
    session_id = await start_session(url, token)
    with tempfile.TemporaryDirectory() as profile:
        async with async_playwright() as pw:
            context = await pw.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, args=ARGS, viewport={"width": 360, "height": 640}, is_mobile=True
            )
            page = context.pages[0] if context.pages else await context.new_page()
            await page.goto(pair_link)
            await page.wait_for_url(f"{url}/app/")
            await page.goto(f"{url}/capture")  # leave the screen so the measured load starts from nothing

            transferred = await count_transfer(context, page)

            await page.goto(f"{url}/app/live/{session_id}", wait_until="commit")
            await page.wait_for_selector("[data-testid=live-stack]")
            await page.wait_for_selector("[data-testid=chart]")
            tti_ms = float(await page.evaluate("performance.now()"))
            await asyncio.sleep(0.5)  # let late frames (the SSE-fed first state) arrive before counting bytes
            total = transferred["http"] + transferred["ws"]

            feedback: list[float] = []
            for _ in range(taps):
                ms = await page.evaluate(
                    """() => new Promise((resolve) => {
                        const button = document.querySelector("[data-testid=live-stack]");
                        const t0 = performance.now();
                        const seen = new MutationObserver(() => {
                            if (document.querySelector("dialog[open]")) {
                                seen.disconnect();
                                requestAnimationFrame(() => resolve(performance.now() - t0));
                            }
                        });
                        seen.observe(document.body, { childList: true, subtree: true, attributes: true });
                        button.click();
                    })"""
                )
                feedback.append(float(ms))
                await page.keyboard.press("Escape")
                await page.wait_for_selector("dialog[open]", state="detached")
            await context.close()
    return {"bytes": float(total), "tti_s": tti_ms / 1000, "tap_ms": statistics.median(feedback)}


def report(result: dict[str, float]) -> bool:
    rows = [
        ("live screen first load", f"{result['bytes'] / 1024:.1f} KB", f"<= {BUDGET_BYTES // 1024} KB",
         result["bytes"] <= BUDGET_BYTES),
        ("time to interactive", f"{result['tti_s']:.2f} s", f"< {BUDGET_TTI_S} s", result["tti_s"] < BUDGET_TTI_S),
        ("tap to visible feedback", f"{result['tap_ms']:.1f} ms", f"< {BUDGET_TAP_MS:.0f} ms",
         result["tap_ms"] < BUDGET_TAP_MS),
    ]  # fmt: skip
    print(f"{'measure':<26}{'result':>12}{'budget':>12}  ok")
    for name, value, budget, ok in rows:
        print(f"{name:<26}{value:>12}{budget:>12}  {'yes' if ok else 'NO'}")
    return all(ok for *_, ok in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--taps", type=int, default=15)
    args = parser.parse_args(argv)
    port = free_port()
    with tempfile.TemporaryDirectory() as data_dir:
        env = {**os.environ, "BANKROLL_DATA_DIR": data_dir, "PORT": str(port), "LOG_LEVEL": "WARNING"}
        env.pop("REDIS_URL", None)
        url = f"http://127.0.0.1:{port}"
        exe = Path(sys.executable).with_name("bankroll")
        server = subprocess.Popen([str(exe), "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
        try:
            asyncio.run(wait_ready(url))
            out = bankroll("user", "add", f"bench{uuid.uuid4().hex[:6]}", env=env)
            link = re.search(r"(http://\S+/pair#\S+)", out)
            if link is None:
                raise RuntimeError(f"no pairing link in: {out}")
            token = out.strip().splitlines()[-1]
            result = asyncio.run(measure(url, link.group(1), token, args.taps))
        finally:
            server.terminate()
            server.wait(timeout=30)
    return 0 if report(result) else 1


if __name__ == "__main__":
    sys.exit(main())
