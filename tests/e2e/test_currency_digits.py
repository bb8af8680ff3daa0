"""One rule, two runtimes: the capture pad in Chromium reads money with the digits shared.money uses."""

from __future__ import annotations

from typing import Any

import pytest

from shared.money import minor_digits, parse_money
from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e

# Two-digit, zero-digit and three-digit currencies, one that browsers' Intl tables give 0 although ISO 4217 says
# 3 (IQD), and a code outside the table.
GOLDEN = [
    ("USD", "123.45", 12345),
    ("EUR", "0.05", 5),
    ("JPY", "12345", 12345),
    ("CLP", "500", 500),
    ("KWD", "12.345", 12345),
    ("IQD", "1.500", 1500),
    ("XYZ", "7.01", 701),
]


async def test_the_pad_reads_amounts_with_the_digits_of_shared_money(browser_context: Any, server: LiveServer) -> None:
    page = await browser_context.new_page()
    await page.goto(f"{server.url}/capture")
    await page.wait_for_function("typeof Pad !== 'undefined' && typeof currencyDigits === 'function'")
    for currency, text, amount in GOLDEN:
        digits = await page.evaluate("(c) => currencyDigits(c)", currency)
        assert digits == minor_digits(currency), currency
        typed = await page.evaluate("([t, c]) => Pad.toMinor(t, c)", [text, currency])
        assert typed == amount == parse_money(text, currency), (currency, text)
