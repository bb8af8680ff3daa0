"""Statistics for one player: finished sessions read from ClickHouse, figures computed by shared.stats."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from statistics import median
from typing import Final, TypeVar

import msgspec

from adapters.clickhouse import Warehouse
from api.stats.cache import FigureCache
from api.stats.warehouse import StatsQuery, ended_sessions, transactions
from shared import stats
from shared.errors import InvalidInput
from shared.stats import (
    UNUSUAL,
    BankrollGuidance,
    BankrollPoint,
    CalendarDay,
    DrawdownReport,
    SessionRow,
    Summary,
    Verdict,
)

T = TypeVar("T")
_ENC = msgspec.json.Encoder()

# A cash buy-in is counted as 100 big blinds, the usual full buy-in of a no-limit game.
BIG_BLINDS_PER_BUY_IN: Final = 100
BUY_IN_RULES: Final = ("standard", "usual")


class StatsService:
    """Every statistic of one user, over the filters of a ``StatsQuery``."""

    def __init__(self, rows: Warehouse, user_id: str, cache: FigureCache | None = None) -> None:
        self.rows = rows
        self.user_id = user_id
        self.cache = cache

    async def _cached(self, question: object, compute: Callable[[], Awaitable[T]]) -> T:
        if self.cache is None:
            return await compute()
        return await self.cache.get(self.rows, self.user_id, _ENC.encode(question), compute)

    async def sessions(self, query: StatsQuery) -> list[SessionRow]:
        """Finished sessions in one currency: the asked one, or the only one the player has in the selection.

        Raises:
            InvalidInput: no ``currency`` was given and the selected sessions are in several.
        """
        found = await ended_sessions(self.rows, self.user_id, query)
        if query.currency is None:
            currencies = sorted({r.currency for r in found})
            if len(currencies) > 1:
                raise InvalidInput(
                    f"`currency` is missing and the sessions are in {', '.join(currencies)}; "
                    "statistics never add two currencies, so pass ?currency= with one of them"
                )
        return found

    async def summary(self, query: StatsQuery) -> Summary:
        return await self._cached(("summary", query), lambda: self._summary(query))

    async def _summary(self, query: StatsQuery) -> Summary:
        return stats.summary(await self.sessions(query), mix_formats=query.mix_formats)

    async def breakdown(self, query: StatsQuery, by: str) -> dict[str, Summary]:
        if by not in stats.BREAKDOWNS:  # checked before the query, so a typo costs no warehouse call
            raise InvalidInput(f"`by` {by!r} is not a breakdown; allowed: {', '.join(stats.BREAKDOWNS)}")

        async def compute() -> dict[str, Summary]:
            rows = await self.sessions(query)
            return stats.breakdown(rows, by, query.day_starts_at, mix_formats=query.mix_formats)

        return await self._cached(("breakdown", by, query), compute)

    async def calendar(self, query: StatsQuery) -> list[CalendarDay]:
        async def compute() -> list[CalendarDay]:
            return stats.calendar(await self.sessions(query), query.day_starts_at)

        return await self._cached(("calendar", query), compute)

    async def bankroll(self, query: StatsQuery) -> dict[str, list[BankrollPoint]]:
        """Balance after every session (net profit) and transaction, per currency.

        ``format`` and ``tags`` pick the sessions (deposits, withdrawals and expenses belong to no format and always
        count); the date range picks the points listed, each still with the balance carried in from before.
        """

        async def compute() -> dict[str, list[BankrollPoint]]:
            every_day = msgspec.structs.replace(query, start=None, end=None)
            rows = await ended_sessions(self.rows, self.user_id, every_day)
            moves = await transactions(self.rows, self.user_id, query.currency)
            return stats.bankroll_curve(
                rows, moves, first=query.start, last=query.end, day_starts_at_hour=query.day_starts_at
            )

        return await self._cached(("bankroll", query), compute)

    async def balance(self, currency: str | None, query: StatsQuery, rows: list[SessionRow]) -> int:
        """The bankroll now: the whole history of the currency, whatever the filters of the measurement were."""
        if currency is None:
            return 0
        unfiltered = query.start is None and query.end is None and query.format is None and not query.tags
        every = rows if unfiltered else await ended_sessions(self.rows, self.user_id, StatsQuery(currency=currency))
        curve = stats.bankroll_curve(every, await transactions(self.rows, self.user_id, currency)).get(currency, [])
        return curve[-1].balance if curve else 0

    async def guidance(
        self,
        query: StatsQuery,
        *,
        rule: float,
        current_stake: str | None,
        target_risk: float | None,
        hysteresis: float,
        buy_in: str,
    ) -> BankrollGuidance:
        """Stake advice for the bankroll of the currency, with w and σ measured over the selected sessions."""
        if buy_in not in BUY_IN_RULES:
            raise InvalidInput(f"`buy_in` {buy_in!r} is not a buy-in rule; allowed: {', '.join(BUY_IN_RULES)}")
        question = ("guidance", query, rule, current_stake, target_risk, hysteresis, buy_in)
        return await self._cached(
            question, lambda: self._guidance(query, rule, current_stake, target_risk, hysteresis, buy_in)
        )

    async def _guidance(
        self,
        query: StatsQuery,
        rule: float,
        current_stake: str | None,
        target_risk: float | None,
        hysteresis: float,
        buy_in: str,
    ) -> BankrollGuidance:
        rows = await self.sessions(query)
        ladder = _one_format(rows, query, current_stake)
        figures = stats.summary(ladder, mix_formats=query.mix_formats)
        return stats.bankroll_guidance(
            await self.balance(query.currency or figures.currency, query, rows),
            buy_ins_by_stake(ladder, usual=buy_in == "usual"),
            rule,
            current_stake,
            hysteresis,
            win_rate=figures.hourly,
            sigma=figures.sd_per_hour,
            target_risk=target_risk,
        )

    async def drawdown(self, query: StatsQuery) -> DrawdownReport:
        """The current drawdown, the chance of one at least this deep, and the risk of ruin of the balance."""
        return await self._cached(("drawdown", query), lambda: self._drawdown(query))

    async def _drawdown(self, query: StatsQuery) -> DrawdownReport:
        rows = await self.sessions(query)
        figures = stats.summary(rows, mix_formats=query.mix_formats)
        swings = figures.downswings
        w, sigma = figures.hourly, figures.sd_per_hour
        balance = await self.balance(query.currency or figures.currency, query, rows)
        probability = ruin = None
        if w is not None and sigma is not None:
            probability = stats.drawdown_probability(swings.current, w, sigma)
            ruin = stats.risk_of_ruin(balance, w, sigma)
        verdict: Verdict = (
            "no downswing"
            if swings.current == 0
            else "unknown"
            if probability is None
            else "normal"
            if probability >= UNUSUAL
            else "unusual"
        )
        return DrawdownReport(
            currency=figures.currency,
            current=swings.current,
            current_sessions=swings.current_sessions,
            current_hours=swings.current_hours,
            deepest=swings.deepest,
            hourly=w,
            sd_per_hour=sigma,
            probability=probability,
            balance=balance,
            risk_of_ruin=ruin,
            verdict=verdict,
            reliable=figures.reliable,
            reason=figures.reason,
        )


def _one_format(rows: list[SessionRow], query: StatsQuery, current_stake: str | None) -> list[SessionRow]:
    """The sessions of one stake ladder: cash blinds and tournament buy-ins never share one, unless asked.

    The format is the one filtered on, else the only one played, else the format of ``current_stake``.

    Raises:
        InvalidInput: both formats were played and nothing says which ladder is meant.
    """
    formats = {r.format for r in rows}
    if query.format is not None or query.mix_formats or len(formats) < 2:
        return rows
    if current_stake is None:
        raise InvalidInput(
            "guidance needs one format: cash blinds and tournament buy-ins are different ladders — pass `format` "
            "(cash or tournament) or `current_stake`, or `mix_formats=true` for one ladder of both"
        )
    format_of = {stats.stake_label(r): r.format for r in rows}
    chosen = format_of[stats.resolve_stake(current_stake, format_of)]
    return [r for r in rows if r.format == chosen]


def buy_ins_by_stake(rows: list[SessionRow], *, usual: bool = False) -> dict[str, int]:
    """One buy-in per stake played: 100 big blinds for cash (or the player's median buy-in with ``usual``),
    buy-in plus fee for a tournament."""
    seen: dict[str, list[int]] = defaultdict(list)
    labels: dict[tuple[str, str, int, int, int, int, str], str] = {}  # a label per distinct stake, not per session
    for row in rows:
        key = (row.format, row.game, row.small_blind, row.big_blind, row.buy_in, row.fee, row.currency)
        label = labels.get(key) or labels.setdefault(key, stats.stake_label(row))
        if row.format == "tournament":
            seen[label].append(row.buy_in + row.fee)
        elif usual:
            seen[label].append(row.buy_in)
        else:
            seen[label].append(BIG_BLINDS_PER_BUY_IN * row.big_blind)
    return {label: round(median(amounts)) for label, amounts in seen.items() if median(amounts) > 0}
