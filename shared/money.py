"""Money as integer minor units with an ISO 4217 currency; formatting happens only at the edge."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Final

import msgspec

from shared.columns import bounded
from shared.errors import InvalidInput

# Active ISO 4217 codes (2024 list). Kept here so validation needs no network and no extra package.
ISO_4217: frozenset[str] = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF
    CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD
    HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD
    MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN
    PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY
    TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG
    """.split()
)

DEFAULT_MINOR_DIGITS = 2
# Digits after the decimal point for the codes that differ from the usual two (ISO 4217 minor unit column).
# The browser reads this table too: web/static/currencies.js is generated from it (`python -m web.currencies`).
MINOR_DIGITS: dict[str, int] = {
    **dict.fromkeys("BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX VND VUV XAF XOF XPF".split(), 0),
    **dict.fromkeys("BHD IQD JOD KWD LYD OMR TND".split(), 3),
}

# Symbols that lead the number on screen; every other currency shows its code after the number.
SYMBOLS: Final[dict[str, str]] = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CAD": "CA$", "AUD": "A$", "INR": "₹"}

# Tournament chips are counted, not money: whole numbers, parsed and shown as "20,000 chips" by the same functions.
CHIPS: Final = "chips"

MAX_AMOUNT = 10**15  # ten trillion major units: more than any bankroll, and 2,000 of them still fit an Int64 sum
Amount = Annotated[
    int, bounded("Int64", ge=0, le=MAX_AMOUNT, description="Money in integer minor units (cents), never negative")
]
Currency = Annotated[str, msgspec.Meta(pattern="^[A-Z]{3}$", description="ISO 4217 currency code such as USD")]


def is_currency(code: str) -> bool:
    """Tell whether ``code`` is an active ISO 4217 currency."""
    return code in ISO_4217


def minor_digits(currency: str) -> int:
    """Number of decimal digits of the currency's minor unit (2 for USD, 0 for JPY, 0 for tournament ``CHIPS``)."""
    return 0 if currency == CHIPS else MINOR_DIGITS.get(currency, DEFAULT_MINOR_DIGITS)


def format_money(
    amount: int, currency: str, *, signed: bool = False, whole: bool = False, symbol: bool = True, grouping: bool = True
) -> str:
    """Minor units for people; the one formatter of the project (the phone's ``Money.format`` follows the same rules).

    ``format_money(-123456, "USD") == "-$1,234.56"``, ``format_money(2000000, "HUF") == "20,000.00 HUF"``.

    Args:
        amount: minor units.
        currency: ISO 4217 code; its symbol leads when ``SYMBOLS`` has one, else the code follows the number.
        signed: put ``+`` on gains (a result, not a balance).
        whole: leave out a fraction of zeros (``$2`` rather than ``$2.00``; stakes labels).
        symbol: with the currency; without it the bare number (exports, stake labels).
        grouping: thousands separated by ``,``; off for spreadsheets.
    """
    digits = minor_digits(currency)
    units, frac = divmod(abs(amount), 10**digits)
    number = f"{units:,}" if grouping else str(units)
    if digits and not (whole and frac == 0):
        number = f"{number}.{frac:0{digits}d}"
    sign = "-" if amount < 0 else ("+" if signed and amount > 0 else "")
    if not symbol:
        return f"{sign}{number}"
    mark = SYMBOLS.get(currency)
    return f"{sign}{mark}{number}" if mark else f"{sign}{number} {currency}"


def parse_money(text: str, currency: str) -> int:
    """Parse an amount written with ``.`` as the decimal mark (files, the command line) into minor units.

    Raises:
        AmountError: as ``parse_amount`` names it.
    """
    return parse_amount(text, currency, ".")


class AmountError(InvalidInput, ValueError):
    """A typed amount that cannot be read as one number; ``code`` names the rule (see ``AMOUNT_ERRORS``)."""

    def __init__(self, code: str, text: str, currency: str) -> None:
        self.code = code
        self.text = text
        self.currency = currency
        message = AMOUNT_ERRORS[code].format(text=text.strip(_GAPS), currency=currency, digits=minor_digits(currency))
        super().__init__(message)


# Each way a typed amount can fail, with the sentence the player reads (the phone reads the same sentences from
# the generated web/static/rules.js). {text}: what was typed, {currency}, {digits}: the currency's decimals.
AMOUNT_ERRORS: Final[dict[str, str]] = {
    "empty": "Enter an amount.",
    "not_a_number": "“{text}” is not an amount: use digits, like 1250 or 1,250.50.",
    "negative": "“{text}” is negative: enter the amount without a minus sign.",
    "other_currency": "“{text}” names another currency: this session is in {currency}.",
    "ambiguous": "Is “{text}” thousands or decimals? Write it without a thousands separator, like 1250.",
    "bad_grouping": "“{text}” has digits grouped oddly: group thousands by three, like 1,250,000.",
    "too_many_decimals": "“{text}” has too many decimals: {currency} takes {digits}.",
    "too_large": "“{text}” is larger than any amount this app keeps.",
}
# Separators players put between thousands besides ',' and '.': spaces (also the no-break ones) and apostrophes.
_GAPS: Final = " \u00a0\u202f\u2009'’"
_MULTIPLIERS: Final = {"k": 1000, "m": 1000000}
_DIGITS: Final = "0123456789"  # ASCII only: str.isdigit would take "²" and other scripts' digits


