"""Rules of open streams: a per-user cap answered with 429 and Retry-After, and revocation that ends them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import websockets
from redis.asyncio import Redis

from api.accounts import Accounts
from shared.settings import Settings, load_settings
from tests.conftest import LiveServer, Player
from tests.factories import SessionScript
from tests.services import RedisServer

CAP = 2


@pytest.fixture
def settings(tmp_path: Path, redis_server: RedisServer) -> Settings:
    env = {"BANKROLL_DATA_DIR": str(tmp_path), "REDIS_URL": redis_server.url, "MAX_STREAMS_PER_USER": str(CAP)}
    return load_settings(env)


@pytest.fixture
async def http(live_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live_server.url, timeout=10) as client:
        yield client


async def started_session(http: httpx.AsyncClient, player: Player) -> SessionScript:
    s = SessionScript()
    answer = await http.post("/api/v1/events", json={"events": [s.start()]}, headers=player.headers)
    assert answer.json()["accepted"] == 1
    return s


class OpenStream:
    """A stream held open until closed; ``first`` is its first state."""

    def __init__(self, response: httpx.Response, lines: AsyncIterator[str]) -> None:
        self.response = response
        self.lines = lines

    async def first(self) -> dict[str, object]:
        async for line in self.lines:
            if line.startswith("data: "):
                state: dict[str, object] = json.loads(line.removeprefix("data: "))
                return state
        raise AssertionError("the stream ended before its first state")

    async def next_event(self) -> tuple[str, str]:
        event = ""
        async for line in self.lines:
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: "):
                return event, line.removeprefix("data: ")
        raise AssertionError("the stream ended before its next event")

    async def until_end(self) -> None:
        async for _ in self.lines:
            pass


async def open_stream(http: httpx.AsyncClient, path: str, headers: dict[str, str] | None = None) -> OpenStream:
    response = await http.send(http.build_request("GET", path, headers=headers), stream=True)
    return OpenStream(response, response.aiter_lines())


async def test_past_the_cap_a_new_stream_gets_429_with_retry_after_and_a_closed_one_frees_a_place(
    http: httpx.AsyncClient, live_server: LiveServer, alice: Player, bob: Player
) -> None:
    session_id = (await started_session(http, alice)).session_id
    path = f"/api/v1/sessions/{session_id}/stream?token={alice.token}"
    held = [await open_stream(http, path) for _ in range(CAP)]
    for stream in held:
        assert stream.response.status_code == 200
        assert "state" in await stream.first()

    refused = await http.get(path)
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    assert "MAX_STREAMS_PER_USER" in refused.json()["detail"]
    bobs_session = (await started_session(http, bob)).session_id
    bobs = await open_stream(http, f"/api/v1/sessions/{bobs_session}/stream?token={bob.token}")
    assert bobs.response.status_code == 200, "the cap is per user"
    await bobs.response.aclose()

    await held.pop().response.aclose()
    streams = live_server.app.state.streams
    deadline = asyncio.get_running_loop().time() + 5
    while streams.open_for(alice.user_id) >= CAP:
        assert asyncio.get_running_loop().time() < deadline, "a closed stream was not given back"
        await asyncio.sleep(0.02)
    again = await open_stream(http, path)
    assert again.response.status_code == 200
    for stream in [*held, again]:
        await stream.response.aclose()


async def test_revoking_a_device_ends_its_open_stream_within_a_second(
    http: httpx.AsyncClient, alice: Player, redis: Redis
) -> None:
    accounts = Accounts(redis)
    phone = await accounts.add_device(alice.user_id, "phone")
    script = await started_session(http, alice)
    session_id = script.session_id
    stream = await open_stream(http, f"/api/v1/sessions/{session_id}/stream?token={phone.token}")
    assert stream.response.status_code == 200
    await stream.first()
    other = await open_stream(http, f"/api/v1/sessions/{session_id}/stream?token={alice.token}")
    await other.first()

    await accounts.revoke(alice.user_id, phone.device_id)  # what `bankroll device revoke` and DELETE do
    await asyncio.wait_for(stream.until_end(), timeout=1.0)
    await stream.response.aclose()

    # Only the revoked device's stream ends: the user's other device still gets the next state.
    await http.post("/api/v1/events", json={"events": [script.stack(1)]}, headers=alice.headers)
    assert "state" in await asyncio.wait_for(other.first(), timeout=5)
    await other.response.aclose()
    assert (await http.get(f"/api/v1/sessions/{session_id}/stream?token={phone.token}")).status_code == 401


async def test_the_device_stream_says_ready_then_revoked_when_the_device_is_revoked(
    http: httpx.AsyncClient, alice: Player, redis: Redis
) -> None:
    accounts = Accounts(redis)
    phone = await accounts.add_device(alice.user_id, "phone")
    bearer = {"Authorization": f"Bearer {phone.token}"}  # the web app's socket asks with its header
    stream = await open_stream(http, "/api/v1/devices/current/stream", bearer)
    assert stream.response.status_code == 200
    assert await stream.next_event() == ("device", "ready")

    await accounts.revoke(alice.user_id, phone.device_id)
    assert await asyncio.wait_for(stream.next_event(), timeout=1.0) == ("device", "revoked")
    await asyncio.wait_for(stream.until_end(), timeout=1.0)
    await stream.response.aclose()


@pytest.mark.parametrize("route", ["session", "device"])
async def test_a_page_of_another_origin_cannot_open_a_stream_but_the_app_and_scripts_can(
    http: httpx.AsyncClient, live_server: LiveServer, alice: Player, route: str
) -> None:
    if route == "session":
        session_id = (await started_session(http, alice)).session_id
        path, auth = f"/api/v1/sessions/{session_id}/stream?token={alice.token}", {}
    else:
        path, auth = "/api/v1/devices/current/stream", alice.headers
    foreign = await http.get(path, headers={**auth, "Origin": "http://127.0.0.1:1"})
    assert foreign.status_code == 403
    assert foreign.json()["detail"] == (
        "cross-origin request refused: Origin http://127.0.0.1:1 is not this server; "
        "open the app from this server's address"
    )
    for origin in ({"Origin": live_server.url}, {}):  # the app's own page; curl or a script (no Origin)
        stream = await open_stream(http, path, {**auth, **origin})
        try:
            assert stream.response.status_code == 200
            assert (await stream.next_event())[0] in ("state", "device")
        finally:
            await stream.response.aclose()


async def test_a_page_of_another_origin_cannot_open_the_graphql_socket(live_server: LiveServer) -> None:
    url = live_server.url.replace("http://", "ws://") + "/graphql"
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with websockets.connect(
            url,
            origin=websockets.Origin("http://127.0.0.1:1"),
            subprotocols=[websockets.Subprotocol("graphql-transport-ws")],
        ):
            pass
    assert refused.value.response.status_code == 403
    async with websockets.connect(
        url, origin=websockets.Origin(live_server.url), subprotocols=[websockets.Subprotocol("graphql-transport-ws")]
    ) as socket:
        assert socket.protocol.state.name == "OPEN"
