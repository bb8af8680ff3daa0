"""Queries: each resolver finds the caller, then calls the service the REST route calls, with the same arguments."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

import strawberry
from litestar.exceptions import NotFoundException
from strawberry.types import Info

from api.accounts import Principal
from api.alerts import AlertReader
from api.devices.service import DeviceService, DeviceView
from api.exports.service import ExportService, TransactionRecord
from api.graphql.context import Context, principal
from api.graphql.limits import MAX_PAGE, check_page
from api.graphql.types import JSON, object_type
from api.sessions.live import SessionReader
from api.stats.service import StatsService
from api.stats.warehouse import StatsQuery
from shared.errors import InvalidInput
from shared.events import to_wire
from shared.reducer import LiveView, SessionSummary
from shared.stats import BankrollGuidance, BankrollPoint, CalendarDay, DrawdownReport, Summary
from shared.tilt_policy import Alert

Ctx = Info[Context, None]


@strawberry.type(description="The caller: the user and the device whose token was presented")
class Me:
    user_id: str
    user_name: str
    device_id: str


@strawberry.input(description="The filters every statistic shares, as the REST query parameters of /api/v1/stats")
class StatsFilter:
    currency: str | None = strawberry.field(default=None, description="ISO 4217 code; needed when several are used")
    from_: str | None = strawberry.field(name="from", default=None, description="First playing day, YYYY-MM-DD")
    to: str | None = strawberry.field(default=None, description="Last playing day, YYYY-MM-DD")
    format: str | None = strawberry.field(default=None, description="cash or tournament")
    tags: list[str] | None = strawberry.field(default=None, description="Sessions with all these tags")
    day_starts_at: int = strawberry.field(default=0, description="Local hour at which the player's day begins")
    mix_formats: bool = strawberry.field(
        default=False, description="Measure cash games and tournaments together; by default they are kept apart"
    )
    game: str | None = strawberry.field(default=None, description="Only sessions of this game, such as NLH")
    location: str | None = strawberry.field(default=None, description="Only sessions played at this location")
    group: str | None = strawberry.field(
        default=None, description="Only one breakdown group, by:label such as weekday:Monday or stakes:NLH 1/2"
    )

    def query(self) -> StatsQuery:
        """Checked by the same parser as REST (InvalidInput → BAD_USER_INPUT naming the field)."""
        return StatsQuery.parse(
            currency=self.currency,
            start=self.from_,
            end=self.to,
            format=self.format,
            tags=self.tags,
            day_starts_at=self.day_starts_at,
            mix_formats=self.mix_formats,
            game=self.game,
            location=self.location,
            group=self.group,
        )


@strawberry.type(description="One group of a breakdown: its label and its summary")
class BreakdownGroup:
    key: str
    summary: Annotated[Any, strawberry.field(graphql_type=object_type(Summary))]


@strawberry.type(description="The balance after every session and transaction in one currency")
class BankrollCurve:
    currency: str
    points: Annotated[Any, strawberry.field(graphql_type=list[object_type(BankrollPoint)])]


@strawberry.type(description="Statistics over finished sessions; the numbers of /api/v1/stats with the same filters")
class Stats:
    filter: strawberry.Private[StatsFilter]
    service: strawberry.Private[StatsService]

    @strawberry.field(graphql_type=object_type(Summary), description="Totals, win rate, streaks, downswings")
    async def summary(self) -> Summary:
        return await self.service.summary(self.filter.query())

    @strawberry.field(description="One summary per stakes|game|format|location|weekday|hour|length|month")
    async def breakdown(self, by: str) -> list[BreakdownGroup]:
        groups = await self.service.breakdown(self.filter.query(), by)
        return [BreakdownGroup(key=key, summary=summary) for key, summary in groups.items()]

    @strawberry.field(graphql_type=list[object_type(CalendarDay)], description="Profit and hours per playing day")  # type: ignore[misc]
    async def calendar(self) -> list[CalendarDay]:
        return await self.service.calendar(self.filter.query())

    @strawberry.field(description="Balance after every session and transaction, per currency")
    async def bankroll(self) -> list[BankrollCurve]:
        curves = await self.service.bankroll(self.filter.query())
        return [BankrollCurve(currency=currency, points=points) for currency, points in curves.items()]

    @strawberry.field(graphql_type=object_type(BankrollGuidance), description="Buy-ins held per stake, risk of ruin")
    async def guidance(
        self,
        rule: float = 30,
        current_stake: str | None = None,
        target_risk: float | None = None,
        hysteresis: float = 0.2,
        buy_in: str = "standard",
    ) -> BankrollGuidance:
        return await self.service.guidance(
            self.filter.query(),
            rule=rule,
            current_stake=current_stake,
            target_risk=target_risk,
            hysteresis=hysteresis,
            buy_in=buy_in,
        )

    @strawberry.field(graphql_type=object_type(DrawdownReport), description="Is this downswing normal?")
    async def drawdown(self) -> DrawdownReport:
        return await self.service.drawdown(self.filter.query())


@strawberry.type(description="One accepted event in wire form; `data` is its payload as JSON")
class Event:
    id: str
    session_id: str | None
    seq: int
    type: str
    at: str = strawberry.field(description="Device time, RFC 3339 with the device's offset")
    device: str
    data: JSON


def event_of(wire: dict[str, Any]) -> Event:
    return Event(
        id=wire["id"],
        session_id=wire.get("session_id"),
        seq=wire["seq"],
        type=wire["type"],
        at=wire["at"],
        device=wire.get("device", ""),
        data=wire.get("data", {}),
    )


@strawberry.type(description="One session of the caller: its live view and its events")
class Session:
    id: str
    owner: strawberry.Private[Principal]
    reader: strawberry.Private[SessionReader]

    @strawberry.field(graphql_type=object_type(LiveView), description="State and clock-dependent figures now")
    async def live(self) -> LiveView:
        return await self.reader.live(self.owner, self.id)

    @strawberry.field(description="Every accepted event, in reducer order")
    async def events(self) -> list[Event]:
        return [event_of(to_wire(e)) for e in await self.reader.events(self.owner, self.id)]


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class SessionEdge:
    cursor: str
    node: Annotated[Any, strawberry.field(graphql_type=object_type(SessionSummary))]


@strawberry.type(description="A page of sessions, newest first (Relay cursor connection)")
class SessionConnection:
    edges: list[SessionEdge]
    page_info: PageInfo


_CURSOR = "session:"


def cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"{_CURSOR}{offset}".encode()).decode()


def offset_after(after: str | None) -> int:
    """The position after ``after`` (a cursor from an earlier page)."""
    if after is None:
        return 0
    try:
        text = base64.urlsafe_b64decode(after.encode()).decode()
        if text.startswith(_CURSOR) and text[len(_CURSOR) :].isdigit():
            return int(text[len(_CURSOR) :]) + 1
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise InvalidInput(f"`after` {after!r} is not a cursor of this connection; pass an endCursor or a cursor")


def connection(summaries: list[SessionSummary], start: int, first: int) -> SessionConnection:
    page = summaries[:first]
    edges = [SessionEdge(cursor=cursor(start + i), node=s) for i, s in enumerate(page)]
    info = PageInfo(
        has_next_page=len(summaries) > first,
        has_previous_page=start > 0,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )
    return SessionConnection(edges=edges, page_info=info)


@strawberry.type
class Query:
    @strawberry.field(description="Who the token belongs to")
    async def me(self, info: Ctx) -> Me:
        caller = await principal(info)
        return Me(user_id=caller.user_id, user_name=caller.user_name, device_id=caller.device_id)

    @strawberry.field(
        description=(
            "The caller's sessions, newest first. Without a filter: every session, running ones too (as GET "
            "/api/v1/sessions). With a filter: the finished sessions the statistics select with it."
        )
    )
    async def sessions(
        self, info: Ctx, filter: StatsFilter | None = None, first: int = 20, after: str | None = None
    ) -> SessionConnection:
        caller = await principal(info)
        check_page("first", first)
        start = offset_after(after)
        reader = SessionReader(info.context.sessions)
        if filter is None:
            return connection(await reader.recent(caller, first + 1, start), start, first)
        rows = await StatsService(info.context.warehouse, caller.user_id, info.context.figures).sessions(filter.query())
        newest = sorted(rows, key=lambda r: (r.started_at, r.session_id), reverse=True)[start : start + first + 1]
        return connection(await reader.summaries(caller, [r.session_id for r in newest]), start, first)

    @strawberry.field(description="One of the caller's sessions; null for an unknown id or another user's session")
    async def session(self, info: Ctx, id: str) -> Session | None:
        caller = await principal(info)
        reader = SessionReader(info.context.sessions)
        try:
            await reader.live(caller, id)
        except NotFoundException:
            return None
        return Session(id=id, owner=caller, reader=reader)

    @strawberry.field(description="Statistics over the caller's finished sessions that pass the filter")
    async def stats(self, info: Ctx, filter: StatsFilter | None = None) -> Stats:
        caller = await principal(info)
        chosen = filter or StatsFilter()
        chosen.query()  # a bad filter fails here, once, not in every figure
        return Stats(filter=chosen, service=StatsService(info.context.warehouse, caller.user_id, info.context.figures))

    @strawberry.field(
        graphql_type=list[object_type(TransactionRecord)],  # type: ignore[misc]
        description="Deposits, withdrawals and expenses, oldest first (as they reached the warehouse)",
    )
    async def transactions(self, info: Ctx) -> list[TransactionRecord]:
        caller = await principal(info)
        return await ExportService(info.context.warehouse, caller.user_id).transactions()

    @strawberry.field(
        graphql_type=list[object_type(Alert)],  # type: ignore[misc]
        description=f"The latest tilt alerts, newest first (limit 1–{MAX_PAGE})",
    )
    async def alerts(self, info: Ctx, limit: int = 20) -> list[Alert]:
        caller = await principal(info)
        return await AlertReader(info.context.redis).recent(caller, check_page("limit", limit))

    @strawberry.field(
        graphql_type=list[object_type(DeviceView)],  # type: ignore[misc]
        description="The caller's devices, oldest first",
    )
    async def devices(self, info: Ctx) -> list[DeviceView]:
        caller = await principal(info)
        return await DeviceService(info.context.redis).list(caller)
