"""Layout at phone size: the pad above the sync bar, a refusal that never pushes it away, short tiles, dialogs
whose confirm button stays visible with the keyboard open. Each check compares element boxes with the viewport."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from api.accounts import Accounts, NewToken
from tests.e2e.conftest import PHONE, LiveServer, shot
from tests.e2e.test_pwa import pair

pytestmark = pytest.mark.e2e


async def box(page: Any, selector: str) -> dict[str, float]:
    found = await page.locator(selector).bounding_box()
    assert found is not None, f"{selector} is not on the page"
    return dict(found)


async def end_is_on_screen_above_the_sync_bar(page: Any) -> None:
    assert await page.evaluate("window.scrollY") == 0
    end, bar = await box(page, "[data-testid=live-end]"), await box(page, "[data-testid=sync]")
    assert end["y"] >= 0 and end["y"] + end["height"] <= bar["y"], (end, bar)
    assert bar["y"] + bar["height"] <= PHONE["height"]


async def started_earlier(server: LiveServer, user: NewToken, minutes: int, stack: int) -> str:
    """A cash session the player's other device started ``minutes`` ago, with one big stack count."""
    sid = str(uuid.uuid4())
    now = datetime.now(UTC).astimezone()
    start = {"format": "cash", "game": "NLH", "currency": "USD", "buy_in": 20000,
             "stakes": {"small_blind": 100, "big_blind": 200, "ante": 0}}  # fmt: skip
    events = [
        {"id": str(uuid.uuid4()), "session_id": sid, "seq": 1, "type": "session.started",
         "at": (now - timedelta(minutes=minutes)).isoformat(), "data": start},
        {"id": str(uuid.uuid4()), "session_id": sid, "seq": 2, "type": "stack.counted",
         "at": now.isoformat(), "data": {"amount": stack}},
    ]  # fmt: skip
    async with httpx.AsyncClient(base_url=server.url, headers={"Authorization": f"Bearer {user.token}"}) as api:
        assert (await api.post("/api/v1/events", json={"events": events})).json()["accepted"] == 2
    return sid


async def test_end_session_is_on_screen_above_the_sync_bar_even_while_waiting_to_sync(
    browser_context: Any, server: LiveServer, accounts: Accounts
) -> None:
    page, _ = await pair(browser_context, server, accounts)
    await browser_context.route("**/api/v1/events", lambda route: route.abort("internetdisconnected"))
    await page.click("[data-testid=start-session]")
    await page.click("dialog[open] [data-testid=dialog-ok]")
    await page.wait_for_selector("[data-testid=live-sync-note]")
    await end_is_on_screen_above_the_sync_bar(page)
    await shot(page, "layout-live-waiting")


async def test_a_refused_tap_never_pushes_the_pad_off_screen(
    browser_context: Any, server: LiveServer, accounts: Accounts
) -> None:
    page, _ = await pair(browser_context, server, accounts)
    await page.click("[data-testid=start-session]")
    await page.click("dialog[open] [data-testid=dialog-ok]")
    await page.wait_for_selector("[data-testid=sync][data-state=synced]", timeout=30000)
    await browser_context.set_offline(True)
    await page.click("[data-testid=live-stack]")
    await page.fill("dialog[open] [name=amount]", "150")
    await page.click("dialog[open] [data-testid=dialog-ok]")
    await page.evaluate(
        """async () => {
            const entry = (await Outbox.entries()).find((e) => e.event.type === "stack.counted");
            entry.event.data.amount = -5;
            await Outbox.put("outbox", entry);
        }"""
    )
    await browser_context.set_offline(False)
    await page.wait_for_selector("[data-testid=rejected]", state="attached", timeout=20000)
    await page.evaluate("window.scrollTo(0, 0)")
    await end_is_on_screen_above_the_sync_bar(page)
    await page.wait_for_selector("[data-testid=sync][data-state=refused]")
    assert "1 tap refused by the server · the rest synced" in await page.inner_text("[data-testid=sync-text]")
    assert "All synced" not in await page.inner_text("[data-testid=sync-text]")
    await shot(page, "layout-refused")
    await page.click("[data-testid=sync-review]")
    await page.wait_for_function("window.scrollY > 0")
    assert await page.locator("[data-testid=rejected]").is_visible()


async def test_a_large_hourly_fits_its_tile_on_two_lines_at_most(
    browser_context: Any, server: LiveServer, accounts: Accounts
) -> None:
    page, user = await pair(browser_context, server, accounts)
    sid = await started_earlier(server, user, 30, 1234567)  # +$12,145.67 in half an hour: +$24,291.34/h
    await page.goto(f"{server.url}/app/live/{sid}")
    await page.wait_for_selector("[data-testid=hourly]:has-text('bb/h')", timeout=15000)
    lines = await page.evaluate(
        """() => {
            const node = document.querySelector("[data-testid=hourly]");
            return Math.round(node.getBoundingClientRect().height / parseFloat(getComputedStyle(node).lineHeight));
        }"""
    )
    assert lines <= 2, await page.inner_text("[data-testid=hourly]")
    tile = await box(page, "[data-testid=hourly]")
    assert tile["x"] + tile["width"] <= PHONE["width"]
    await end_is_on_screen_above_the_sync_bar(page)
    await shot(page, "layout-big-hourly")


@pytest.mark.parametrize("action", ["end", "stack", "note"])
async def test_with_the_keyboard_open_the_dialogs_confirm_button_is_visible(
    browser_context: Any, server: LiveServer, accounts: Accounts, action: str
) -> None:
    page, _ = await pair(browser_context, server, accounts)
    await page.click("[data-testid=start-session]")
    await page.wait_for_selector("dialog[open]")
    await page.set_viewport_size({"width": 360, "height": 380})  # what a phone keyboard leaves
    ok = await box(page, "dialog[open] [data-testid=dialog-ok]")
    assert ok["y"] >= 0 and ok["y"] + ok["height"] <= 380, ("start", ok)
    await shot(page, "layout-keyboard-start")
    await page.set_viewport_size(PHONE)
    await page.click("dialog[open] [data-testid=dialog-ok]")
    await page.wait_for_selector("[data-testid=live]")
    await page.click(f"[data-testid=live-{action}]")
    await page.wait_for_selector("dialog[open]")
    await page.set_viewport_size({"width": 360, "height": 380})
    ok = await box(page, "dialog[open] [data-testid=dialog-ok]")
    assert ok["y"] >= 0 and ok["y"] + ok["height"] <= 380, (action, ok)
    await shot(page, f"layout-keyboard-{action}")
