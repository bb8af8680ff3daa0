"""Statistics dependencies: the filters every figure shares, checked once, and the caller's statistics service."""

from __future__ import annotations

from typing import Annotated

from litestar.di import NamedDependency
from litestar.params import QueryParameter

from adapters.clickhouse import Warehouse
from api.accounts import Principal
from api.stats.cache import FigureCache
from api.stats.service import StatsService
from api.stats.warehouse import StatsQuery

Currency = Annotated[str | None, QueryParameter(description="ISO 4217 code; required when sessions use several")]
From = Annotated[str | None, QueryParameter(name="from", description="First playing day, YYYY-MM-DD")]
To = Annotated[str | None, QueryParameter(name="to", description="Last playing day, YYYY-MM-DD")]
Format = Annotated[str | None, QueryParameter(name="format", description="cash or tournament")]
Tags = Annotated[list[str] | None, QueryParameter(description="Sessions with all these tags (comma-separated)")]
Game = Annotated[str | None, QueryParameter(description="Only sessions of this game, such as NLH")]
Location = Annotated[str | None, QueryParameter(description="Only sessions played at this location")]
Group = Annotated[
    str | None,
    QueryParameter(description="Only one breakdown group, by:label such as weekday:Monday or stakes:NLH 1/2"),
]
DayStart = Annotated[int, QueryParameter(description="Local hour at which the player's day begins, 0–23")]
MixFormats = Annotated[
    bool,
    QueryParameter(
        description="Measure cash games and tournaments together (one win rate, SD, ladder); by default refused "
        "when the selection holds both: pass `format` instead"
    ),
]


def provide_stats_query(
    currency: Currency = None,
    from_: From = None,
    to: To = None,
    format_: Format = None,
    tags: Tags = None,
    day_starts_at: DayStart = 0,
    mix_formats: MixFormats = False,
    game: Game = None,
    location: Location = None,
    group: Group = None,
) -> StatsQuery:
    """The shared filters of every statistics route; a bad one is a 400 naming the parameter, value and rule."""
    return StatsQuery.parse(
        currency=currency,
        start=from_,
        end=to,
        format=format_,
        tags=tags,
        day_starts_at=day_starts_at,
        mix_formats=mix_formats,
        game=game,
        location=location,
        group=group,
    )


def provide_stats(
    warehouse: NamedDependency[Warehouse],
    principal: NamedDependency[Principal],
    figure_cache: NamedDependency[FigureCache],
) -> StatsService:
    return StatsService(warehouse, principal.user_id, figure_cache)
