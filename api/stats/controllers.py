"""Statistics routes: summary, breakdowns, calendar, bankroll curve, stake guidance and "is this downswing normal?".

Every route takes the shared filters (currency, from, to, format, tags, day_starts_at, mix_formats) through the one
``filters`` dependency of ``api/stats/deps.py``.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.di import NamedDependency, Provide
from litestar.params import QueryParameter

from api.stats.deps import provide_stats, provide_stats_query
from api.stats.service import StatsService
from api.stats.warehouse import StatsQuery
from shared.stats import BankrollGuidance, BankrollPoint, CalendarDay, DrawdownReport, Summary


class StatsController(Controller):
    path = "/api/v1/stats"
    tags = ["stats"]
    dependencies = {
        "stats": Provide(provide_stats, sync_to_thread=False),
        "filters": Provide(provide_stats_query, sync_to_thread=False),
    }

    @get("/summary", summary="Totals, win rate with its uncertainty, streaks, downswings, tournament figures")
    async def summary(
        self,
        stats: NamedDependency[StatsService],
        filters: NamedDependency[StatsQuery],
    ) -> Summary:
        return await stats.summary(filters)

    @get("/breakdown", summary="One summary per stake, game, format, location, weekday, hour, length or month")
    async def breakdown(
        self,
        stats: NamedDependency[StatsService],
        filters: NamedDependency[StatsQuery],
        by: Annotated[str, QueryParameter(description="stakes|game|format|location|weekday|hour|length|month")],
    ) -> dict[str, Summary]:
        return await stats.breakdown(filters, by)

    @get("/calendar", summary="Profit and hours per local playing day")
    async def calendar(
        self,
        stats: NamedDependency[StatsService],
        filters: NamedDependency[StatsQuery],
    ) -> list[CalendarDay]:
        return await stats.calendar(filters)

    @get("/bankroll", summary="Balance after every session and transaction, per currency")
    async def bankroll(
        self,
        stats: NamedDependency[StatsService],
        filters: NamedDependency[StatsQuery],
    ) -> dict[str, list[BankrollPoint]]:
        return await stats.bankroll(filters)

    @get("/guidance", summary="Buy-ins held per stake, move up / stay / move down, risk of ruin")
    async def guidance(
        self,
        stats: NamedDependency[StatsService],
        filters: NamedDependency[StatsQuery],
        rule: Annotated[float, QueryParameter(description="Buy-ins to hold for the stake played")] = 30,
        current_stake: Annotated[str | None, QueryParameter(description="Stake played now: NLH 1/2 (or 1/2)")] = None,
        target_risk: Annotated[float | None, QueryParameter(description="Wanted risk of ruin, 0–1")] = None,
        hysteresis: Annotated[float, QueryParameter(description="Band around the rule, 0 ≤ h < 1")] = 0.2,
        buy_in: Annotated[str, QueryParameter(description="standard (100 bb) or usual (median buy-in)")] = "standard",
    ) -> BankrollGuidance:
        return await stats.guidance(
            filters,
            rule=rule,
            current_stake=current_stake,
            target_risk=target_risk,
            hysteresis=hysteresis,
            buy_in=buy_in,
        )

    @get("/drawdown", summary="Is this downswing normal? Current drawdown against the player's own w and σ")
    async def drawdown(
        self,
        stats: NamedDependency[StatsService],
        filters: NamedDependency[StatsQuery],
    ) -> DrawdownReport:
        return await stats.drawdown(filters)
