"""The PWA in real headless Chromium: installable, pairing, an online and an offline session, live updates, refusals."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from adapters.clickhouse import Warehouse
from api.accounts import Accounts, NewToken
from tests.conftest import eventually
from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import LiveServer, cut_signal, restore_signal, shot
from tests.services import RedisServer

pytestmark = pytest.mark.e2e


async def pair(context: Any, server: LiveServer, accounts: Accounts) -> tuple[Any, NewToken]:
    """A new player pairs this browser through the pairing link and lands on home."""
    user = await accounts.add_user(f"p{uuid.uuid4().hex[:10]}")
    code = await accounts.create_pairing(user.user_id, "phone")
    page = context.pages[0] if context.pages else await context.new_page()
    await page.goto(f"{server.url}/pair#{code}")
    await page.wait_for_url(f"{server.url}/app/")
    await page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=15000)
    return page, user


async def tap(page: Any, testid: str, **fields: str) -> None:
    """Tap a capture button, fill its dialog and confirm."""
    await page.click(f"[data-testid={testid}]")
    for name, value in fields.items():
        await page.fill(f"dialog[open] [name={name}]", value)
    await page.click("dialog[open] [data-testid=dialog-ok]")
    await page.wait_for_selector("dialog[open]", state="detached")


async def end(page: Any, testid: str, **fields: str) -> None:
    """Tap End session, fill the dialog, then confirm the result the phone shows before it ends the session."""
    await page.click(f"[data-testid={testid}]")
    for name, value in fields.items():
        await page.fill(f"dialog[open] [name={name}]", value)
    await page.click("dialog[open] [data-testid=dialog-ok]")
    await page.wait_for_selector("dialog[open] [data-testid=end-confirm]")
    await page.click("dialog[open] [data-testid=dialog-ok]")
    await page.wait_for_selector("dialog[open]", state="detached")


async def stored(warehouse: Warehouse, session_id: str) -> tuple[int, int]:
    rows = await warehouse.query(
        "SELECT count(), uniqExact(id) FROM events FINAL WHERE session_id = {sid:String}", {"sid": session_id}
    )
    return int(rows[0][0]), int(rows[0][1])


async def landed(warehouse: Warehouse, session_id: str, count: int) -> bool:
    """True once exactly ``count`` distinct events of the session are in ClickHouse."""
    return await stored(warehouse, session_id) == (count, count)


async def pending(page: Any) -> int:
    return int(await page.get_attribute("[data-testid=sync]", "data-pending") or "-1")


async def test_chromium_reports_no_installability_errors(browser_context: Any, server: LiveServer) -> None:
    page = await browser_context.new_page()
    await page.goto(f"{server.url}/app/")
    await page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=15000)
    cdp = await browser_context.new_cdp_session(page)
    errors = await cdp.send("Page.getInstallabilityErrors")
    assert errors["installabilityErrors"] == []
    manifest = await cdp.send("Page.getAppManifest")
    assert manifest["errors"] == []
    parsed = json.loads(manifest["data"])
    assert parsed["display"] == "standalone"
    assert {"192x192", "512x512"} <= {icon["sizes"] for icon in parsed["icons"]}
    assert any(icon.get("purpose") == "maskable" for icon in parsed["icons"])


async def test_pairing_then_a_full_online_session_reaches_clickhouse(
    browser_context: Any, server: LiveServer, accounts: Accounts, warehouse: Warehouse
) -> None:
    page, _ = await pair(browser_context, server, accounts)
    await page.wait_for_selector("[data-testid=start-session]")
    await shot(page, "home-empty")
    await page.click("[data-testid=start-session]")
    await page.fill("dialog[open] [name=buy_in]", "300")
    await shot(page, "start-dialog")
    await page.click("dialog[open] [data-testid=dialog-ok]")
    await page.wait_for_url("**/app/live/*")
    session_id = page.url.rsplit("/", 1)[1]
    await page.wait_for_selector("[data-testid=live]")
    await tap(page, "live-stack", amount="280")
    await page.wait_for_selector("[data-testid=stack]:has-text('$280.00')")
    await tap(page, "live-rebuy", amount="100")
    await page.wait_for_selector("[data-testid=invested]:has-text('$400.00')")
    await page.click("[data-testid=live-break]")
    await page.wait_for_selector("[data-testid=status]:has-text('on break')")
    await page.click("[data-testid=live-break]")
    await page.wait_for_selector("[data-testid=status]:has-text('active')")
    await tap(page, "live-note", text="seat 4 calls too much")
    await page.click("[data-testid=live-mood]")
    await page.click("dialog[open] .mood:nth-child(4)")
    await page.click("dialog[open] [data-testid=dialog-ok]")
    await tap(page, "live-stack", amount="455.50")
    await page.wait_for_selector("[data-testid=profit]:has-text('+$55.50')")
    await page.wait_for_selector("[data-testid=chart]")
    await shot(page, "live")
    await page.click("[data-testid=live-end]")
    await page.fill("dialog[open] [name=cash_out]", "455.50")
    await page.click("dialog[open] [data-testid=dialog-ok]")
    await page.wait_for_selector("dialog[open] [data-testid=end-confirm]:has-text('Cash-out $455.50 → +$55.50')")
    await page.click("dialog[open] [data-testid=dialog-ok]")
    await page.wait_for_selector("[data-testid=status]:has-text('ended')")
    await eventually(lambda: landed(warehouse, session_id, 9), timeout=30)
    assert await stored(warehouse, session_id) == (9, 9)
    await page.goto(f"{server.url}/app/history")
    await page.wait_for_selector("[data-testid=history-row]")
    await shot(page, "history")
    await page.click("[data-testid=history-row]")
    await page.wait_for_selector("[data-testid=timeline] li >> nth=8")
    await shot(page, "detail")
    await page.goto(f"{server.url}/app/")
    await page.wait_for_selector("[data-testid=total-profit]:has-text('+$55.50')")
    await shot(page, "home")


async def test_an_offline_session_survives_a_cold_start_and_lands_exactly_once(
    browser_context: Any, server: LiveServer, accounts: Accounts, warehouse: Warehouse
) -> None:
    page, _ = await pair(browser_context, server, accounts)
    await page.goto(f"{server.url}/capture")
    await page.wait_for_selector("[data-testid=capture-start]")
    # The page's own start-up reads (it learns session lengths while online) must finish before the signal is
    # cut: a request sent online but seen by the server a moment later is not one made while offline.
    await page.wait_for_load_state("networkidle")
    await cut_signal(browser_context, server)
    before = len(server.hits.paths)
    await page.click("[data-testid=capture-start]")
    await page.click("dialog[open] [data-testid=dialog-ok]")
    await page.wait_for_selector("[data-testid=capture-session]")
    session_id = await page.get_attribute("[data-testid=capture-session]", "data-live-session")
    await tap(page, "capture-stack", amount="150")
    await tap(page, "capture-rebuy", amount="200")
    await page.click("[data-testid=capture-break]")
    await page.click("[data-testid=capture-break]")
    await tap(page, "capture-note", text="no signal in the card room")
    await page.reload()  # a cold start with no network: the service worker serves the shell from its cache
    await page.wait_for_selector("[data-testid=capture-session]")
    await page.click("[data-testid=capture-mood]")
    await page.click("dialog[open] .mood:nth-child(2)")
    await page.click("dialog[open] [data-testid=dialog-ok]")
    await end(page, "capture-end", cash_out="410")
    await page.wait_for_selector("[data-testid=sync][data-pending='8']")
    await shot(page, "capture-offline")
    reached = server.hits.paths[before:]
    assert reached == [], f"nothing, not even the reload, may reach the server while offline; it got {reached}"
    assert await stored(warehouse, str(session_id)) == (0, 0)
    await restore_signal(browser_context)
    await page.wait_for_selector("[data-testid=sync][data-pending='0']", timeout=20000)
    await eventually(lambda: landed(warehouse, str(session_id), 8), timeout=30)
    assert await stored(warehouse, str(session_id)) == (8, 8)
    await shot(page, "capture-synced")


async def test_the_live_screen_follows_another_devices_taps_over_sse(
    browser_context: Any, server: LiveServer, accounts: Accounts
) -> None:
    page, user = await pair(browser_context, server, accounts)
    session_id = str(uuid.uuid4())
    now = datetime.now(UTC).astimezone()
    start = {
        "format": "cash",
        "game": "PLO",
        "currency": "EUR",
        "buy_in": 50000,
        "stakes": {"small_blind": 200, "big_blind": 500, "ante": 0},
        "location": "Casino Wien",
    }

    def event(seq: int, type_: str, data: dict[str, Any], minutes: float) -> dict[str, Any]:
        at = (now - timedelta(minutes=minutes)).isoformat()
        return {"id": str(uuid.uuid4()), "session_id": session_id, "seq": seq, "type": type_, "at": at, "data": data}

    # The player's other device (the CLI token) started the session; this phone only watches.
    other = {"Authorization": f"Bearer {user.token}"}
    async with httpx.AsyncClient(base_url=server.url, headers=other) as api:
        answer = await api.post("/api/v1/events", json={"events": [event(1, "session.started", start, 90)]})
        assert answer.json()["accepted"] == 1
        await page.goto(f"{server.url}/app/live/{session_id}")
        await page.wait_for_selector("[data-testid=stack]:has-text('€500.00')")
        answer = await api.post("/api/v1/events", json={"events": [event(2, "stack.counted", {"amount": 73125}, 1)]})
        assert answer.json()["accepted"] == 1
        await page.wait_for_selector("[data-testid=stack]:has-text('€731.25')", timeout=10000)
        await page.wait_for_selector("[data-testid=profit]:has-text('+€231.25')")
    # This phone adds its own count: seq 1 again, but in its own (device, seq) slot, so both merge.
    await tap(page, "live-stack", amount="800")
    await page.wait_for_selector("[data-testid=stack]:has-text('€800.00')", timeout=10000)
    await shot(page, "live-two-devices")


async def test_a_refused_event_is_shown_with_the_servers_reason(
    browser_context: Any, server: LiveServer, accounts: Accounts
) -> None:
    page, _ = await pair(browser_context, server, accounts)
    await page.goto(f"{server.url}/capture")
    await page.wait_for_selector("[data-testid=capture-start]")
    await cut_signal(browser_context, server)
    await page.click("[data-testid=capture-start]")
    await page.click("dialog[open] [data-testid=dialog-ok]")
    await tap(page, "capture-stack", amount="150")
    # Tamper with the queued stack count the way a buggy build might: a negative amount.
    await page.evaluate(
        """async () => {
            const entries = await Outbox.entries();
            const entry = entries.find((e) => e.event.type === "stack.counted");
            entry.event.data.amount = -5;
            await Outbox.put("outbox", entry);
        }"""
    )
    await restore_signal(browser_context)
    rejected = page.locator("[data-testid=rejected]")
    await rejected.wait_for(timeout=20000)
    assert "Stack count" in await rejected.inner_text()
    assert ">= 0" in await rejected.locator(".reason").inner_text()
    await page.wait_for_selector("[data-testid=sync][data-pending='0']")
    await shot(page, "rejected")
    await assert_accessible(page, "capture pad with a refused tap")
    assert len(await page.evaluate("Outbox.entries()")) == 1, "the refused event stays until the player dismisses it"


async def test_a_revoked_device_is_told_to_pair_again_and_keeps_its_queue(
    browser_context: Any, server: LiveServer, accounts: Accounts
) -> None:
    page, user = await pair(browser_context, server, accounts)
    await page.goto(f"{server.url}/capture")
    device_id = await page.evaluate("Outbox.get('kv', 'device_id')")
    await accounts.revoke(user.user_id, device_id)
    await page.click("[data-testid=capture-start]")
    await page.click("dialog[open] [data-testid=dialog-ok]")
    await page.wait_for_selector("[data-testid=sync][data-state=auth]", timeout=10000)
    assert "pair this device again" in await page.inner_text("[data-testid=sync-text]")
    assert await pending(page) == 1
    await shot(page, "unpaired")


async def test_while_the_servers_redis_is_down_the_outbox_waits_as_retry_after_says_then_delivers(
    browser_context: Any, server: LiveServer, accounts: Accounts, redis_server: RedisServer
) -> None:
    page, _ = await pair(browser_context, server, accounts)
    await page.goto(f"{server.url}/capture")

    def posts() -> int:
        return sum(path == "/api/v1/events" for path in server.hits.paths)

    redis_server.stop()  # a clean stop: the account just made is kept
    try:
        await page.click("[data-testid=capture-start]")
        await page.click("dialog[open] [data-testid=dialog-ok]")
        await page.wait_for_selector("[data-testid=sync][data-state=server]", timeout=20000)
        assert "Server answered 503; retrying in 2 s." in await page.inner_text("[data-testid=sync-text]")
        sent = posts()
        # Asked again inside the Retry-After window (a tap, Background Sync), the outbox sends nothing.
        wait_ms, outcome = await page.evaluate("(async () => [await Outbox.waitMs(), await Outbox.sync()])()")
        assert 0 < wait_ms <= 2000 and outcome == "retry"
        assert posts() == sent
    finally:
        redis_server.start()
    await page.wait_for_selector("[data-testid=sync][data-pending='0']", timeout=30000)
    assert await page.get_attribute("[data-testid=sync]", "data-state") == "synced"


async def test_revoking_a_device_closes_its_open_app_socket_within_a_second(
    browser_context: Any, server: LiveServer, accounts: Accounts
) -> None:
    page, user = await pair(browser_context, server, accounts)
    sockets: list[Any] = []
    page.on("websocket", lambda ws: sockets.append(ws))
    await page.goto(f"{server.url}/app/history")
    await page.wait_for_selector("a.brand", timeout=15000)  # the screen came over the ReactPy socket
    screen = next(ws for ws in sockets if "/_reactpy/stream" in ws.url)
    assert not screen.is_closed()
    device_id = (await accounts.devices(user.user_id))[-1].device_id

    async with screen.expect_event("close", timeout=1000):
        await accounts.revoke(user.user_id, device_id)  # what `bankroll device revoke` and DELETE do
    assert screen.is_closed()


async def test_a_forgotten_timer_asks_still_playing_and_records_the_real_end(
    browser_context: Any, server: LiveServer, accounts: Accounts
) -> None:
    page, user = await pair(browser_context, server, accounts)
    now = datetime.now(UTC)
    await page.clock.install(time=now - timedelta(hours=10))
    await page.goto(f"{server.url}/capture")
    await page.click("[data-testid=capture-start]")
    await page.click("dialog[open] [data-testid=dialog-ok]")
    await tap(page, "capture-stack", amount="260")
    # A rebuy taken back with Undo: the phone's figures for the session (what the prompt's end uses) drop it too.
    await tap(page, "capture-rebuy", amount="100")
    await page.click("#pad-toast.show [data-testid=toast-undo]")
    session_id = str(await page.get_attribute("[data-testid=capture-session]", "data-live-session"))
    await page.wait_for_selector("[data-testid=sync][data-pending='0']")
    # Ten hours later nothing was recorded for hours: the phone asks instead of counting those hours.
    await page.clock.set_system_time(now)
    await page.evaluate("() => { Pad.checkForgotten(); }")  # not awaited: it waits for the answer
    await page.wait_for_selector("dialog[open] h2:has-text('Still playing?')")
    await shot(page, "still-playing")
    await page.click("dialog[open] [data-testid=dialog-ok]")
    await page.wait_for_selector("dialog[open] [name=ended_at]")
    real_end = await page.input_value("dialog[open] [name=ended_at]")
    await page.fill("dialog[open] [name=cash_out]", "260")
    await page.click("dialog[open] [data-testid=dialog-ok]")
    confirm = await page.inner_text("dialog[open] [data-testid=end-confirm]")
    assert "Cash-out $260.00" in confirm
    await page.click("dialog[open] [data-testid=dialog-ok]")
    await page.wait_for_selector("[data-testid=sync][data-pending='0']")
    async with httpx.AsyncClient(base_url=server.url, headers={"Authorization": f"Bearer {user.token}"}) as api:
        live = (await api.get(f"/api/v1/sessions/{session_id}")).json()
        events = (await api.get(f"/api/v1/sessions/{session_id}/events")).json()
    assert live["state"]["status"] == "ended"
    profit = live["state"]["profit"]
    assert f"→ {'+' if profit >= 0 else '-'}${abs(profit) / 100:,.2f}" in confirm  # the undone rebuy not in it
    ended = next(e for e in events if e["type"] == "session.ended")
    assert ended["data"]["ended_at"].startswith(real_end)  # the real end the player confirmed...
    assert datetime.fromisoformat(ended["at"]) > datetime.fromisoformat(ended["data"]["ended_at"])  # ...not the tap
    assert live["played_seconds"] < 3600
