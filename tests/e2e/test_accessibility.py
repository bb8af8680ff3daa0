"""axe-core finds no critical or serious violation on any screen or dialog, at phone size."""

from __future__ import annotations

from typing import Any

import pytest

from api.accounts import Accounts
from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import LiveServer, shot
from tests.e2e.test_pwa import pair, tap

pytestmark = pytest.mark.e2e


async def test_the_unpaired_screens_are_accessible(browser_context: Any, server: LiveServer) -> None:
    page = await browser_context.new_page()
    await page.goto(f"{server.url}/app/")
    await page.wait_for_selector("main h1")
    await assert_accessible(page, "home, unpaired")
    await page.goto(f"{server.url}/pair")
    await page.wait_for_selector("main")
    await assert_accessible(page, "pairing page without a code")
    await page.goto(f"{server.url}/capture")
    await page.wait_for_selector("[data-testid=capture-start]")
    await assert_accessible(page, "capture pad, no session")


async def test_every_screen_and_dialog_of_a_session_is_accessible(
    browser_context: Any, server: LiveServer, accounts: Accounts
) -> None:
    page, _ = await pair(browser_context, server, accounts)
    await page.wait_for_selector("[data-testid=start-session]")
    await assert_accessible(page, "home, no sessions yet")
    await page.click("[data-testid=start-session]")
    await page.wait_for_selector("dialog[open]")
    await assert_accessible(page, "start dialog")
    await page.click("dialog[open] [data-testid=dialog-ok]")
    await page.wait_for_url("**/app/live/*")
    session_id = page.url.rsplit("/", 1)[1]
    await page.wait_for_selector("[data-testid=live]")
    await assert_accessible(page, "live screen")
    for action in ("stack", "rebuy", "note", "mood", "end"):
        await page.click(f"[data-testid=live-{action}]")
        await page.wait_for_selector("dialog[open]")
        await assert_accessible(page, f"{action} dialog")
        await page.click("dialog[open] .btn.ghost")
        await page.wait_for_selector("dialog[open]", state="detached")
    await tap(page, "live-stack", amount="250")
    await page.wait_for_selector("[data-testid=stack]:has-text('$250.00')")
    await page.click("[data-testid=live-end]")
    await page.fill("dialog[open] [name=cash_out]", "250")
    await page.click("dialog[open] [data-testid=dialog-ok]")
    await page.wait_for_selector("dialog[open] [data-testid=end-confirm]")
    await assert_accessible(page, "cash-out confirmation")
    await page.click("dialog[open] [data-testid=dialog-ok]")
    await page.wait_for_selector("[data-testid=status]:has-text('ended')")
    await assert_accessible(page, "live screen, ended")
    await page.goto(f"{server.url}/app/sessions/{session_id}")
    await page.wait_for_selector("[data-testid=timeline]")
    await assert_accessible(page, "session detail")
    await page.goto(f"{server.url}/app/history")
    await page.wait_for_selector("[data-testid=history-row]")
    await assert_accessible(page, "history")
    await page.goto(f"{server.url}/app/")
    await page.wait_for_selector("[data-testid=total-profit]")
    await assert_accessible(page, "home with results")
    await page.goto(f"{server.url}/capture#{session_id}")
    await page.wait_for_selector("[data-testid=capture-session]")
    await assert_accessible(page, "capture pad, ended session")
    await shot(page, "capture-ended")