def _all_digits(text: str) -> bool:
    return bool(text) and all(c in _DIGITS for c in text)


def parse_amount(text: str, currency: str, decimal_mark: str) -> int:
    """Read an amount as a player types it into minor units: ``1,000``, ``1.250,50``, ``$1,250.50``, ``2k``.

    The phone runs the same algorithm (``Money.parse`` in web/static/money.js); both pass the golden cases in
    tests/golden/amounts.json. A separator is read as thousands or decimals from the text itself where it can be
    (both marks present, several of one, a group that is not three digits); only ``1,250`` with ``,`` as the
    locale's decimal mark (or ``1.250`` with ``.``) is ambiguous, unless the currency has three decimals.

    Args:
        text: what the player typed.
        currency: ISO 4217 code: its decimals, its code and symbol (which may lead or follow the number).
        decimal_mark: ``"."`` or ``","``, the decimal mark of the player's locale.

    Raises:
        AmountError: ``code`` is one of ``AMOUNT_ERRORS``.
    """

    def fail(code: str) -> AmountError:
        return AmountError(code, text, currency)

    body = _strip_currency(text.strip(_GAPS), currency).strip(_GAPS)
    if not body:
        raise fail("empty")
    if body[0] in "-−":
        raise fail("negative")
    multiplier = _MULTIPLIERS.get(body[-1].lower(), 1)
    if multiplier > 1:
        body = body[:-1].rstrip(_GAPS)
    if not body or any(c not in _DIGITS + ".," + _GAPS for c in body) or not any(c in _DIGITS for c in body):
        raise fail("other_currency" if _names_a_currency(body) else "not_a_number")
    whole, fraction = _split(body, currency, decimal_mark, fail)
    digits = minor_digits(currency)
    scaled: int = int(whole + fraction) * multiplier * 10**digits
    unit: int = 10 ** len(fraction)
    value, rest = divmod(scaled, unit)
    if rest:
        raise fail("too_many_decimals")
    if value > MAX_AMOUNT:
        raise fail("too_large")
    return value


def _strip_currency(text: str, currency: str) -> str:
    marks = [currency, currency.lower()]
    symbol = SYMBOLS.get(currency, "")
    if symbol:
        marks.append(symbol)
        if symbol.endswith("$"):
            marks.append("$")
    for mark in sorted(marks, key=len, reverse=True):
        if text.startswith(mark):
            return text[len(mark) :]
        if text.endswith(mark):
            return text[: -len(mark)]
    return text


def _names_a_currency(text: str) -> bool:
    letters = "".join(c for c in text if c not in _DIGITS + ".," + _GAPS)
    return letters.upper() in ISO_4217 or any(s.strip() and s.strip() in text for s in SYMBOLS.values())


def _split(body: str, currency: str, decimal_mark: str, fail: Callable[[str], AmountError]) -> tuple[str, str]:
    """The digits before and after the decimal mark, every thousands separator checked and removed."""
    marks = [i for i, c in enumerate(body) if c in ".,"]
    decimal_at: int | None = None
    if marks:
        last = body[marks[-1]]
        after = body[marks[-1] + 1 :]
        if len({body[i] for i in marks}) == 2 or (len(marks) == 1 and len(after) != 3):
            decimal_at = marks[-1]
        elif len(marks) == 1 and last == decimal_mark:
            # "1,250" where ',' marks decimals: 1.25 or 1250? Three decimals settle it one way, none the other.
            digits = minor_digits(currency)
            if digits == 3 or body[: marks[-1]].strip(_GAPS) == "0":
                decimal_at = marks[-1]
            elif digits != 0:
                raise fail("ambiguous")
    whole = body if decimal_at is None else body[:decimal_at] or "0"  # ".5" is half a unit
    fraction = "" if decimal_at is None else body[decimal_at + 1 :]
    if fraction and not _all_digits(fraction):
        raise fail("not_a_number")
    groups = _groups(whole)
    if not all(_all_digits(g) for g in groups):
        raise fail("not_a_number")
    if len(groups) > 1 and (len(groups[0]) > 3 or groups[0][0] == "0" or any(len(g) != 3 for g in groups[1:])):
        raise fail("bad_grouping")
    return "".join(groups), fraction


def _groups(whole: str) -> list[str]:
    """The digit groups of the whole part, split at whichever thousands separators it uses (one kind only)."""
    separators = {c for c in whole if c not in _DIGITS}
    if len(separators) > 1:
        return ["", whole]  # two kinds of thousands separator: not a way anyone writes a number
    if not separators:
        return [whole]
    return whole.split(separators.pop())
