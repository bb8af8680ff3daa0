"""PushSender: what each push service answer means, the headers of a send, and that no send outlives its timeout."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from adapters.push import VapidKeys
from shared.errors import InvalidInput
from shared.push import PushSubscription, SubscriptionKeys
from tests.integration.push.browser import FakeBrowser, b64url, parse_vapid_header, verified_claims
from workers.push import Outcome, PushSender, SendResult, Urgency, classify, retry_after_seconds

ENDPOINT = "https://push.example/send/abc"
Handler = Callable[[httpx.Request], Coroutine[None, None, httpx.Response]]


def browser_subscription(browser: FakeBrowser, endpoint: str = ENDPOINT) -> PushSubscription:
    return PushSubscription(endpoint, SubscriptionKeys(browser.p256dh, b64url(browser.auth_secret)))


async def send_with(
    handler: Handler, *, timeout_s: float = 5.0, ttl_s: int = 900, urgency: Urgency = "normal", topic: str | None = None
) -> tuple[SendResult, float]:
    vapid = VapidKeys(ec.generate_private_key(ec.SECP256R1()))
    transport = httpx.MockTransport(handler)
    async with PushSender(vapid, "mailto:a@b.invalid", timeout_s=timeout_s, transport=transport) as sender:
        sub = browser_subscription(FakeBrowser())
        started = time.monotonic()
        result = await sender.send(sub, b'{"kind":"break_suggestion"}', ttl_s=ttl_s, urgency=urgency, topic=topic)
        return result, time.monotonic() - started


def answering(status: int, headers: dict[str, str] | None = None) -> Handler:
    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, headers=headers)

    return handler


@pytest.mark.parametrize(("status", "outcome"), [(201, Outcome.DELIVERED), (202, Outcome.DELIVERED)])
async def test_created_and_accepted_mean_delivered(status: int, outcome: Outcome) -> None:
    result, _ = await send_with(answering(status))
    assert (result.outcome, result.status) == (outcome, status)


@pytest.mark.parametrize("status", [404, 410])
async def test_not_found_and_gone_mean_the_subscription_is_gone(status: int) -> None:
    result, _ = await send_with(answering(status))
    assert (result.outcome, result.status) == (Outcome.GONE, status)


async def test_too_many_requests_is_retryable_after_the_service_s_delay() -> None:
    result, _ = await send_with(answering(429, {"Retry-After": "7"}))
    assert (result.outcome, result.status, result.retry_after_s) == (Outcome.RETRY, 429, 7.0)


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors_are_retryable(status: int) -> None:
    result, _ = await send_with(answering(status))
    assert (result.outcome, result.status, result.retry_after_s) == (Outcome.RETRY, status, None)


@pytest.mark.parametrize("status", [400, 401, 403, 413, 301])
async def test_other_answers_are_permanent_failures(status: int) -> None:
    result, _ = await send_with(answering(status))
    assert (result.outcome, result.status) == (Outcome.FAILED, status)


async def test_a_service_that_does_not_answer_in_time_is_retryable_and_does_not_block() -> None:
    async def hanging(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(30)
        return httpx.Response(201)

    result, took = await send_with(hanging, timeout_s=0.2)
    assert result.outcome is Outcome.RETRY and result.status is None
    assert "no answer within 0.2 s" in result.detail
    assert took < 1.0


async def test_a_connection_error_is_retryable() -> None:
    async def refusing(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    result, _ = await send_with(refusing)
    assert result.outcome is Outcome.RETRY and "ConnectError" in result.detail


async def test_a_send_carries_ttl_urgency_topic_encoding_and_a_vapid_header() -> None:
    seen: list[httpx.Request] = []

    async def recording(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201)

    await send_with(recording, ttl_s=600, urgency="high", topic="break-s1")
    headers = seen[0].headers
    assert (headers["ttl"], headers["urgency"], headers["topic"]) == ("600", "high", "break-s1")
    assert headers["content-encoding"] == "aes128gcm"
    token, key = parse_vapid_header(headers["authorization"])
    assert verified_claims(token, key)["aud"] == "https://push.example"


def test_retry_after_may_be_an_http_date() -> None:
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("Wed, 01 Jan 2025 12:00:30 GMT", now=now) == 30.0
    assert retry_after_seconds("Wed, 01 Jan 2025 11:00:00 GMT", now=now) == 0.0
    assert retry_after_seconds("soon") is None


def test_a_service_unavailable_answer_keeps_its_retry_after() -> None:
    assert classify(ENDPOINT, 503, "120") == SendResult(ENDPOINT, Outcome.RETRY, 503, 120.0)


def test_a_payload_too_large_for_one_record_is_refused_before_sending() -> None:
    sender = PushSender(VapidKeys(ec.generate_private_key(ec.SECP256R1())), "mailto:a@b.invalid")
    with pytest.raises(InvalidInput, match="at most 3993"):
        sender.encrypt(browser_subscription(FakeBrowser()), b"x" * 4000)


def test_a_subject_that_is_not_mailto_or_https_is_refused() -> None:
    with pytest.raises(ValueError, match="mailto: or https:"):
        PushSender(VapidKeys(ec.generate_private_key(ec.SECP256R1())), "admin@bankroll.invalid")
