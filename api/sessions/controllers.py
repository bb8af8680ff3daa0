"""Session routes: list, live state, events and the SSE stream."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, QueryParameter
from litestar.response import ServerSentEvent

from api.accounts import Principal
from api.deps import QUERY_TOKEN_OPT
from api.edge import same_origin_only
from api.sessions.deps import provide_reader
from api.sessions.live import SessionReader
from api.streams import StreamLimit, sse_messages
from shared.events import Event
from shared.reducer import LiveView, SessionSummary


class SessionController(Controller):
    path = "/api/v1/sessions"
    tags = ["sessions"]
    dependencies = {"reader": Provide(provide_reader, sync_to_thread=False)}

    @get("/", summary="The caller's sessions, newest first")
    async def list_sessions(
        self,
        reader: NamedDependency[SessionReader],
        principal: NamedDependency[Principal],
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
        offset: Annotated[int, QueryParameter(ge=0, le=2**31 - 1)] = 0,
    ) -> list[SessionSummary]:
        return await reader.recent(principal, limit, offset)

    @get("/{session_id:str}", summary="Live state of one session")
    async def live(
        self, reader: NamedDependency[SessionReader], principal: NamedDependency[Principal], session_id: FromPath[str]
    ) -> LiveView:
        return await reader.live(principal, session_id)

    @get("/{session_id:str}/events", summary="Every accepted event of the session, in reducer order")
    async def events(
        self, reader: NamedDependency[SessionReader], principal: NamedDependency[Principal], session_id: FromPath[str]
    ) -> list[Event]:
        return await reader.events(principal, session_id)

    @get(
        "/{session_id:str}/stream",
        summary="Server-sent events: the new live state after each accepted batch",
        opt={QUERY_TOKEN_OPT: True},
        guards=[same_origin_only],
    )
    async def stream(
        self,
        reader: NamedDependency[SessionReader],
        streams: NamedDependency[StreamLimit],
        principal: NamedDependency[Principal],
        session_id: FromPath[str],
    ) -> ServerSentEvent:
        feed = reader.feed(principal, session_id, streams)
        first = await feed.__anext__()  # ownership and the stream cap are checked before the 200 goes out
        return ServerSentEvent(sse_messages(first, feed), headers={"Cache-Control": "no-store"})
