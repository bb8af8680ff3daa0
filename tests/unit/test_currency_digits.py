"""The browser's currency digits are generated from shared.money: the committed script is what the generator writes."""

from __future__ import annotations

from shared.money import MINOR_DIGITS
from web.currencies import TARGET, currencies_js


def test_the_committed_currencies_script_is_the_generated_one() -> None:
    assert TARGET.read_text(encoding="utf-8") == currencies_js(), "run `python -m web.currencies` and commit"


def test_every_exception_of_the_python_table_is_in_the_script() -> None:
    script = currencies_js()
    assert all(f'"{code}":{digits}' in script for code, digits in MINOR_DIGITS.items())
