"""Who is calling a GraphQL operation, and the app's services, for the resolvers.

The same tokens as REST: ``Authorization: Bearer <token>`` on the HTTP request or on the WebSocket handshake, or —
for browsers, which cannot set headers on a WebSocket — ``{"Authorization": "Bearer <token>"}`` (or
``{"token": "<token>"}``) in the ``connection_init`` payload of ``graphql-transport-ws``. Never in the URL.
"""

from __future__ import annotations

from typing import Any

from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException
from redis.asyncio import Redis
from strawberry.litestar import BaseContext
from strawberry.types import Info

from adapters.clickhouse import Warehouse
from adapters.push import PushBook
from adapters.sessions import SessionStore
from api.accounts import Accounts, Principal
from api.deps import DrainKick, bearer_token
from api.events.deps import provide_ingest
from api.events.ingest import EventTally, Ingest
from api.graphql.errors import Unauthenticated
from api.push.deps import provide_push_book
from api.stats.cache import FigureCache
from api.streams import StreamLimit
from shared.errors import NotAllowed
from shared.settings import Settings

MISSING = (
    "no token: send `Authorization: Bearer <token>` (over a WebSocket, also as "
    '{"Authorization": "Bearer <token>"} in the connection_init payload)'
)


class Context(BaseContext, kw_only=True):
    """One per HTTP request or WebSocket connection (Strawberry fills ``request`` or ``websocket``): the adapters the
    resolvers hand to the services, provided by name like every other route's."""

    redis: Redis
    sessions: SessionStore
    warehouse: Warehouse
    streams: StreamLimit
    kick: DrainKick
    ingest: Ingest
    figures: FigureCache
    push_book: PushBook
    connection_params: dict[str, Any] | None = None
    caller: Principal | None = None  # cached for one HTTP request; a WebSocket checks again per operation

    def token(self) -> str | None:
        """The bearer token of this request or connection, if any."""
        params = self.connection_params or {}
        header = params.get("Authorization") or params.get("authorization")
        if isinstance(header, str) and header.lower().startswith("bearer ") and header[7:].strip():
            return header[7:].strip()
        if isinstance(params.get("token"), str) and params["token"]:
            return str(params["token"])
        connection = self.request if self.request is not None else self.websocket
        if connection is None:
            return None
        try:
            return bearer_token(connection)
        except NotAuthorizedException:
            return None


async def context_getter(
    redis: NamedDependency[Redis],
    sessions: NamedDependency[SessionStore],
    warehouse: NamedDependency[Warehouse],
    streams: NamedDependency[StreamLimit],
    kick: NamedDependency[DrainKick],
    settings: NamedDependency[Settings],
    event_tally: NamedDependency[EventTally],
    figure_cache: NamedDependency[FigureCache],
    insecure_push: NamedDependency[bool],
) -> Context:
    """Litestar dependency: Strawberry adds the request or the socket to it."""
    return Context(
        redis=redis,
        sessions=sessions,
        warehouse=warehouse,
        streams=streams,
        kick=kick,
        ingest=provide_ingest(sessions, redis, settings, event_tally),
        figures=figure_cache,
        push_book=provide_push_book(redis, insecure_push),
    )


async def principal(info: Info[Context, None]) -> Principal:
    """The caller, from the token; raises ``Unauthenticated`` (code UNAUTHENTICATED) without a valid one.

    Every resolver that touches data starts here: no token, no data.
    """
    context = info.context
    if context.caller is not None:
        return context.caller
    token = context.token()
    if token is None:
        raise Unauthenticated(MISSING)
    try:
        caller = await Accounts(context.redis).authenticate(token)
    except NotAllowed as exc:
        raise Unauthenticated(str(exc)) from None
    if context.request is not None:
        context.caller = caller
    return caller
