"""Bankroll statistics over finished sessions: pure functions, no I/O; formulas and sources in docs/statistics.md."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from statistics import NormalDist
from typing import Final, Literal, get_args

import msgspec

from shared.errors import InvalidInput
from shared.figures import hours, per_hour
from shared.money import format_money
from shared.reducer import SessionState

# Two-sided 95 % quantile of the standard normal distribution.
Z95: Final = 1.96
# Two-sided 95 % quantiles t(0.975, ν) of Student's t for ν = 1…30 degrees of freedom (Abramowitz & Stegun,
# Handbook of Mathematical Functions, table 26.10); above 30 the expansion in ``t95`` is used.
T975: Final = (
    12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281,
    2.2010, 2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860,
    2.0796, 2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423,
)  # fmt: skip
# Below these the interval, P(winning) and the downswing verdict are marked unreliable (docs/statistics.md).
MIN_RELIABLE_SESSIONS: Final = 30
MIN_RELIABLE_HOURS: Final = 100

BreakdownBy = Literal["stakes", "game", "format", "location", "weekday", "hour", "length", "month"]
BREAKDOWNS: Final[tuple[str, ...]] = get_args(BreakdownBy)
WEEKDAYS: Final = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
LENGTHS: Final = ("<2h", "2-4h", "4-6h", "6h+")
# Breakdowns whose every group holds one format, so grouping never mixes cash games and tournaments.
ONE_FORMAT_PER_GROUP: Final = frozenset({"stakes", "format"})
Measured = Literal["cash", "tournament", "mixed"]


class SessionRow(msgspec.Struct, frozen=True, gc=False, kw_only=True):
    """One finished session as the statistics see it (a ClickHouse row or ``session_row(state)``)."""

    session_id: str
    format: Literal["cash", "tournament"]
    game: str
    currency: str
    small_blind: int
    big_blind: int
    location: str
    started_at: datetime
    ended_at: datetime
    utc_offset_minutes: int
    played_seconds: int
    invested: int
    profit: int
    win_rate_profit: int
    net_profit: int
    buy_in: int
    fee: int
    place: int | None = None
    entrants: int | None = None
    prize: int = 0
    bounties: int = 0
    tags: list[str] = []


class TransactionRow(msgspec.Struct, frozen=True, gc=False):
    """Money moved in or out of the bankroll outside a session."""

    at: datetime
    kind: Literal["deposit", "withdrawal", "expense"]
    amount: int
    currency: str


class Downswings(msgspec.Struct, frozen=True, gc=False):
    """Drawdowns of the cumulative win-rate profit curve (minor units; hours are played hours)."""

    deepest: int = 0
    deepest_peak_at: datetime | None = None
    deepest_trough_at: datetime | None = None
    longest_sessions: int = 0
    longest_hours: float = 0.0
    current: int = 0
    current_sessions: int = 0
    current_hours: float = 0.0


class Summary(msgspec.Struct, frozen=True, gc=False):
    """Totals, win rate and its uncertainty for one currency; None where a figure is undefined."""

    currency: str | None
    sessions: int
    hours: float
    profit: int
    net_profit: int
    win_rate_profit: int
    hourly: int | None
    bb_per_hour: float | None
    sd_per_hour: int | None
    win_rate_ci95: tuple[int, int] | None
    prob_winning: float | None
    hours_for_significance: float | None
    biggest_win: int | None
    biggest_loss: int | None
    longest_winning_streak: int
    longest_losing_streak: int
    downswings: Downswings
    entries: int
    roi: float | None
    itm_pct: float | None
    average_finish: float | None
    total_bounties: int
    # What the rate figures measure: one format, or "mixed" when asked to measure both together; None: no sessions.
    format: Measured | None = None
    # False below MIN_RELIABLE_SESSIONS timed sessions or MIN_RELIABLE_HOURS hours: the interval, P(winning) and the
    # hours still needed are then computed but not to be trusted; ``reason`` says why in the player's words.
    reliable: bool = False
    reason: str | None = None
    # Mean of place / entrants over tournaments with both: 0.10 is "on average in the top 10 % of the field".
    average_finish_percentile: float | None = None


class BankrollPoint(msgspec.Struct, frozen=True, gc=False):
    """The balance right after one session or transaction."""

    at: datetime
    kind: Literal["session", "deposit", "withdrawal", "expense"]
    change: int
    balance: int
    session_id: str | None = None


class StakeAdvice(msgspec.Struct, frozen=True, gc=False):
    """How well the bankroll covers one stake."""

    stake: str
    buy_in: int
    buy_ins_held: float
    status: Literal["comfortable", "within", "short"]


class BankrollGuidance(msgspec.Struct, frozen=True, gc=False):
    """Stake advice with hysteresis, and the risk of ruin at the player's measured win rate when asked."""

    balance: int
    rule_buy_ins: float
    hysteresis: float
    stakes: list[StakeAdvice]
    current_stake: str | None
    recommended_stake: str | None
    action: Literal["move_up", "stay", "move_down"] | None
    risk_of_ruin: float | None = None
    target_risk: float | None = None
    bankroll_for_target_risk: int | None = None


