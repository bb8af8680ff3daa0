"""The edge every response crosses: security headers, the request id, the pairing cookie, the socket's Origin."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest
import websockets
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from api.accounts import Accounts
from tests.conftest import LiveServer, Player

PAGES = ["/app/", "/pair", "/capture", "/sw.js", "/static/app.css", "/manifest.webmanifest", "/healthz", "/nope"]


@pytest.mark.parametrize("path", [*PAGES, "/api/v1/sessions"])
async def test_every_response_carries_the_security_headers(client: AsyncTestClient[Any], path: str) -> None:
    response = await client.get(path)
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert len(response.headers["x-request-id"]) == 16
    assert "strict-transport-security" not in response.headers  # plain http: HSTS would be ignored or wrong


async def test_https_behind_a_trusted_proxy_adds_hsts_and_a_secure_cookie(
    client: AsyncTestClient[Any], redis: Redis, alice: Player
) -> None:
    code = await Accounts(redis).create_pairing(alice.user_id, "phone")
    response = await client.post("https://testserver.local/api/v1/devices/pair", json={"code": code})
    assert response.headers["strict-transport-security"].startswith("max-age=31536000")
    assert "secure" in response.headers["set-cookie"].lower()


async def test_pairing_sets_the_token_cookie_httponly_and_strict(
    client: AsyncTestClient[Any], redis: Redis, alice: Player
) -> None:
    code = await Accounts(redis).create_pairing(alice.user_id, "phone")
    response = await client.post("/api/v1/devices/pair", json={"code": code})
    assert response.status_code == 201
    cookie = response.headers["set-cookie"]
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert cookie.startswith(f"bankroll_token={response.json()['token']};")
    assert {"httponly", "path", "max-age"} <= attributes and "samesite=strict" in cookie.lower()
    assert "secure" not in attributes  # plain http on loopback: a Secure cookie would never come back


async def test_a_cross_origin_page_cannot_open_the_screens_socket(live_server: LiveServer) -> None:
    url = live_server.url.replace("http://", "ws://") + "/_reactpy/stream/app/history"
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with websockets.connect(url, origin=websockets.Origin("http://127.0.0.1:1")):
            pass
    assert refused.value.response.status_code == 403
    async with websockets.connect(url, origin=websockets.Origin(live_server.url)) as socket:
        assert socket.protocol.state.name == "OPEN"


async def test_an_unexpected_error_is_a_logged_500_with_the_request_id(
    client: AsyncTestClient[Any], alice: Player, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from api.sessions.live import SessionReader

    async def broken(*_: Any, **__: Any) -> Any:
        raise KeyError("a bug")

    monkeypatch.setattr(SessionReader, "recent", broken)
    with caplog.at_level(logging.ERROR, logger="api.edge"):
        response = await client.get("/api/v1/sessions", headers=alice.headers)
    assert response.status_code == 500
    rid = response.headers["x-request-id"]
    assert response.json()["request_id"] == rid and "a bug" not in response.text
    assert any(rid in record.getMessage() and record.exc_info for record in caplog.records)


async def test_a_token_in_the_url_is_taken_only_by_the_sse_stream(client: AsyncTestClient[Any], alice: Player) -> None:
    token = alice.headers["Authorization"].removeprefix("Bearer ")
    for method, path in [
        ("GET", "/api/v1/sessions"),
        ("POST", "/api/v1/events"),
        ("GET", "/api/v1/export/backup"),
        ("GET", "/api/v1/devices"),
    ]:
        response = await client.request(method, path, params={"token": token}, json={"events": []})
        assert response.status_code == 401, (path, response.text)
    missing = await client.get(f"/api/v1/sessions/{uuid.uuid4()}/stream", params={"token": token})
    assert missing.status_code == 404  # authenticated by ?token=, then an unknown session
