"""How the API is served: uvicorn with header and body deadlines, a connection cap and keep-alive timeout, each
request logged under its request id (``adapters.logs``).

uvicorn closes idle keep-alive connections but has no deadline for a request still arriving: a client that sends
half a header line, or a body at one byte a second, holds its connection (and, past ``limit_concurrency``, every
other client's slot) for as long as it likes. ``GuardedHttp`` adds the two deadlines: the request line and headers
within ``header_timeout_s`` of the connection opening (or of the previous response), the body within
``body_timeout_s`` of the headers. A request that misses one is answered 408 and its connection closed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import uvicorn
from litestar.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from adapters.logs import request_context
from api.edge import request_id_of
from shared.settings import Settings

log = logging.getLogger(__name__)
_TIMEOUT = b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\nconnection: close\r\n"


class GuardedHttp(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline for the headers and one for the body of every request."""

    header_timeout_s: float = 10.0
    body_timeout_s: float = 30.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None

    def _arm(self, seconds: float, stage: str) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._expire, stage)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self, stage: str) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        log.warning("closed a connection from %s: its %s did not arrive in time", self.client, stage)
        body = f"the request's {stage} did not arrive in time\n".encode()
        self.transport.write(_TIMEOUT + b"content-length: %d\r\n\r\n" % len(body) + body)
        self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.header_timeout_s, "headers")

    def on_headers_complete(self) -> None:
        self._arm(self.body_timeout_s, "body")
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # Keep-alive: the next request's headers get their own deadline (uvicorn's idle timeout closes first).
        if not self.transport.is_closing():
            self._arm(self.header_timeout_s + self.timeout_keep_alive, "headers")

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def handle_websocket_upgrade(self) -> None:
        self._disarm()  # a WebSocket is long-lived by design; its protocol has its own pings
        super().handle_websocket_upgrade()


class RequestLogContext:
    """ASGI wrapper: every line logged while a request or WebSocket is handled (uvicorn's access line included)
    carries its request id, the ``X-Request-ID`` the client is answered with; 404s and web pages too."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        with request_context(request_id_of(scope)):
            await self.app(scope, receive, send)


def uvicorn_config(app: Any, settings: Settings, **overrides: Any) -> uvicorn.Config:
    """The uvicorn configuration ``bankroll serve`` (and the live-server tests) run the app with."""
    protocol = type(
        "GuardedHttp",
        (GuardedHttp,),
        {"header_timeout_s": settings.header_timeout_s, "body_timeout_s": settings.body_timeout_s},
    )
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "http": protocol,
        "timeout_keep_alive": settings.keep_alive_s,
        "limit_concurrency": settings.max_connections,
        "log_level": settings.log_level.lower(),
        "access_log": settings.access_log,
        "log_config": None,  # uvicorn's loggers go through the process's one handler (adapters.logs.configure)
        **overrides,
    }
    return uvicorn.Config(RequestLogContext(app), **options)
