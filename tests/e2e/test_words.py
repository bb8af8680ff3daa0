"""Words for players, not for developers: no CLI commands, no event names, no "tap(s)" or "1 sessions" on screen."""

from __future__ import annotations

import re
from typing import Any

import pytest

from api.accounts import Accounts
from tests.e2e.conftest import LiveServer, shot
from tests.e2e.test_pwa import end, pair, tap

pytestmark = pytest.mark.e2e

DEVELOPER_WORDS = {
    "a backticked command or path": re.compile(r"`"),
    "a CLI command": re.compile(r"\bbankroll (device|user|serve)\b"),
    "an event name": re.compile(
        r"\b(session|stack|chips|break|note|mood|tilt|transaction|event)\."
        r"(started|ended|counted|added|reported|recorded|feedback|voided|corrected)\b"
    ),
    "a plural in brackets": re.compile(r"\w\(s\)"),
    "one with a plural": re.compile(r"(?<![\d.,])1 (sessions|taps|events|hours|minutes|entrants)\b"),
}


async def words_on(page: Any, where: str) -> None:
    text = await page.evaluate("() => document.body.innerText")
    found = {what: m.group(0) for what, rule in DEVELOPER_WORDS.items() if (m := rule.search(text))}
    assert not found, f"{where}: {found}\n{text}"


async def test_no_screen_speaks_to_developers(browser_context: Any, server: LiveServer, accounts: Accounts) -> None:
    first = await browser_context.new_page()
    for path in ("/app/", "/app/history", "/capture"):
        await first.goto(f"{server.url}{path}")
        await first.wait_for_selector("[data-testid=sync-text]")
        await first.wait_for_load_state("networkidle")
        await words_on(first, f"unpaired {path}")
    assert "pairing link" in await first.inner_text("[data-testid=sync-text]")
    await shot(first, "unpaired-words")
    await first.close()

    page, _ = await pair(browser_context, server, accounts)
    await page.wait_for_selector("[data-testid=start-session]")
    await words_on(page, "home, no sessions")
    await page.click("[data-testid=start-session]")
    await page.wait_for_selector("dialog[open]")
    await words_on(page, "start dialog")
    await page.click("dialog[open] [data-testid=dialog-ok]")
    await page.wait_for_url("**/app/live/*")
    session_id = page.url.rsplit("/", 1)[1]
    await page.wait_for_selector("[data-testid=live]")
    await tap(page, "live-stack", amount="250")
    await tap(page, "live-note", text="button on the left")
    for action in ("stack", "rebuy", "addon", "note", "mood", "end"):
        await page.click(f"[data-testid=live-{action}]")
        await page.wait_for_selector("dialog[open]")
        await words_on(page, f"{action} dialog")
        await page.click("dialog[open] .btn.ghost")
        await page.wait_for_selector("dialog[open]", state="detached")
    await words_on(page, "live screen")
    await end(page, "live-end", cash_out="250")
    await page.wait_for_selector("[data-testid=sync][data-pending='0']", timeout=30000)
    for path in ("/app/", "/app/history", f"/app/sessions/{session_id}", "/capture"):
        await page.goto(f"{server.url}{path}")
        await page.wait_for_load_state("networkidle")
        await words_on(page, path)
