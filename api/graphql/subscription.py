"""Subscriptions over ``graphql-transport-ws``: the same Redis pub/sub sources as the SSE stream and the push job."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing

import strawberry

from api.alerts import AlertReader
from api.graphql.context import principal
from api.graphql.query import Ctx
from api.graphql.types import object_type
from api.sessions.live import SessionReader
from shared.reducer import LiveView
from shared.tilt_policy import Alert


@strawberry.type
class Subscription:
    @strawberry.subscription(
        graphql_type=object_type(LiveView),
        description="The session's live view now, then again after every accepted batch (the source of the SSE stream)",
    )
    async def session_state(self, info: Ctx, id: str) -> AsyncGenerator[LiveView, None]:
        caller = await principal(info)
        async with aclosing(SessionReader(info.context.sessions).views(caller, id, info.context.streams)) as views:
            async for view in views:
                if view is not None:
                    yield view

    @strawberry.subscription(
        graphql_type=object_type(Alert), description="Each tilt alert of the caller, as the tilt worker raises it"
    )
    async def alerts(self, info: Ctx) -> AsyncGenerator[Alert, None]:
        caller = await principal(info)
        async with aclosing(AlertReader(info.context.redis).feed(caller, info.context.streams)) as feed:
            async for alert in feed:
                if alert is not None:
                    yield alert
