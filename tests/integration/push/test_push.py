"""Web Push end to end: a browser-like subscription registered through the API gets an alert it can decrypt.

The push endpoint is a real HTTP server on 127.0.0.1; the body is decrypted with the independent ``http_ece``
package and the VAPID header verified against the key the API publishes.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import msgspec
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from adapters import metrics
from adapters.push import PushBook, VapidKeys
from shared.settings import Settings
from shared.tilt_policy import Alert
from tests.conftest import Player
from tests.integration.push.browser import FakeBrowser, parse_vapid_header, verified_claims
from tests.integration.push.conftest import PushEndpoint
from workers.push import (
    PUSH_ROUNDS,
    Outcome,
    PushSender,
    RetryPolicy,
    alert_payload,
    deliver_alert,
    install_push,
    push_alert_job,
)

SUBSCRIPTIONS = "/api/v1/push/subscriptions"
ALERT = Alert("sess-42", datetime(2025, 3, 1, 23, 5, tzinfo=UTC), 0.87, ["lost 3 big pots", "faster play"])


async def subscribe(client: AsyncTestClient[Any], player: Player, browser: FakeBrowser, endpoint: str) -> None:
    response = await client.post(SUBSCRIPTIONS, json=browser.subscription(endpoint), headers=player.headers)
    assert response.status_code == 201, response.text
    assert response.json() == {"endpoint": endpoint}


async def test_the_api_publishes_the_vapid_public_key(push_client: AsyncTestClient[Any], vapid: VapidKeys) -> None:
    response = await push_client.get("/api/v1/push/key")
    assert response.status_code == 200
    assert response.json() == {"public_key": vapid.application_server_key}


async def test_a_break_suggestion_reaches_the_browser_encrypted_and_signed(
    push_client: AsyncTestClient[Any],
    redis: Redis,
    alice: Player,
    push_endpoint: PushEndpoint,
    settings: Settings,
    vapid: VapidKeys,
) -> None:
    browser = FakeBrowser()
    await subscribe(push_client, alice, browser, push_endpoint.url("ok"))
    public_key = (await push_client.get("/api/v1/push/key")).json()["public_key"]

    async with PushSender.from_settings(vapid, settings) as sender:
        report = await deliver_alert(PushBook(redis), sender, alice.user_id, alert_payload(ALERT))

    assert report.delivered == [push_endpoint.url("ok")]
    [received] = push_endpoint.received
    assert json.loads(browser.decrypt(received.body)) == {
        "kind": "break_suggestion",
        "title": "Time for a break?",
        "body": "Your play shows signs of tilt: lost 3 big pots; faster play. A few minutes away from the table helps.",
        "session_id": "sess-42",
        "score": 0.87,
        "reasons": ["lost 3 big pots", "faster play"],
        "actions": [{"action": "break", "title": "Take a break"}, {"action": "fine", "title": "I'm fine"}],
        "url": "/app/live/sess-42",
    }
    assert received.headers["content-encoding"] == "aes128gcm"
    assert received.headers["urgency"] == "high"
    assert int(received.headers["ttl"]) > 0
    token, key = parse_vapid_header(received.headers["authorization"])
    assert key == public_key
    claims = verified_claims(token, public_key)
    assert claims["aud"] == push_endpoint.base
    assert claims["sub"] == settings.vapid_subject
    assert time.time() < claims["exp"] <= time.time() + 24 * 3600


async def test_a_subscription_the_push_service_calls_gone_is_deleted(
    push_client: AsyncTestClient[Any],
    redis: Redis,
    alice: Player,
    push_endpoint: PushEndpoint,
    settings: Settings,
    vapid: VapidKeys,
) -> None:
    await subscribe(push_client, alice, FakeBrowser(), push_endpoint.url("gone"))
    await subscribe(push_client, alice, FakeBrowser(), push_endpoint.url("ok"))
    book = PushBook(redis)

    async with PushSender.from_settings(vapid, settings) as sender:
        report = await deliver_alert(book, sender, alice.user_id, alert_payload(ALERT))

    assert report.gone == [push_endpoint.url("gone")] and report.delivered == [push_endpoint.url("ok")]
    assert [s.endpoint for s in await book.list(alice.user_id)] == [push_endpoint.url("ok")]


async def test_a_hanging_push_service_does_not_hold_the_worker_and_is_reported_retryable(
    push_client: AsyncTestClient[Any], redis: Redis, alice: Player, push_endpoint: PushEndpoint, vapid: VapidKeys
) -> None:
    await subscribe(push_client, alice, FakeBrowser(), push_endpoint.url("hang"))
    book = PushBook(redis)

    async with PushSender(vapid, "mailto:ops@bankroll.invalid", timeout_s=0.5) as sender:
        started = time.monotonic()
        report = await deliver_alert(book, sender, alice.user_id, alert_payload(ALERT), retry=RetryPolicy(attempts=1))
        took = time.monotonic() - started

    assert took < 0.5 + 0.5
    assert report.pending == [push_endpoint.url("hang")]
    assert report.results[0].outcome is Outcome.RETRY and report.results[0].status is None
    assert len(await book.list(alice.user_id)) == 1  # kept for the next try


async def test_a_subscription_with_a_bad_key_is_refused_with_the_reason(
    push_client: AsyncTestClient[Any], alice: Player, push_endpoint: PushEndpoint
) -> None:
    body = FakeBrowser().subscription(push_endpoint.url("ok"))
    body["keys"]["p256dh"] = body["keys"]["p256dh"][:40]
    response = await push_client.post(SUBSCRIPTIONS, json=body, headers=alice.headers)
    assert response.status_code == 400
    assert "keys.p256dh decodes to 30 bytes" in response.json()["detail"]


async def test_a_subscription_to_a_plain_http_host_is_refused_with_the_reason(
    push_client: AsyncTestClient[Any], alice: Player
) -> None:
    body = FakeBrowser().subscription("http://push.example/abc")
    response = await push_client.post(SUBSCRIPTIONS, json=body, headers=alice.headers)
    assert response.status_code == 400
    assert "must be an https:// URL" in response.json()["detail"]


async def test_a_subscription_without_keys_is_refused(push_client: AsyncTestClient[Any], alice: Player) -> None:
    response = await push_client.post(SUBSCRIPTIONS, json={"endpoint": "https://push.example/a"}, headers=alice.headers)
    assert response.status_code == 400
    assert "keys" in response.text


async def test_subscribing_needs_a_token(push_client: AsyncTestClient[Any], push_endpoint: PushEndpoint) -> None:
    response = await push_client.post(SUBSCRIPTIONS, json=FakeBrowser().subscription(push_endpoint.url("ok")))
    assert response.status_code == 401


async def test_unsubscribing_forgets_the_endpoint_and_may_be_repeated(
    push_client: AsyncTestClient[Any], redis: Redis, alice: Player, push_endpoint: PushEndpoint
) -> None:
    endpoint = push_endpoint.url("ok")
    await subscribe(push_client, alice, FakeBrowser(), endpoint)
    for _ in range(2):
        response = await push_client.request(
            "DELETE", SUBSCRIPTIONS, json={"endpoint": endpoint}, headers=alice.headers
        )
        assert response.status_code == 204
    assert await PushBook(redis).list(alice.user_id) == []


async def test_a_player_cannot_unsubscribe_another_player_s_device(
    push_client: AsyncTestClient[Any], redis: Redis, alice: Player, bob: Player, push_endpoint: PushEndpoint
) -> None:
    endpoint = push_endpoint.url("ok")
    await subscribe(push_client, alice, FakeBrowser(), endpoint)
    response = await push_client.request("DELETE", SUBSCRIPTIONS, json={"endpoint": endpoint}, headers=bob.headers)
    assert response.status_code == 204
    assert [s.endpoint for s in await PushBook(redis).list(alice.user_id)] == [endpoint]


async def test_pushes_are_counted_by_outcome_in_the_worker_figures(
    push_client: AsyncTestClient[Any], redis: Redis, alice: Player, push_endpoint: PushEndpoint, vapid: VapidKeys
) -> None:
    for kind in ("ok", "gone", "busy"):
        await subscribe(push_client, alice, FakeBrowser(), push_endpoint.url(kind))
    # The job's last try (arq's job_try): the busy device is retried once within it, then given up.
    ctx: dict[str, Any] = {"redis": redis, "job_try": PUSH_ROUNDS, "job_id": "push:last-round"}
    async with PushSender(vapid, "mailto:ops@bankroll.invalid") as sender:
        install_push(ctx, PushBook(redis), sender, RetryPolicy(attempts=2, base_s=0.01), figures=redis)
        counts = await push_alert_job(ctx, alice.user_id, msgspec.json.encode(alert_payload(ALERT)))

    assert counts == {"delivered": 1, "gone": 1, "retry": 1, "failed": 0}
    assert sum(r.path == "/busy/device-1" for r in push_endpoint.received) == 2
    pushes = {s.labels: s.value for s in (await metrics.read(redis))[metrics.PUSHES]}
    assert pushes == {("sent",): 1, ("gone",): 1, ("retried",): 1, ("failed",): 1}
