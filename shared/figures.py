"""One function per per-session figure (profit, played time, hourly, bb/h), so the reducer, the statistics, the tilt
features, the exports and the screens agree."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Literal, Protocol

MIN_RATED_SECONDS = 60  # under a minute of play a rate per hour says nothing
SECONDS_PER_HOUR = 3600


class Span(Protocol):
    """A break: when it started and ended."""

    @property
    def start(self) -> datetime: ...

    @property
    def end(self) -> datetime: ...


def hours(seconds: float) -> float:
    """Played seconds as hours."""
    return seconds / SECONDS_PER_HOUR


def per_hour(amount: float, seconds: float) -> float | None:
    """``amount`` per hour of ``seconds``, unrounded; None when no time was played."""
    return amount / hours(seconds) if seconds > 0 else None


def hourly_rate(amount: int, seconds: float) -> int | None:
    """``amount`` (minor units) per hour of ``seconds`` played, rounded; None under a minute of play."""
    if seconds < MIN_RATED_SECONDS:
        return None
    rate = per_hour(amount, seconds)
    return None if rate is None else round(rate)


def bb_per_hour(hourly: int | None, big_blind: int, format: str) -> float | None:
    """Big blinds per hour from an hourly rate; None for tournaments, no big blind, or no rate."""
    if hourly is None or big_blind == 0 or format != "cash":
        return None
    return round(hourly / big_blind, 2)


def big_blinds(stack: int | None, big_blind: int, format: str) -> int | None:
    """A tournament stack in whole big blinds (rounded down); None at a cash game or before blinds are known."""
    if stack is None or big_blind == 0 or format != "tournament":
        return None
    return stack // big_blind


def m_ratio(stack: int | None, small_blind: int, big_blind: int, ante: int, format: str) -> float | None:
    """Harrington's M: how many rounds the stack pays the blinds and antes, ``stack / (SB + BB + antes of one
    hand)`` (Dan Harrington and Bill Robertie, *Harrington on Hold'em*, vol. 2, 2005), to one decimal rounded down.
    ``ante`` is what one hand's antes come to in total (a big-blind ante as it is). None at a cash game or before
    blinds are known."""
    cost = small_blind + big_blind + ante
    if stack is None or cost == 0 or big_blind == 0 or format != "tournament":
        return None
    return (stack * 10 // cost) / 10


def profit(
    format: Literal["cash", "tournament"],
    *,
    invested: int,
    returned: int | None,
    ended: bool,
    prize: int = 0,
    bounties: int = 0,
) -> int:
    """A session's profit in minor units: what came back minus everything put in.

    Args:
        format: cash game or tournament.
        invested: buy-ins, fees, rebuys and add-ons.
        returned: cash games only: the cash-out (or the last counted stack); None when nothing came back yet.
        ended: tournaments only: whether prize and bounties are final (a running tournament has returned nothing).
        prize: tournament prize money.
        bounties: tournament bounties won.
    """
    if format == "cash":
        return (returned if returned is not None else 0) - invested
    return prize + bounties - invested if ended else -invested


def real_end(started_at: datetime | None, tapped_at: datetime, corrected: datetime | None) -> datetime:
    """When a session really ended: the corrected end when there is a sound one, else the tap time.

    A correction before the start (stored before intake refused those) is ignored rather than folded into a session
    of 0 h.
    """
    if corrected is None or (started_at is not None and corrected < started_at):
        return tapped_at
    return corrected


def break_seconds_after(breaks: Iterable[Span], end: datetime) -> int:
    """Seconds of breaks that fell after the real end (the break timer was forgotten): not taken from play."""
    return sum(int((b.end - max(b.start, end)).total_seconds()) for b in breaks if b.end > end)


def played_seconds(
    started_at: datetime | None, end: datetime, break_seconds: int, on_break_since: datetime | None = None
) -> int:
    """Seconds at the table from ``started_at`` to ``end``, finished breaks and a break still open excluded."""
    if started_at is None:
        return 0
    open_break = _seconds(on_break_since, end) if on_break_since is not None else 0
    return max(0, _seconds(started_at, end) - break_seconds - max(0, open_break))


def _seconds(start: datetime, end: datetime) -> int:
    # In UTC: two datetimes sharing one ZoneInfo subtract as wall clocks and would miss a daylight-saving change.
    return int((end.astimezone(UTC) - start.astimezone(UTC)).total_seconds())
