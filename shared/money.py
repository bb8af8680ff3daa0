"""Money as integer minor units with an ISO 4217 currency; formatting happens only at the edge."""

from __future__ import annotations

from typing import Annotated

import msgspec

from shared.columns import bounded

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

MAX_AMOUNT = 10**15  # ten trillion major units: more than any bankroll, and 2,000 of them still fit an Int64 sum
Amount = Annotated[
    int, bounded("Int64", ge=0, le=MAX_AMOUNT, description="Money in integer minor units (cents), never negative")
]
Currency = Annotated[str, msgspec.Meta(pattern="^[A-Z]{3}$", description="ISO 4217 currency code such as USD")]


def is_currency(code: str) -> bool:
    """Tell whether ``code`` is an active ISO 4217 currency."""
    return code in ISO_4217


def minor_digits(currency: str) -> int:
    """Number of decimal digits of the currency's minor unit (2 for USD, 0 for JPY)."""
    return MINOR_DIGITS.get(currency, DEFAULT_MINOR_DIGITS)


def format_money(amount: int, currency: str) -> str:
    """Render minor units for people, e.g. ``format_money(-12345, "USD") == "-123.45 USD"``."""
    digits = minor_digits(currency)
    sign = "-" if amount < 0 else ""
    whole, frac = divmod(abs(amount), 10**digits)
    text = f"{whole:,}" if digits == 0 else f"{whole:,}.{frac:0{digits}d}"
    return f"{sign}{text} {currency}"


def parse_money(text: str, currency: str) -> int:
    """Parse a decimal amount typed by a person ("1234.50") into minor units.

    Raises:
        ValueError: the text is not a plain decimal with at most the currency's digits, naming what was wrong.
    """
    raw = text.strip().replace("_", "")
    if "," in raw:
        raise ValueError(f"amount {text!r} uses ',' — write the decimal separator as '.' with no thousands separator")
    digits = minor_digits(currency)
    negative = raw.startswith("-")
    body = raw[1:] if negative else raw
    whole, _, frac = body.partition(".")
    if not whole.isdigit() or (frac and not frac.isdigit()):
        raise ValueError(f"amount {text!r} is not a decimal number")
    if len(frac) > digits:
        raise ValueError(f"amount {text!r} has {len(frac)} decimals; {currency} has {digits}")
    value: int = int(whole) * 10**digits + (int(frac.ljust(digits, "0")) if digits else 0)
    return -value if negative else value