# Below this chance a drawdown is called unusual: 1 in 20, the usual significance line.
UNUSUAL: Final = 0.05

Verdict = Literal["no downswing", "normal", "unusual", "unknown"]


class DrawdownReport(msgspec.Struct, frozen=True, gc=False):
    """Is this downswing normal? The current drawdown against what the player's own w and σ predict."""

    currency: str | None
    current: int
    current_sessions: int
    current_hours: float
    deepest: int
    hourly: int | None
    sd_per_hour: int | None
    probability: float | None
    balance: int
    risk_of_ruin: float | None
    verdict: Verdict
    # The verdict and probability rest on w and σ: below the sample the summary trusts they are marked unreliable.
    reliable: bool = False
    reason: str | None = None


class CalendarDay(msgspec.Struct, frozen=True, gc=False):
    """One local playing day for the heat map."""

    day: date
    sessions: int
    profit: int
    win_rate_profit: int
    hours: float


def session_row(state: SessionState) -> SessionRow:
    """Build the statistics row of an ended session from the reducer's state (the one place profit is computed).

    Raises:
        InvalidInput: the session has not ended.
    """
    if state.status != "ended" or state.started_at is None or state.ended_at is None:
        raise InvalidInput(f"session {state.session_id!r} has status {state.status!r}; statistics need ended sessions")
    return SessionRow(
        session_id=state.session_id,
        format=state.format,
        game=state.game,
        currency=state.currency,
        small_blind=state.small_blind,
        big_blind=state.big_blind,
        location=state.location,
        started_at=state.started_at.astimezone(UTC),
        ended_at=state.ended_at.astimezone(UTC),
        utc_offset_minutes=state.utc_offset_minutes,
        played_seconds=state.played_seconds,
        invested=state.invested,
        profit=state.profit,
        win_rate_profit=state.win_rate_profit,
        net_profit=state.net_profit,
        buy_in=state.buy_in,
        fee=state.fee,
        place=state.place,
        entrants=state.entrants,
        prize=state.prize,
        bounties=state.bounties,
        tags=list(state.tags),
    )


# --- summary ---------------------------------------------------------------------------------------------------


def summary(rows: Iterable[SessionRow], *, mix_formats: bool = False) -> Summary:
    """Totals, win rate, standard deviation, confidence, streaks, downswings and tournament figures.

    Args:
        rows: finished sessions of one currency and one format, in any order.
        mix_formats: measure cash games and tournaments together (one win rate, one SD) when the rows hold both.

    Returns:
        The summary; figures that need more data (an SD needs two timed sessions) are None.

    Raises:
        InvalidInput: the rows mix currencies, or formats without ``mix_formats``, or a start time has no time zone.
    """
    ordered = _chronological(rows)
    currency = _single_currency(ordered, "summary")
    measured = _single_format(ordered, "summary", mix_formats)
    seconds = sum(r.played_seconds for r in ordered)
    played = hours(seconds)
    wr_profit = sum(r.win_rate_profit for r in ordered)
    w = per_hour(wr_profit, seconds)
    sigma = _sigma_per_hour(ordered, w)
    timed = sum(1 for r in ordered if r.played_seconds > 0)
    reliable, reason = sample_reliability(timed, played)
    wins = [r.profit for r in ordered if r.profit > 0]
    losses = [r.profit for r in ordered if r.profit < 0]
    win_streak, loss_streak = _streaks(ordered)
    tournament = _tournament_figures([r for r in ordered if r.format == "tournament"])
    return Summary(
        currency=currency,
        sessions=len(ordered),
        hours=played,
        profit=sum(r.profit for r in ordered),
        net_profit=sum(r.net_profit for r in ordered),
        win_rate_profit=wr_profit,
        hourly=round(w) if w is not None else None,
        bb_per_hour=_bb_per_hour(ordered),
        sd_per_hour=round(sigma) if sigma is not None else None,
        win_rate_ci95=_ci95(w, sigma, played, timed),
        prob_winning=_prob_winning(w, sigma, played),
        hours_for_significance=_hours_for_significance(w, sigma),
        biggest_win=max(wins, default=None),
        biggest_loss=min(losses, default=None),
        longest_winning_streak=win_streak,
        longest_losing_streak=loss_streak,
        downswings=_downswings(ordered),
        entries=tournament.entries,
        roi=tournament.roi,
        itm_pct=tournament.itm_pct,
        average_finish=tournament.average_finish,
        total_bounties=tournament.total_bounties,
        format=measured,
        reliable=reliable,
        reason=reason,
        average_finish_percentile=tournament.average_finish_percentile,
    )


