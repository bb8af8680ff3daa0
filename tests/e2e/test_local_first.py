"""The live screen is local-first: it draws the phone's copy of the session at once, whatever the uplink does."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from api.accounts import Accounts
from tests.conftest import eventually
from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import LiveServer, cut_signal, restore_signal, shot
from tests.e2e.test_pwa import pair, tap

pytestmark = pytest.mark.e2e

# Records, from the first paint, whether the page ever showed an error or a dead end instead of the session.
WATCH_ERRORS = """(() => {
    window.__errors = [];
    const look = () => {
        const text = document.body ? document.body.innerText : "";
        for (const bad of ["cannot be shown", "went wrong", "not on the server yet", "Nothing here"]) {
            if (text.includes(bad) && !window.__errors.includes(bad)) window.__errors.push(bad);
        }
    };
    new MutationObserver(look).observe(document, {subtree: true, childList: true, characterData: true});
})();"""


async def slow_uplink(context: Any, seconds: float) -> list[float]:
    """Every event upload takes ``seconds`` to leave the phone (page and service worker alike); returns their times."""
    loop = asyncio.get_running_loop()
    posted: list[float] = []

    async def delay(route: Any) -> None:
        if route.request.method == "POST":
            await asyncio.sleep(seconds)  # the uplink's latency, not a wait for the test's sake
            posted.append(loop.time())
        await route.continue_()

    await context.route("**/api/v1/events", delay)
    return posted


async def _seen(server: LiveServer, path: str, since: int) -> bool:
    return path in server.hits.paths[since:]


@pytest.mark.parametrize("uplink_seconds", [3.0, 6.0])
async def test_a_start_whose_upload_is_slow_shows_the_live_screen_at_once_and_never_an_error(
    browser_context: Any, server: LiveServer, accounts: Accounts, uplink_seconds: float
) -> None:
    page, _ = await pair(browser_context, server, accounts)
    await page.add_init_script(WATCH_ERRORS)
    await page.reload()
    await page.wait_for_selector("[data-testid=start-session]")
    posted = await slow_uplink(browser_context, uplink_seconds)
    await page.click("[data-testid=start-session]")
    await page.fill("dialog[open] [name=buy_in]", "300")
    await page.click("dialog[open] [data-testid=dialog-ok]")
    await page.wait_for_url("**/app/live/*")
    # Drawn from the phone's copy while the start is still on its way to the server.
    await page.wait_for_selector("[data-testid=invested]:has-text('$300.00')")
    assert posted == [], "the live screen was up before any upload left the phone"
    # The server answers 404 for a session whose start has not arrived: that is waiting, never an error.
    await page.wait_for_selector("[data-testid=live-sync-note]:has-text('Waiting to sync')")
    await shot(page, "live-waiting-to-sync")
    await tap(page, "live-stack", amount="320")
    await page.wait_for_selector("[data-testid=profit]:has-text('+$20.00')")
    # Once the upload lands, the screen merges the server's copy and says nothing more about waiting.
    await page.wait_for_selector("[data-testid=live][data-server=ok]", timeout=30000)
    await page.wait_for_selector("[data-testid=sync][data-state=synced]", timeout=30000)
    notes = await page.locator("[data-testid=live-sync-note]").all_inner_texts()
    assert notes == [], notes
    assert await page.inner_text("[data-testid=stack]") == "$320.00"
    assert await page.evaluate("window.__errors") == []
    assert posted, "the start did go out through the slow uplink"


async def test_when_the_signal_drops_mid_session_the_tiles_follow_the_phones_copy(
    browser_context: Any, server: LiveServer, accounts: Accounts
) -> None:
    page, user = await pair(browser_context, server, accounts)
    await page.click("[data-testid=start-session]")
    mark = len(server.hits.paths)
    await page.click("dialog[open] [data-testid=dialog-ok]")
    await page.wait_for_selector("[data-testid=live][data-server=ok]", timeout=30000)
    session_id = page.url.rsplit("/", 1)[1]
    await page.wait_for_selector("[data-testid=sync][data-state=synced]", timeout=30000)
    # The browser checks for a new service worker a moment after each navigation: that check, sent online, must
    # have reached the server before the cut, or it would look like a request made while offline.
    await eventually(lambda: _seen(server, "/sw.js", mark))
    await page.wait_for_load_state("networkidle")
    await cut_signal(browser_context, server)
    before = len(server.hits.paths)
    await tap(page, "live-rebuy", amount="100")
    await page.wait_for_selector("[data-testid=invested]:has-text('$300.00')")
    await page.wait_for_selector("[data-testid=stack]:has-text('$300.00')")
    await page.click("[data-testid=live-break]")
    await page.wait_for_selector("[data-testid=status]:has-text('on break')")
    await page.wait_for_selector("[data-testid=live-break]:has-text('End break')")
    await page.click("[data-testid=live-break]")
    await page.wait_for_selector("[data-testid=status]:has-text('active')")
    await tap(page, "live-stack", amount="340")
    await page.wait_for_selector("[data-testid=profit]:has-text('+$40.00')")
    await page.wait_for_selector("[data-testid=sync][data-state=offline]", timeout=20000)
    assert "Offline · 4 taps saved on this phone" in await page.inner_text("[data-testid=sync-text]")
    await shot(page, "live-offline")
    await assert_accessible(page, "live screen, offline")
    assert server.hits.paths[before:] == [], "no request reached the server while the signal was cut"
    await restore_signal(browser_context)
    await page.wait_for_selector("[data-testid=sync][data-state=synced]", timeout=30000)
    async with httpx.AsyncClient(base_url=server.url, headers={"Authorization": f"Bearer {user.token}"}) as api:
        events = (await api.get(f"/api/v1/sessions/{session_id}/events")).json()
        live = (await api.get(f"/api/v1/sessions/{session_id}")).json()
    assert [e["type"] for e in events].count("break.started") == 1
    assert (live["state"]["invested"], live["state"]["stack"], live["state"]["status"]) == (30000, 34000, "active")


async def test_a_live_link_to_a_session_this_phone_has_never_seen_waits_for_it(
    browser_context: Any, server: LiveServer, accounts: Accounts
) -> None:
    page, _ = await pair(browser_context, server, accounts)
    await page.goto(f"{server.url}/app/live/{uuid.uuid4()}")
    await page.wait_for_selector("[data-testid=live-waiting]:has-text('not on the server yet')", timeout=15000)
    await assert_accessible(page, "live screen, unknown session")
