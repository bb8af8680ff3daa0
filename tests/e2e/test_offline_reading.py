"""Offline reading: Home, History and a session's detail as last seen online, marked as such, with no request."""

from __future__ import annotations

from typing import Any

import pytest

from api.accounts import Accounts
from tests.conftest import eventually
from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import LiveServer, cut_signal, shot
from tests.e2e.test_pwa import pair, tap
from web.widgets import MORE, NAV

pytestmark = pytest.mark.e2e


async def kept(page: Any, path: str) -> bool:
    return bool(await page.evaluate("(p) => Outbox.get('kv', `page:${p}`)", path))


async def test_home_history_and_detail_read_offline_from_the_last_copy_with_no_request(
    browser_context: Any, server: LiveServer, accounts: Accounts
) -> None:
    page, _ = await pair(browser_context, server, accounts)
    await page.click("[data-testid=start-session]")
    await page.fill("dialog[open] [name=buy_in]", "300")
    await page.click("dialog[open] [data-testid=dialog-ok]")
    await page.wait_for_selector("[data-testid=live]")
    session_id = page.url.rsplit("/", 1)[1]
    await tap(page, "live-stack", amount="420")
    await page.click("[data-testid=live-end]")
    await page.fill("dialog[open] [name=cash_out]", "420")
    await page.click("dialog[open] [data-testid=dialog-ok]")
    while await page.locator("dialog[open]").count():  # the cash-out asks to confirm its result
        await page.click("dialog[open] [data-testid=dialog-ok]")
    await page.wait_for_selector("[data-testid=sync][data-state=synced]", timeout=30000)
    # Online, each screen the player opens leaves its copy on the phone.
    await page.goto(f"{server.url}/app/history")
    await page.wait_for_selector("[data-testid=history-row]:has-text('+$120.00')", timeout=30000)
    await eventually(lambda: kept(page, "/app/history"))
    await page.click("[data-testid=history-row]")
    await page.wait_for_selector("[data-testid=timeline]")
    await eventually(lambda: kept(page, f"/app/sessions/{session_id}"))
    await page.goto(f"{server.url}/app/")
    await page.wait_for_selector("[data-testid=total-profit]:has-text('+$120.00')")
    await eventually(lambda: kept(page, "/app"))
    await page.wait_for_load_state("networkidle")

    await cut_signal(browser_context, server)
    before = len(server.hits.paths)
    await page.goto(f"{server.url}/app/history")
    await page.wait_for_selector("[data-testid=offline-copy]:has-text('as of')")
    await page.wait_for_selector("[data-testid=history-row]:has-text('+$120.00')")
    await shot(page, "offline-history")
    await assert_accessible(page, "history, offline copy")
    await page.click("[data-testid=history-row]")
    await page.wait_for_selector("[data-testid=offline-copy]")
    await page.wait_for_selector("[data-testid=timeline]")
    await page.wait_for_selector("[data-testid=profit]:has-text('+$120.00')")
    await shot(page, "offline-detail")
    await assert_accessible(page, "session detail, offline copy")
    # The copy's frame names every screen the app has, as the screens' own tabs do (one list: web/widgets.py).
    await page.click("nav summary:has-text('Screens')")
    menu = await page.locator("nav .menu a").all_inner_texts()
    assert menu == [label for _, label in (*NAV, *MORE)]
    await page.click("nav .menu >> text=Home")
    await page.wait_for_selector("[data-testid=offline-copy]")
    await page.wait_for_selector("[data-testid=total-profit]:has-text('+$120.00')")
    await shot(page, "offline-home")
    await assert_accessible(page, "home, offline copy")
    # The capture pad is one tap away, and a start made from the copy of Home is recorded on the phone.
    await page.click("[data-testid=start-session]")
    await page.click("dialog[open] [data-testid=dialog-ok]")
    await page.wait_for_selector("[data-testid=live]")
    await page.wait_for_selector("[data-testid=sync][data-state=offline]")
    await page.goto(f"{server.url}/app/sessions/not-seen-here")
    await page.wait_for_selector("[data-testid=offline-missing]")
    await page.click("[data-testid=offline-capture]")
    await page.wait_for_selector("[data-testid=capture-session]")
    assert server.hits.paths[before:] == [], "offline reading made no request"