def _chronological(rows: Iterable[SessionRow]) -> list[SessionRow]:
    """Rows by start time, ties by id, so every figure is the same whatever order the rows came in."""
    listed = list(rows)
    for row in listed:
        if row.started_at.tzinfo is None:
            raise InvalidInput(
                f"`started_at` {row.started_at.isoformat()} of session {row.session_id!r} has no time zone"
            )
    return sorted(listed, key=lambda r: (r.started_at, r.session_id))


def _single_currency(rows: Sequence[SessionRow], what: str) -> str | None:
    currencies = sorted({r.currency for r in rows})
    if len(currencies) > 1:
        raise InvalidInput(
            f"{what} needs sessions in one currency; found {', '.join(currencies)} — filter by `currency` first"
        )
    return currencies[0] if currencies else None


def _single_format(rows: Sequence[SessionRow], what: str, mix_formats: bool) -> Measured | None:
    """The one format of the rows; "mixed" only when asked. A tournament's hours and swings are not a cash game's:
    one win rate or SD over both describes neither."""
    formats = sorted({r.format for r in rows})
    if len(formats) > 1:
        if not mix_formats:
            raise InvalidInput(
                f"{what} would mix cash games and tournaments: win rate, SD, downswings and risk are measured per "
                "format — filter by `format` (cash or tournament), or pass `mix_formats=true` to measure them together"
            )
        return "mixed"
    return formats[0] if formats else None


def _sigma_per_hour(rows: Sequence[SessionRow], w: float | None) -> float | None:
    """Maximum-likelihood SD per hour for sessions of unequal length: σ² = (1/N)·Σ(Xᵢ − w·Tᵢ)²/Tᵢ."""
    timed = [r for r in rows if r.played_seconds > 0]
    if w is None or len(timed) < 2:
        return None
    total = 0.0
    for row in timed:
        t = hours(row.played_seconds)
        total += (row.win_rate_profit - w * t) ** 2 / t
    return math.sqrt(total / len(timed))


def _bb_per_hour(rows: Sequence[SessionRow]) -> float | None:
    """Big blinds won per hour: each cash session's win-rate profit in its own big blinds, over all their hours."""
    cash = [r for r in rows if r.format == "cash" and r.big_blind > 0]
    seconds = sum(r.played_seconds for r in cash)
    if seconds == 0:
        return None
    big_blinds = sum(r.win_rate_profit / r.big_blind for r in cash)
    rate = per_hour(big_blinds, seconds)
    return None if rate is None else round(rate, 2)


def _ci95(w: float | None, sigma: float | None, hours: float, sessions: int) -> tuple[int, int] | None:
    """w ± t(0.975, N−1)·σ/√H: Student's t, since σ is itself estimated from the N timed sessions."""
    if w is None or sigma is None:
        return None
    half = t95(sessions - 1) * sigma / math.sqrt(hours)
    return round(w - half), round(w + half)


