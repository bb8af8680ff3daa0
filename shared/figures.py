"""One function per per-session figure, so the reducer, the live screen, the tilt features and the screens agree."""

from __future__ import annotations

MIN_RATED_SECONDS = 60  # under a minute of play a rate per hour says nothing


def hourly_rate(amount: int, seconds: float) -> int | None:
    """``amount`` (minor units) per hour of ``seconds`` played, rounded; None under a minute of play."""
    if seconds < MIN_RATED_SECONDS:
        return None
    return round(amount * 3600 / seconds)


def bb_per_hour(hourly: int | None, big_blind: int, format: str) -> float | None:
    """Big blinds per hour from an hourly rate; None for tournaments, no big blind, or no rate."""
    if hourly is None or big_blind == 0 or format != "cash":
        return None
    return round(hourly / big_blind, 2)
