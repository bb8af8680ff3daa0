"""shared.money's one parser and one formatter against the golden cases the phone's Money passes too."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from shared.money import AMOUNT_ERRORS, AmountError, format_money, parse_amount

GOLDEN: dict[str, Any] = json.loads((Path(__file__).parents[1] / "golden" / "amounts.json").read_text("utf-8"))


def _id(case: dict[str, Any]) -> str:
    return f"{case['text']!r}-{case['currency']}-{case['mark']}"


@pytest.mark.parametrize("case", GOLDEN["parse"], ids=_id)
def test_a_typed_amount_gives_its_minor_units_or_its_named_error(case: dict[str, Any]) -> None:
    if "error" in case:
        with pytest.raises(AmountError) as caught:
            parse_amount(case["text"], case["currency"], case["mark"])
        assert caught.value.code == case["error"], str(caught.value)
    else:
        assert parse_amount(case["text"], case["currency"], case["mark"]) == case["minor"]


@pytest.mark.parametrize("case", GOLDEN["format"], ids=lambda c: f"{c['minor']}-{c['currency']}-{c['options']}")
def test_minor_units_are_formatted_by_the_one_formatter(case: dict[str, Any]) -> None:
    assert format_money(case["minor"], case["currency"], **case["options"]) == case["text"]


def test_every_named_error_is_in_the_golden_cases() -> None:
    assert {c["error"] for c in GOLDEN["parse"] if "error" in c} == set(AMOUNT_ERRORS)


def test_a_refused_amount_names_what_was_typed_and_the_currency() -> None:
    with pytest.raises(AmountError, match=re.escape("“12.5” has too many decimals: JPY takes 0.")):
        parse_amount(" 12.5 ", "JPY", ".")


def test_what_format_money_writes_parse_amount_reads_back() -> None:
    for minor in (0, 5, 1250, 125050, 100000000, 10**15):
        for currency in ("USD", "JPY", "BHD", "HUF", "EUR"):
            assert parse_amount(format_money(minor, currency), currency, ".") == minor