def t95(df: int) -> float:
    """The two-sided 95 % quantile t(0.975, df) of Student's t distribution.

    Table values up to 30 degrees of freedom; above, the Cornish–Fisher expansion of Abramowitz & Stegun 26.7.5
    around z = 1.959964 (error below 1e-4 from 30 on, tending to 1.96 as df grows).

    Raises:
        InvalidInput: ``df`` is below 1.
    """
    if df < 1:
        raise InvalidInput(f"`df` {df} must be at least 1 degree of freedom")
    if df <= len(T975):
        return T975[df - 1]
    z = 1.959964
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    g4 = (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160
    return z + g1 / df + g2 / df**2 + g3 / df**3 + g4 / df**4


def sample_reliability(sessions: int, hours: float) -> tuple[bool, str | None]:
    """Whether a sample is large enough to trust its interval, P(winning) and downswing verdict, and if not why."""
    if sessions >= MIN_RELIABLE_SESSIONS and hours >= MIN_RELIABLE_HOURS:
        return True, None
    return False, (
        f"not enough data yet: {sessions} session{'s' if sessions != 1 else ''} and {hours:.1f} hours; "
        f"the interval, P(winning) and the downswing verdict need at least {MIN_RELIABLE_SESSIONS} sessions "
        f"and {MIN_RELIABLE_HOURS} hours"
    )


def _prob_winning(w: float | None, sigma: float | None, hours: float) -> float | None:
    """Φ(w·√H/σ): the chance the true win rate is above zero given what was measured (flat prior)."""
    if w is None or sigma is None:
        return None
    if sigma == 0:
        # No measured spread: the limit of Φ as σ → 0.
        return 1.0 if w > 0 else 0.0 if w < 0 else 0.5
    return NormalDist().cdf(w * math.sqrt(hours) / sigma)


def _hours_for_significance(w: float | None, sigma: float | None) -> float | None:
    """Hours H after which 1.96·σ/√H < |w|, i.e. (1.96·σ/w)²."""
    if w is None or sigma is None or w == 0:
        return None
    return (Z95 * sigma / w) ** 2


def _streaks(rows: Sequence[SessionRow]) -> tuple[int, int]:
    """Longest runs of winning and losing sessions in a row; a break-even session ends both."""
    best_win = best_loss = run_win = run_loss = 0
    for row in rows:
        run_win = run_win + 1 if row.profit > 0 else 0
        run_loss = run_loss + 1 if row.profit < 0 else 0
        best_win, best_loss = max(best_win, run_win), max(best_loss, run_loss)
    return best_win, best_loss


class _TournamentFigures(msgspec.Struct, frozen=True, gc=False):
    entries: int = 0
    roi: float | None = None
    itm_pct: float | None = None
    average_finish: float | None = None
    average_finish_percentile: float | None = None
    total_bounties: int = 0


def _tournament_figures(rows: Sequence[SessionRow]) -> _TournamentFigures:
    """ROI = Σ(prize + bounties − cost)/Σcost where cost is everything invested (buy-in, fee, re-entries)."""
    if not rows:
        return _TournamentFigures()
    cost = sum(r.invested for r in rows)
    returned = sum(r.prize + r.bounties for r in rows)
    places = [r.place for r in rows if r.place is not None]
    fields = [r.place / r.entrants for r in rows if r.place is not None and r.entrants]
    return _TournamentFigures(
        entries=len(rows),
        roi=(returned - cost) / cost if cost > 0 else None,
        itm_pct=sum(1 for r in rows if r.prize > 0) / len(rows),
        average_finish=sum(places) / len(places) if places else None,
        average_finish_percentile=sum(fields) / len(fields) if fields else None,
        total_bounties=sum(r.bounties for r in rows),
    )


# --- downswings ------------------------------------------------------------------------------------------------


def downswings(rows: Iterable[SessionRow], *, mix_formats: bool = False) -> Downswings:
    """Deepest, longest and current drawdown of the cumulative win-rate profit curve in chronological order.

    The curve starts at 0 before the first session, so a losing start is a downswing. A downswing runs from a
    peak until a session brings the curve back to that peak (that session included) or until the last session.

    Raises:
        InvalidInput: the rows mix currencies, or formats without ``mix_formats``.
    """
    ordered = _chronological(rows)
    _single_currency(ordered, "downswings")
    _single_format(ordered, "downswings", mix_formats)
    return _downswings(ordered)


def _downswings(rows: Sequence[SessionRow]) -> Downswings:
    cumulative = peak = deepest = 0
    peak_at: datetime | None = None
    deepest_span: tuple[datetime | None, datetime | None] = (None, None)
    under_sessions = longest_sessions = under_seconds = longest_seconds = 0
    for row in rows:
        cumulative += row.win_rate_profit
        if under_sessions or cumulative < peak:
            under_sessions += 1
            under_seconds += row.played_seconds
            longest_sessions = max(longest_sessions, under_sessions)
            longest_seconds = max(longest_seconds, under_seconds)
        if cumulative >= peak:
            peak, peak_at = cumulative, row.ended_at
            under_sessions = under_seconds = 0
        elif peak - cumulative > deepest:
            deepest, deepest_span = peak - cumulative, (peak_at, row.ended_at)
    return Downswings(
        deepest=deepest,
        deepest_peak_at=deepest_span[0],
        deepest_trough_at=deepest_span[1],
        longest_sessions=longest_sessions,
        longest_hours=hours(longest_seconds),
        current=peak - cumulative,
        current_sessions=under_sessions,
        current_hours=hours(under_seconds),
    )


# --- risk ------------------------------------------------------------------------------------------------------


def drawdown_probability(depth: float, w: float, sigma: float) -> float:
    """Chance that, from any given point (such as a new peak), the bankroll ever falls ``depth`` below it.

    For Brownian motion with drift ``w`` and SD ``sigma`` per hour the all-time minimum below the start is
    exponential: P = exp(−2·w·depth/σ²) for w > 0, and 1 when w ≤ 0. Answers "is this downswing normal?".

    Args:
        depth: the drawdown in minor units.
        w: win rate in minor units per hour.
        sigma: standard deviation in minor units per hour.

    Raises:
        InvalidInput: ``sigma`` is negative.
    """
    _check_sigma(sigma)
    if depth <= 0 or w <= 0:
        return 1.0
    if sigma == 0:
        return 0.0
    return math.exp(-2 * w * depth / sigma**2)


def risk_of_ruin(bankroll: float, w: float, sigma: float) -> float:
    """Chance of ever losing the whole ``bankroll``: exp(−2·w·B/σ²), 1 when w ≤ 0 (Chen & Ankenman ch. 22).

    Raises:
        InvalidInput: ``sigma`` is negative.
    """
    return drawdown_probability(bankroll, w, sigma)


def bankroll_for_risk(risk: float, w: float, sigma: float) -> int | None:
    """Smallest bankroll (minor units, rounded up) whose risk of ruin is at most ``risk``: −σ²·ln(risk)/(2w).

    Returns:
        The bankroll, or None when w ≤ 0 (no bankroll is enough).

    Raises:
        InvalidInput: ``risk`` is not strictly between 0 and 1, or ``sigma`` is negative.
    """
    _check_sigma(sigma)
    if not 0 < risk < 1:
        raise InvalidInput(f"`risk` {risk} must be strictly between 0 and 1")
    if w <= 0:
        return None
    return math.ceil(-(sigma**2) * math.log(risk) / (2 * w))


def _check_sigma(sigma: float) -> None:
    if sigma < 0:
        raise InvalidInput(f"`sigma` {sigma} is negative; a standard deviation is ≥ 0")


# --- breakdowns and calendar -----------------------------------------------------------------------------------


def breakdown(
    rows: Iterable[SessionRow], by: str, day_starts_at_hour: int = 0, *, mix_formats: bool = False
) -> dict[str, Summary]:
    """Split the sessions into groups and summarise each; every session lands in exactly one group.

    Args:
        rows: finished sessions of one currency.
        by: one of ``BREAKDOWNS``: stakes ('NLH 1/2', tournaments 'NLH 100+10'), game, format, location, weekday
            ('Monday'…), hour ('00'…'23' local start hour), length ('<2h', '2-4h', '4-6h', '6h+') or month
            ('2026-01').
        day_starts_at_hour: local hour at which the player's day begins, so a 23:00–03:00 session is one day.
        mix_formats: allow groups that hold cash games and tournaments together (never needed by stakes or format).

    Returns:
        Summaries by label; weekday, hour, length and month come in their natural order, stakes by game and
        amount, the others sorted.

    Raises:
        InvalidInput: unknown ``by``, a bad ``day_starts_at_hour``, mixed currencies, or mixed formats in a
            grouping that would put both in one group without ``mix_formats``.
    """
    if by not in BREAKDOWNS:
        raise InvalidInput(f"`by` {by!r} is not a breakdown; allowed: {', '.join(BREAKDOWNS)}")
    _check_day_start(day_starts_at_hour)
    ordered = _chronological(rows)
    _single_currency(ordered, "breakdown")
    if by not in ONE_FORMAT_PER_GROUP:
        _single_format(ordered, f"breakdown by {by}", mix_formats)
    label = _labeller(by, day_starts_at_hour)
    groups: dict[str, list[SessionRow]] = defaultdict(list)
    for row in ordered:
        groups[label(row)].append(row)
    return {key: summary(groups[key], mix_formats=True) for key in _label_order(by, groups, day_starts_at_hour)}


def _labeller(by: str, day_start: int) -> Callable[[SessionRow], str]:
    labellers: dict[str, Callable[[SessionRow], str]] = {
        "stakes": stake_label,
        "game": lambda r: r.game,
        "format": lambda r: r.format,
        "location": lambda r: r.location or "unknown",
        "weekday": lambda r: WEEKDAYS[playing_day(r, day_start).weekday()],
        "hour": lambda r: f"{local_start(r).hour:02d}",
        "length": _length_label,
        "month": lambda r: playing_day(r, day_start).strftime("%Y-%m"),
    }
    return labellers[by]


def _label_order(by: str, groups: dict[str, list[SessionRow]], day_start: int) -> list[str]:
    if by == "weekday":
        return [d for d in WEEKDAYS if d in groups]
    if by == "hour":
        # The player's day order: with a 06:00 day start, 05:00 comes last.
        return [f"{(day_start + i) % 24:02d}" for i in range(24) if f"{(day_start + i) % 24:02d}" in groups]
    if by == "length":
        return [b for b in LENGTHS if b in groups]
    if by == "stakes":
        return sorted(groups, key=lambda label: stake_order(groups[label][0]))
    return sorted(groups)


def _length_label(row: SessionRow) -> str:
    played = hours(row.played_seconds)
    if played < 2:
        return "<2h"
    if played < 4:
        return "2-4h"
    return "4-6h" if played < 6 else "6h+"


def stake_label(row: SessionRow) -> str:
    """The game and its stake: 'NLH 1/2' for blinds 100/200 USD, 'PLO 0.50/1' for 50/100; 'NLH 100+10' for a
    tournament. NLH and PLO at the same blinds are different games, so different stakes."""
    if row.format == "tournament":
        buy_in = _bare(row.buy_in, row.currency)
        stake = f"{buy_in}+{_bare(row.fee, row.currency)}" if row.fee else buy_in
        return f"{row.game} {stake}"
    return cash_stake_label(row.game, row.small_blind, row.big_blind, row.currency)


def cash_stake_label(game: str, small_blind: int, big_blind: int, currency: str) -> str:
    """A cash game's stake label, 'NLH 1/2': the one ``stake_label`` gives its sessions."""
    return f"{game} {_bare(small_blind, currency)}/{_bare(big_blind, currency)}"


def group_label(row: SessionRow, by: str, day_starts_at_hour: int = 0) -> str:
    """The label of the breakdown group ``by`` that ``row`` falls in ('Monday', 'NLH 1/2', '2026-01' …).

    Raises:
        InvalidInput: unknown ``by``.
    """
    if by not in BREAKDOWNS:
        raise InvalidInput(f"`by` {by!r} is not a breakdown; allowed: {', '.join(BREAKDOWNS)}")
    return _labeller(by, day_starts_at_hour)(row)


def stake_order(row: SessionRow) -> tuple[str, str, int, int]:
    """Where a stake stands in a list: cash games first, by game, then by amount (1/2 before 10/20, never as text)."""
    if row.format == "tournament":
        return (row.format, row.game, row.buy_in + row.fee, row.fee)
    return (row.format, row.game, row.big_blind, row.small_blind)


def resolve_stake(asked: str, stakes: Iterable[str]) -> str:
    """The stake label a player means: the label itself, or blinds alone ('1/2') when one game is played at them.

    Raises:
        InvalidInput: no stake matches, or the blinds alone match stakes in several games.
    """
    labels = list(stakes)
    if asked in labels:
        return asked
    matches = [label for label in labels if label.split(" ", 1)[-1] == asked]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise InvalidInput(
            f"`current_stake` {asked!r} is played in several games: {', '.join(matches)}; name the game, "
            f"such as {matches[0]!r}"
        )
    raise InvalidInput(f"`current_stake` {asked!r} is not one of {', '.join(labels) or 'no stakes'}")


def _bare(amount: int, currency: str) -> str:
    """Major units without the currency, grouping or a zero fraction: 100 USD → '1', 250 → '2.50'."""
    return format_money(amount, currency, whole=True, symbol=False, grouping=False)


def local_start(row: SessionRow) -> datetime:
    """Wall-clock start time where the session was played (naive), from UTC plus the device's offset."""
    return row.started_at.astimezone(UTC).replace(tzinfo=None) + timedelta(minutes=row.utc_offset_minutes)


def playing_day(row: SessionRow, day_starts_at_hour: int = 0) -> date:
    """The player's day a session belongs to: its local start, with hours before the day start on the day before."""
    return (local_start(row) - timedelta(hours=day_starts_at_hour)).date()


def _check_day_start(hour: int) -> None:
    if not 0 <= hour <= 23:
        raise InvalidInput(f"`day_starts_at_hour` {hour} must be an hour from 0 to 23")


def calendar(rows: Iterable[SessionRow], day_starts_at_hour: int = 0) -> list[CalendarDay]:
    """Profit and hours per local playing day, oldest first, for a heat map.

    Raises:
        InvalidInput: a bad ``day_starts_at_hour`` or mixed currencies.
    """
    _check_day_start(day_starts_at_hour)
    ordered = _chronological(rows)
    _single_currency(ordered, "calendar")
    days: dict[date, list[SessionRow]] = defaultdict(list)
    for row in ordered:
        days[playing_day(row, day_starts_at_hour)].append(row)
    return [
        CalendarDay(
            day=day,
            sessions=len(group),
            profit=sum(r.profit for r in group),
            win_rate_profit=sum(r.win_rate_profit for r in group),
            hours=hours(sum(r.played_seconds for r in group)),
        )
        for day, group in sorted(days.items())
    ]


# --- bankroll --------------------------------------------------------------------------------------------------

_SIGN: Final = {"deposit": 1, "withdrawal": -1, "expense": -1}


def bankroll_curve(
    rows: Iterable[SessionRow],
    transactions: Iterable[TransactionRow],
    *,
    first: date | None = None,
    last: date | None = None,
    day_starts_at_hour: int = 0,
) -> dict[str, list[BankrollPoint]]:
    """Balance over time per currency: deposits, minus withdrawals and expenses, plus each session's net profit.

    Sessions count at their end, with net profit (tips leave the bankroll); currencies are never mixed.
    At equal times transactions come before sessions. With ``first``/``last`` only the points of those playing
    days are listed, but every balance still counts everything before them (the balance carried in).

    Args:
        rows: finished sessions.
        transactions: deposits, withdrawals and expenses.
        first: first playing day to list: a session's is its local start day (``playing_day``), a transaction's
            its UTC day, both moved back a day before ``day_starts_at_hour``.
        last: last playing day to list.
        day_starts_at_hour: local hour at which the player's day begins.

    Raises:
        InvalidInput: a transaction amount is negative, or a bad ``day_starts_at_hour``.
    """
    _check_day_start(day_starts_at_hour)
    moves: dict[str, list[tuple[datetime, int, str, BankrollPoint, date]]] = defaultdict(list)
    for tx in transactions:
        if tx.amount < 0:
            raise InvalidInput(f"`amount` {tx.amount} of a {tx.kind} at {tx.at.isoformat()} is negative")
        point = BankrollPoint(at=tx.at, kind=tx.kind, change=_SIGN[tx.kind] * tx.amount, balance=0)
        day = (tx.at.astimezone(UTC) - timedelta(hours=day_starts_at_hour)).date()
        moves[tx.currency].append((tx.at, 0, "", point, day))
    for row in rows:
        point = BankrollPoint(
            at=row.ended_at, kind="session", change=row.net_profit, balance=0, session_id=row.session_id
        )
        moves[row.currency].append((row.ended_at, 1, row.session_id, point, playing_day(row, day_starts_at_hour)))
    curves: dict[str, list[BankrollPoint]] = {}
    for currency in sorted(moves):
        balance = 0
        curve = []
        for _, _, _, point, day in sorted(moves[currency], key=lambda m: m[:3]):
            balance += point.change
            if (first is None or day >= first) and (last is None or day <= last):
                curve.append(msgspec.structs.replace(point, balance=balance))
        curves[currency] = curve
    return curves


def bankroll_guidance(
    balance: int,
    buy_in_by_stake: dict[str, int],
    rule_buy_ins: float = 30,
    current_stake: str | None = None,
    hysteresis: float = 0.2,
    *,
    win_rate: float | None = None,
    sigma: float | None = None,
    target_risk: float | None = None,
) -> BankrollGuidance:
    """Buy-ins held per stake and whether to move up, stay or move down, without flip-flopping at the line.

    Move up to the highest stake where buy-ins ≥ rule·(1 + h); move down when the current stake drops below
    rule·(1 − h), to the highest lower stake with at least ``rule`` buy-ins (or the lowest stake). Between the
    two lines the player stays. Without ``current_stake`` the recommendation is the highest stake with ``rule``
    buy-ins and there is no action.

    Args:
        balance: bankroll in minor units.
        buy_in_by_stake: a standard buy-in per stake label, e.g. {'NLH 1/2': 20000, 'NLH 2/5': 50000}.
        rule_buy_ins: buy-ins the player wants to hold for the stake played.
        current_stake: the stake played now, one of ``buy_in_by_stake`` (or its blinds alone, see ``resolve_stake``).
        hysteresis: the band h around the rule, 0 ≤ h < 1.
        win_rate: measured win rate (minor units/hour) for the risk figures.
        sigma: measured SD (minor units/hour) for the risk figures.
        target_risk: a wanted risk of ruin; with ``win_rate`` and ``sigma`` gives the bankroll it needs.

    Raises:
        InvalidInput: a non-positive rule or buy-in, a hysteresis outside [0, 1), an unknown current stake.
    """
    _check_guidance(buy_in_by_stake, rule_buy_ins, hysteresis)
    if current_stake is not None:
        current_stake = resolve_stake(current_stake, buy_in_by_stake)
    up, down = rule_buy_ins * (1 + hysteresis), rule_buy_ins * (1 - hysteresis)
    ladder = sorted(buy_in_by_stake.items(), key=lambda item: (item[1], item[0]))
    advice = [_stake_advice(stake, buy_in, balance, up, down) for stake, buy_in in ladder]
    recommended, action = _recommend(advice, current_stake, rule_buy_ins, up, down)
    ruin, needed = _measured_risk(balance, win_rate, sigma, target_risk)
    return BankrollGuidance(
        balance=balance,
        rule_buy_ins=rule_buy_ins,
        hysteresis=hysteresis,
        stakes=advice,
        current_stake=current_stake,
        recommended_stake=recommended,
        action=action,
        risk_of_ruin=ruin,
        target_risk=target_risk,
        bankroll_for_target_risk=needed,
    )


def _measured_risk(
    balance: int, win_rate: float | None, sigma: float | None, target_risk: float | None
) -> tuple[float | None, int | None]:
    """Risk of ruin of the balance, and the bankroll for the target risk, when w and σ were measured."""
    if win_rate is None or sigma is None:
        return None, None
    needed = bankroll_for_risk(target_risk, win_rate, sigma) if target_risk is not None else None
    return risk_of_ruin(balance, win_rate, sigma), needed


def _check_guidance(stakes: dict[str, int], rule: float, hysteresis: float) -> None:
    if not (math.isfinite(rule) and rule > 0):
        raise InvalidInput(f"`rule` {rule} (buy-ins to hold) must be a number > 0, such as 30")
    if not 0 <= hysteresis < 1:
        raise InvalidInput(f"`hysteresis` {hysteresis} must be at least 0 and below 1")
    bad = [f"{stake}={buy_in}" for stake, buy_in in stakes.items() if buy_in <= 0]
    if bad:
        raise InvalidInput(f"`buy_in_by_stake` has buy-ins that are not > 0: {', '.join(bad)}")


def _stake_advice(stake: str, buy_in: int, balance: int, up: float, down: float) -> StakeAdvice:
    held = balance / buy_in
    status: Literal["comfortable", "within", "short"] = (
        "comfortable" if held >= up else "within" if held >= down else "short"
    )
    return StakeAdvice(stake=stake, buy_in=buy_in, buy_ins_held=held, status=status)


def _recommend(
    ladder: list[StakeAdvice], current: str | None, rule: float, up: float, down: float
) -> tuple[str | None, Literal["move_up", "stay", "move_down"] | None]:
    if not ladder:
        return None, None
    if current is None:
        rolled = [a for a in ladder if a.buy_ins_held >= rule]
        return (rolled[-1] if rolled else ladder[0]).stake, None
    index = next(i for i, a in enumerate(ladder) if a.stake == current)
    higher = [a for a in ladder[index + 1 :] if a.buy_ins_held >= up]
    if higher:
        return higher[-1].stake, "move_up"
    if ladder[index].buy_ins_held >= down or index == 0:
        return current, "stay"
    lower = [a for a in ladder[:index] if a.buy_ins_held >= rule]
    return (lower[-1] if lower else ladder[0]).stake, "move_down"
