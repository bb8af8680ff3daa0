"""Device routes: a pairing code becomes a token once; devices are listed and revoked by their owner only."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from api.accounts import Accounts, hash_token
from tests.conftest import Player


async def pairing_code(redis: Redis, player: Player, label: str = "phone") -> str:
    return await Accounts(redis).create_pairing(player.user_id, label)


async def test_a_pairing_code_is_traded_for_a_working_device_token(
    client: AsyncTestClient[Any], redis: Redis, alice: Player
) -> None:
    code = await pairing_code(redis, alice)
    response = await client.post("/api/v1/devices/pair", json={"code": code, "label": "Pixel"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["user_id"] == alice.user_id and body["token"].startswith("pbt_")
    listed = await client.get("/api/v1/devices", headers={"Authorization": f"Bearer {body['token']}"})
    assert listed.status_code == 200
    mine = [d for d in listed.json() if d["device_id"] == body["device_id"]]
    assert mine == [{**mine[0], "label": "Pixel", "current": True, "revoked_at": None}]


async def test_a_pending_pairing_code_is_stored_only_as_its_hash(
    client: AsyncTestClient[Any], redis: Redis, alice: Player
) -> None:
    code = await pairing_code(redis, alice)
    stored = [key async for key in redis.scan_iter("pbt:pair:*")]
    assert stored == [f"pbt:pair:{hash_token(code)}".encode()]
    dump = [await redis.dump(key) for key in stored]
    assert not any(code.encode() in (value or b"") for value in [*stored, *dump])
    assert (await client.post("/api/v1/devices/pair", json={"code": code})).status_code == 201


async def test_a_pairing_code_works_only_once(client: AsyncTestClient[Any], redis: Redis, alice: Player) -> None:
    code = await pairing_code(redis, alice)
    assert (await client.post("/api/v1/devices/pair", json={"code": code})).status_code == 201
    again = await client.post("/api/v1/devices/pair", json={"code": code})
    assert again.status_code == 401
    assert "pairing link is unknown, used or expired" in again.json()["detail"]


async def test_pairing_without_a_label_keeps_the_label_given_with_the_code(
    client: AsyncTestClient[Any], redis: Redis, alice: Player
) -> None:
    code = await pairing_code(redis, alice, "tablet")
    body = (await client.post("/api/v1/devices/pair", json={"code": code})).json()
    devices = (await client.get("/api/v1/devices", headers=alice.headers)).json()
    assert {d["device_id"]: d["label"] for d in devices}[body["device_id"]] == "tablet"


async def test_listing_devices_needs_a_token(client: AsyncTestClient[Any]) -> None:
    assert (await client.get("/api/v1/devices")).status_code == 401


async def test_a_revoked_device_token_stops_working_at_once(
    client: AsyncTestClient[Any], redis: Redis, alice: Player
) -> None:
    phone = (await client.post("/api/v1/devices/pair", json={"code": await pairing_code(redis, alice)})).json()
    phone_headers = {"Authorization": f"Bearer {phone['token']}"}
    assert (await client.get("/api/v1/sessions", headers=phone_headers)).status_code == 200
    revoked = await client.delete(f"/api/v1/devices/{phone['device_id']}", headers=alice.headers)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    after = await client.get("/api/v1/sessions", headers=phone_headers)
    assert after.status_code == 401 and "pair this device again" in after.json()["detail"]


async def test_a_player_cannot_revoke_another_players_device(
    client: AsyncTestClient[Any], redis: Redis, alice: Player, bob: Player
) -> None:
    phone = (await client.post("/api/v1/devices/pair", json={"code": await pairing_code(redis, alice)})).json()
    answer = await client.delete(f"/api/v1/devices/{phone['device_id']}", headers=bob.headers)
    assert answer.status_code == 404
    assert (
        await client.get("/api/v1/devices", headers={"Authorization": f"Bearer {phone['token']}"})
    ).status_code == 200
