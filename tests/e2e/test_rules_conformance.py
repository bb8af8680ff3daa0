"""One rule, two runtimes: the golden cases through shared/ in Python and through the page's JavaScript in Chromium.

Amount strings × decimal mark × currency → minor units or the named error (and its sentence), minor units → text,
and session starts → accepted or refused at the same field. Any difference between the runtimes fails.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from shared.money import AmountError, format_money, parse_amount
from tests.e2e.conftest import LiveServer
from tests.unit.test_rules import refused_at

pytestmark = pytest.mark.e2e
GOLDEN = Path(__file__).parents[1] / "golden"
AMOUNTS: dict[str, Any] = json.loads((GOLDEN / "amounts.json").read_text("utf-8"))
STARTS: list[dict[str, Any]] = json.loads((GOLDEN / "starts.json").read_text("utf-8"))["starts"]
COUNTS: list[dict[str, Any]] = json.loads((GOLDEN / "starts.json").read_text("utf-8"))["counts"]

IN_PAGE = """
(golden) => ({
  parse: golden.parse.map((c) => {
    try {
      return { minor: Money.parse(c.text, c.currency, c.mark) };
    } catch (err) {
      return { error: err.code, message: err.message };
    }
  }),
  format: golden.format.map((c) => Money.format(c.minor, c.currency, c.options)),
  starts: golden.starts.map((c) => Checks.start(c.data).map((p) => p.path)),
  counts: golden.counts.map((c) => Checks.counted(c.data).map((p) => p.path)),
})
"""


def in_python(case: dict[str, Any]) -> dict[str, Any]:
    try:
        return {"minor": parse_amount(case["text"], case["currency"], case["mark"])}
    except AmountError as exc:
        return {"error": exc.code, "message": str(exc)}


async def test_the_page_and_shared_agree_on_every_golden_case(browser_context: Any, server: LiveServer) -> None:
    page = await browser_context.new_page()
    await page.goto(f"{server.url}/capture")
    await page.wait_for_function("typeof Money !== 'undefined' && typeof Checks !== 'undefined'")
    browser = await page.evaluate(IN_PAGE, {**AMOUNTS, "starts": STARTS, "counts": COUNTS})

    for case, got in zip(AMOUNTS["parse"], browser["parse"], strict=True):
        assert got == in_python(case), case
        assert got.get("minor") == case.get("minor") and got.get("error") == case.get("error"), case
    for case, text in zip(AMOUNTS["format"], browser["format"], strict=True):
        assert text == format_money(case["minor"], case["currency"], **case["options"]) == case["text"], case
    for case, paths in zip(STARTS, browser["starts"], strict=True):
        python = refused_at(case["data"])
        assert python == case["refused_at"]
        assert (python is None) == (not paths), (case, paths)
        assert python is None or any(p.startswith(python) for p in paths), (case, paths)
    for case, paths in zip(COUNTS, browser["counts"], strict=True):
        python = refused_at(case["data"], "stack.counted")
        assert python == case["refused_at"]
        assert (python is None) == (not paths), (case, paths)
        assert python is None or any(p.startswith(python) for p in paths), (case, paths)
