"""Generates ``web/static/currencies.js``: the browser's currency digits, from the one table in ``shared.money``.

Run ``python -m web.currencies`` after changing that table; ``tests/unit/test_currency_digits.py`` fails until the
committed file matches.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from shared.money import DEFAULT_MINOR_DIGITS, MINOR_DIGITS

TARGET = Path(__file__).parent / "static" / "currencies.js"


def currencies_js() -> str:
    """The script text: ``currencyDigits(code)`` as ``shared.money.minor_digits`` answers it."""
    table = json.dumps(dict(sorted(MINOR_DIGITS.items())), separators=(",", ":"))
    return (
        "/* Generated from shared/money.py by `python -m web.currencies`; do not edit. */\n"
        '"use strict";\n\n'
        f"var CURRENCY_DIGITS = {table};\n\n"
        "/* Digits of the currency's minor unit (2 for USD, 0 for JPY, 3 for KWD), as shared.money.minor_digits. */\n"
        "function currencyDigits(code) {\n"
        "  const digits = CURRENCY_DIGITS[String(code)];\n"
        f"  return digits === undefined ? {DEFAULT_MINOR_DIGITS} : digits;\n"
        "}\n"
    )


def main() -> None:
    TARGET.write_text(currencies_js(), encoding="utf-8")
    sys.stdout.write(f"wrote {TARGET}\n")


if __name__ == "__main__":
    main()
