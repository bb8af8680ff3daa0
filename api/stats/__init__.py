"""Statistics over finished sessions read from ClickHouse: summary, breakdowns, calendar, bankroll, guidance."""

from api.stats.controllers import StatsController
from api.stats.service import StatsService
from api.stats.warehouse import StatsQuery

__all__ = ["StatsController", "StatsQuery", "StatsService"]
