"""Browser tests: the real app under uvicorn in a thread, driven by headless Debian Chromium through Playwright.

Under CI=true a missing Chromium or Playwright fails the run (``need``); elsewhere those tests are skipped.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import msgspec
import pytest
import uvicorn
from redis.asyncio import Redis

from adapters.clickhouse import Warehouse
from api.accounts import Accounts
from bankroll.wiring import Runtime, make_app
from shared.settings import load_settings
from tests.conftest import need
from tests.services import RedisServer
from workers.sinks import ClickHouseSink

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PHONE = {"width": 360, "height": 640}
SCREENSHOTS = Path(__file__).parents[2] / "test-artifacts" / "screenshots"


def missing_browser() -> str | None:
    if shutil.which(CHROMIUM) is None:
        return f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install -e '.[dev]')"
    return None


class Hits:
    """Counts the requests the server saw, so an 'offline' test can prove nothing reached it."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.paths: list[str] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            self.paths.append(scope["path"])
        await self.app(scope, receive, send)


class LiveServer(msgspec.Struct):
    url: str
    hits: Any
    redis_url: str


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="package")
def server(
    tmp_path_factory: pytest.TempPathFactory, redis_server: RedisServer, warehouse: Warehouse
) -> Iterator[LiveServer]:
    """The whole app (API, embedded worker, web) on a free loopback port, for the e2e package only."""
    need(missing_browser())
    port = _free_port()
    settings = load_settings(
        {"BANKROLL_DATA_DIR": str(tmp_path_factory.mktemp("e2e")), "REDIS_URL": redis_server.url, "PORT": str(port)}
    )
    runtime = Runtime(settings=settings, warehouse=warehouse, sinks=[ClickHouseSink(warehouse)])
    hits = Hits(make_app(runtime))
    config = uvicorn.Config(
        hits, host="127.0.0.1", port=port, log_level="warning", lifespan="on", ws="websockets-sansio"
    )
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, name="e2e-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the e2e server did not start")
        time.sleep(0.05)
    yield LiveServer(url=f"http://127.0.0.1:{port}", hits=hits, redis_url=redis_server.url)
    uv.should_exit = True
    thread.join(timeout=20)


@pytest.fixture
async def accounts(server: LiveServer) -> AsyncIterator[Accounts]:
    client = Redis.from_url(server.redis_url)
    yield Accounts(client)
    await client.aclose()


@contextlib.asynccontextmanager
async def phone_browser(
    profile: Path,
    *,
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    click_through_certificate_warnings: bool = False,
) -> AsyncIterator[Any]:
    """A phone-sized Chromium with a real profile (an incognito one is never installable); ``args`` are added to
    the usual flags, ``env`` replaces its environment (a HOME with its own certificate store, say).

    ``click_through_certificate_warnings`` loads pages whose certificate the browser does not trust, as a person
    tapping "Proceed" on the warning does; as then, the browser still registers no service worker there.
    """
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        context = await pw.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            args=[*ARGS, *args],
            env=dict(env) if env is not None else None,
            viewport=PHONE,
            device_scale_factor=1,
            is_mobile=True,
            has_touch=True,
            service_workers="allow",
            ignore_https_errors=click_through_certificate_warnings,
        )
        # The app must run under its own Content-Security-Policy: any violation a page reports fails the test.
        violations: list[str] = []

        def watch(page: Any) -> None:
            page.on(
                "console",
                lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
            )

        for page in context.pages:
            watch(page)
        context.on("page", watch)
        yield context
        await context.close()
        assert not violations, violations


@pytest.fixture
async def browser_context(tmp_path: Path, server: LiveServer) -> AsyncIterator[Any]:
    """A phone-sized Chromium for the app of ``server``."""
    async with phone_browser(tmp_path / "profile") as context:
        yield context


async def shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def _routed(server: LiveServer) -> Any:
    """Every address of the server but the service worker's script: the browser fetches that one for its update
    check outside routing, and a route on it would lift the offline emulation that does stop it."""
    return lambda url: url.startswith(server.url) and not url.startswith(f"{server.url}/sw.js")


async def cut_signal(context: Any, server: LiveServer) -> None:
    """No signal at all: the browser is offline and every request to the server fails, the service worker's too."""
    await context.set_offline(True)
    await context.route(_routed(server), lambda route: route.abort("internetdisconnected"))


async def restore_signal(context: Any) -> None:
    await context.unroute_all(behavior="ignoreErrors")
    await context.set_offline(False)
