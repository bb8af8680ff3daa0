"""Push test setup: a real push endpoint on 127.0.0.1 and an API with the push routes and http endpoints allowed."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from adapters.clickhouse import Warehouse
from adapters.push import VapidKeys, load_or_create_vapid
from api import create_app
from shared.settings import Settings


class Received(msgspec.Struct, frozen=True):
    path: str
    headers: dict[str, str]
    body: bytes


class PushEndpoint:
    """A push service stand-in: ``/ok/…`` answers 201, ``/gone/…`` 410, ``/busy/…`` 503 (try again later),
    ``/hang/…`` nothing until teardown."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.release = threading.Event()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                endpoint.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                if self.path.startswith("/hang/"):
                    endpoint.release.wait(30)
                status = {"gone": 410, "busy": 503}.get(self.path.split("/")[1], 201)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # keep the test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="push-endpoint", daemon=True)

    @property
    def base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, kind: str, name: str = "device-1") -> str:
        return f"{self.base}/{kind}/{name}"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def push_endpoint() -> Iterator[PushEndpoint]:
    endpoint = PushEndpoint()
    endpoint.start()
    yield endpoint
    endpoint.stop()


@pytest.fixture
def vapid(settings: Settings) -> VapidKeys:
    return load_or_create_vapid(settings.data_dir)


@pytest.fixture
async def push_client(
    settings: Settings, vapid: VapidKeys, warehouse: Warehouse, redis: Redis
) -> AsyncIterator[AsyncTestClient[Any]]:
    """The API wired as the composition root does, plus http://127.0.0.1 endpoints allowed."""
    app = create_app(settings, warehouse=warehouse, vapid=vapid, state={"push_allow_insecure_endpoints": True})
    async with AsyncTestClient(app=app, timeout=30) as client:
        yield client
