"""Statistics routes: summary, breakdowns, calendar, bankroll curve, stake guidance and "is this downswing normal?"."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from api.accounts import Principal
from api.stats.cache import figure_cache
from api.stats.service import DrawdownReport, StatsService
from api.stats.warehouse import StatsQuery
from shared.stats import BankrollGuidance, BankrollPoint, CalendarDay, Summary

# The shared filters, spelled once: every figure below accepts them.
Currency = Annotated[str | None, QueryParameter(description="ISO 4217 code; required when sessions use several")]
From = Annotated[str | None, QueryParameter(name="from", description="First playing day, YYYY-MM-DD")]
To = Annotated[str | None, QueryParameter(name="to", description="Last playing day, YYYY-MM-DD")]
Format = Annotated[str | None, QueryParameter(name="format", description="cash or tournament")]
Tags = Annotated[list[str] | None, QueryParameter(description="Sessions with all these tags (comma-separated)")]
DayStart = Annotated[int, QueryParameter(description="Local hour at which the player's day begins, 0–23")]
MixFormats = Annotated[
    bool,
    QueryParameter(
        description="Measure cash games and tournaments together (one win rate, SD, ladder); by default refused "
        "when the selection holds both: pass `format` instead"
    ),
]


def _query(
    currency: str | None,
    from_: str | None,
    to: str | None,
    format_: str | None,
    tags: list[str] | None,
    day: int,
    mix: bool = False,
) -> StatsQuery:
    return StatsQuery.parse(
        currency=currency, start=from_, end=to, format=format_, tags=tags, day_starts_at=day, mix_formats=mix
    )


class StatsController(Controller):
    path = "/api/v1/stats"
    tags = ["stats"]

    @get("/summary", summary="Totals, win rate with its uncertainty, streaks, downswings, tournament figures")
    async def summary(
        self,
        state: State,
        principal: NamedDependency[Principal],
        currency: Currency = None,
        from_: From = None,
        to: To = None,
        format_: Format = None,
        tags: Tags = None,
        day_starts_at: DayStart = 0,
        mix_formats: MixFormats = False,
    ) -> Summary:
        query = _query(currency, from_, to, format_, tags, day_starts_at, mix_formats)
        return await StatsService(state.warehouse, principal.user_id, figure_cache(state)).summary(query)

    @get("/breakdown", summary="One summary per stake, game, format, location, weekday, hour, length or month")
    async def breakdown(
        self,
        state: State,
        principal: NamedDependency[Principal],
        by: Annotated[str, QueryParameter(description="stakes|game|format|location|weekday|hour|length|month")],
        currency: Currency = None,
        from_: From = None,
        to: To = None,
        format_: Format = None,
        tags: Tags = None,
        day_starts_at: DayStart = 0,
        mix_formats: MixFormats = False,
    ) -> dict[str, Summary]:
        query = _query(currency, from_, to, format_, tags, day_starts_at, mix_formats)
        return await StatsService(state.warehouse, principal.user_id, figure_cache(state)).breakdown(query, by)

    @get("/calendar", summary="Profit and hours per local playing day")
    async def calendar(
        self,
        state: State,
        principal: NamedDependency[Principal],
        currency: Currency = None,
        from_: From = None,
        to: To = None,
        format_: Format = None,
        tags: Tags = None,
        day_starts_at: DayStart = 0,
    ) -> list[CalendarDay]:
        query = _query(currency, from_, to, format_, tags, day_starts_at)
        return await StatsService(state.warehouse, principal.user_id, figure_cache(state)).calendar(query)

    @get("/bankroll", summary="Balance after every session and transaction, per currency")
    async def bankroll(
        self,
        state: State,
        principal: NamedDependency[Principal],
        currency: Currency = None,
        from_: From = None,
        to: To = None,
        format_: Format = None,
        tags: Tags = None,
        day_starts_at: DayStart = 0,
    ) -> dict[str, list[BankrollPoint]]:
        query = _query(currency, from_, to, format_, tags, day_starts_at)
        return await StatsService(state.warehouse, principal.user_id, figure_cache(state)).bankroll(query)

    @get("/guidance", summary="Buy-ins held per stake, move up / stay / move down, risk of ruin")
    async def guidance(
        self,
        state: State,
        principal: NamedDependency[Principal],
        currency: Currency = None,
        rule: Annotated[float, QueryParameter(description="Buy-ins to hold for the stake played")] = 30,
        current_stake: Annotated[str | None, QueryParameter(description="Stake played now: NLH 1/2 (or 1/2)")] = None,
        target_risk: Annotated[float | None, QueryParameter(description="Wanted risk of ruin, 0–1")] = None,
        hysteresis: Annotated[float, QueryParameter(description="Band around the rule, 0 ≤ h < 1")] = 0.2,
        buy_in: Annotated[str, QueryParameter(description="standard (100 bb) or usual (median buy-in)")] = "standard",
        from_: From = None,
        to: To = None,
        format_: Format = None,
        tags: Tags = None,
        day_starts_at: DayStart = 0,
        mix_formats: MixFormats = False,
    ) -> BankrollGuidance:
        query = _query(currency, from_, to, format_, tags, day_starts_at, mix_formats)
        return await StatsService(state.warehouse, principal.user_id, figure_cache(state)).guidance(
            query, rule=rule, current_stake=current_stake, target_risk=target_risk, hysteresis=hysteresis, buy_in=buy_in
        )

    @get("/drawdown", summary="Is this downswing normal? Current drawdown against the player's own w and σ")
    async def drawdown(
        self,
        state: State,
        principal: NamedDependency[Principal],
        currency: Currency = None,
        from_: From = None,
        to: To = None,
        format_: Format = None,
        tags: Tags = None,
        day_starts_at: DayStart = 0,
        mix_formats: MixFormats = False,
    ) -> DrawdownReport:
        query = _query(currency, from_, to, format_, tags, day_starts_at, mix_formats)
        return await StatsService(state.warehouse, principal.user_id, figure_cache(state)).drawdown(query)
