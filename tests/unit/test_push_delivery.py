"""deliver_alert: every device of the player gets the alert; dead subscriptions are deleted, busy ones retried."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

import httpx
import msgspec
import pytest
import stamina
from arq.worker import Retry
from cryptography.hazmat.primitives.asymmetric import ec

from adapters import keys
from adapters.push import PushBook, VapidKeys
from shared.push import PushSubscription
from shared.tilt_policy import Alert, AlertKind, RealityCheck
from tests.integration.push.browser import FakeBrowser
from workers.push import (
    PUSH_ROUNDS,
    AlertPayload,
    Outcome,
    PushSender,
    RetryPolicy,
    SendResult,
    StillBusy,
    alert_payload,
    deliver_alert,
    install_push,
    push_alert_job,
)

USER = "u1"
FAST = RetryPolicy(base_s=0.01)
Handler = Callable[[httpx.Request], Coroutine[None, None, httpx.Response]]


class DictHashes:
    """The four Redis hash commands PushBook uses, over a dict — a fake for logic tests only."""

    def __init__(self) -> None:
        self.data: dict[str, dict[str, bytes]] = {}

    async def hset(self, name: str, key: str, value: bytes) -> int:
        self.data.setdefault(name, {})[key] = value
        return 1

    async def hdel(self, name: str, *fields: str) -> int:
        table = self.data.get(name, {})
        return sum(table.pop(f, None) is not None for f in fields)

    async def hgetall(self, name: str) -> dict[bytes, bytes]:
        return {k.encode(): v for k, v in self.data.get(name, {}).items()}

    async def hexists(self, name: str, key: str) -> bool:
        return key in self.data.get(name, {})

    async def hlen(self, name: str) -> int:
        return len(self.data.get(name, {}))


def alert(kind: AlertKind = "break_suggestion") -> Alert:
    reality = RealityCheck(135, -12000, "EUR", -5333, 1000, "urge") if kind == "reality_check" else None
    return Alert("s1", datetime(2025, 3, 1, 22, 0, tzinfo=UTC), 0.8123, ["3 big losses", "faster play"], kind, reality)


def browser_sub(endpoint: str) -> PushSubscription:
    return msgspec.convert(FakeBrowser().subscription(endpoint), PushSubscription)


async def book_with(*endpoints: str) -> PushBook:
    book = PushBook(DictHashes())
    for endpoint in endpoints:
        await book.add(USER, browser_sub(endpoint))
    return book


def by_host(answers: dict[str, list[int]], seen: list[httpx.Request] | None = None) -> Handler:
    """Answer each host with its next status from the list (the last one repeats)."""

    async def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        statuses = answers[request.url.host]
        status = statuses.pop(0) if len(statuses) > 1 else statuses[0]
        return httpx.Response(status, headers={"Retry-After": "2"} if status == 429 else None)

    return handler


@pytest.fixture(autouse=True)
def no_waiting() -> Any:
    """stamina's test mode: the retries happen, their waits do not (what is waited is the backoff hook's answer)."""
    with stamina.set_testing(True, attempts=100, cap=True):
        yield


async def deliver(book: PushBook, handler: Handler, retry: RetryPolicy = FAST) -> Any:
    vapid = VapidKeys(ec.generate_private_key(ec.SECP256R1()))
    async with PushSender(vapid, "mailto:a@b.invalid", transport=httpx.MockTransport(handler)) as sender:
        report = await deliver_alert(book, sender, USER, alert_payload(alert()), retry=retry)
    return report, report.retried


async def test_every_subscription_of_the_player_gets_the_alert() -> None:
    book = await book_with("https://a.push/1", "https://b.push/2")
    report, _ = await deliver(book, by_host({"a.push": [201], "b.push": [202]}))
    assert sorted(report.delivered) == ["https://a.push/1", "https://b.push/2"]


async def test_a_gone_subscription_is_deleted_and_the_others_still_delivered() -> None:
    book = await book_with("https://a.push/1", "https://b.push/2", "https://c.push/3")
    report, _ = await deliver(book, by_host({"a.push": [410], "b.push": [404], "c.push": [201]}))
    assert sorted(report.gone) == ["https://a.push/1", "https://b.push/2"]
    assert [s.endpoint for s in await book.list(USER)] == ["https://c.push/3"]


async def test_a_busy_service_is_retried_and_then_delivered() -> None:
    book = await book_with("https://a.push/1")
    report, retried = await deliver(book, by_host({"a.push": [429, 503, 201]}))
    assert report.delivered == ["https://a.push/1"] and retried == 2


def test_the_wait_before_a_retry_is_the_services_retry_after_else_the_exponential_backoff() -> None:
    policy = RetryPolicy(max_wait_s=30.0)
    busy = SendResult("https://a.push/1", Outcome.RETRY, status=429, retry_after_s=2.0)
    assert policy.backoff(StillBusy(busy)) == 2.0  # Retry-After honoured
    assert policy.backoff(StillBusy(SendResult("https://a.push/1", Outcome.RETRY, status=503))) is True
    assert RetryPolicy(max_wait_s=1.0).backoff(StillBusy(busy)) is False  # longer than we wait here: the caller's
    assert policy.backoff(ValueError("cannot encrypt")) is False  # not a busy service: never retried


async def test_a_service_still_busy_after_the_retries_is_reported_pending_and_kept() -> None:
    book = await book_with("https://a.push/1")
    report, retried = await deliver(book, by_host({"a.push": [500]}), RetryPolicy(attempts=3, base_s=0.01))
    assert report.pending == ["https://a.push/1"] and retried == 2
    assert len(await book.list(USER)) == 1


async def test_a_retry_after_longer_than_the_wait_limit_is_left_to_the_caller() -> None:
    book = await book_with("https://a.push/1")
    report, retried = await deliver(book, by_host({"a.push": [429]}), RetryPolicy(max_wait_s=1.0))
    assert report.pending == ["https://a.push/1"] and retried == 0
    assert report.results[0].retry_after_s == 2.0  # what the job defers its next round by


async def test_a_permanent_failure_is_reported_not_retried_and_the_subscription_kept() -> None:
    seen: list[httpx.Request] = []
    book = await book_with("https://a.push/1", "https://b.push/2")
    report, _ = await deliver(book, by_host({"a.push": [403], "b.push": [201]}, seen))
    assert report.failed == ["https://a.push/1"] and report.delivered == ["https://b.push/2"]
    assert len(seen) == 2 and len(await book.list(USER)) == 2


async def test_a_stored_subscription_that_cannot_be_encrypted_for_fails_alone() -> None:
    store = DictHashes()
    book = PushBook(store)
    await book.add(USER, browser_sub("https://b.push/2"))
    broken = {"endpoint": "https://a.push/1", "keys": {"p256dh": "AAAA", "auth": "AAAA"}}
    store.data[keys.push_subscriptions(USER)]["https://a.push/1"] = json.dumps(broken).encode()
    report, _ = await deliver(book, by_host({"b.push": [201]}))
    assert report.failed == ["https://a.push/1"] and report.delivered == ["https://b.push/2"]


async def test_a_player_without_subscriptions_gets_an_empty_report() -> None:
    report, _ = await deliver(await book_with(), by_host({}))
    assert report.results == []


def test_a_break_suggestion_payload_offers_both_answers_and_links_to_the_session() -> None:
    payload = alert_payload(alert())
    assert json.loads(json.dumps(payload_dict(payload))) == {
        "kind": "break_suggestion",
        "title": "Time for a break?",
        "body": "Your play shows signs of tilt: 3 big losses; faster play. A few minutes away from the table helps.",
        "session_id": "s1",
        "score": 0.812,
        "reasons": ["3 big losses", "faster play"],
        "actions": [{"action": "break", "title": "Take a break"}, {"action": "fine", "title": "I'm fine"}],
        "url": "/app/live/s1",
    }
    assert payload.urgency == "high"


def test_a_start_check_and_a_pause_suggestion_say_when_they_come_and_offer_the_same_answers() -> None:
    start, pause = alert_payload(alert("start_check")), alert_payload(alert("pause_suggestion"))
    assert start.title == "Before you play this one" and "3 big losses; faster play" in start.body
    assert pause.title == "A break before the next session?" and "before the next one" in pause.body
    assert start.actions == pause.actions == alert_payload(alert()).actions
    assert start.urgency == pause.urgency == "high"


def test_a_reality_check_payload_shows_time_result_and_hourly() -> None:
    payload = alert_payload(alert("reality_check"))
    assert payload.kind == "reality_check" and payload.title == "Reality check"
    assert payload.body == "2 h 15 min played · net -€120.00 · -€53.33/h (usually €10.00/h)"
    assert payload.urgency == "normal"


def test_alerts_of_one_session_and_kind_share_a_topic_that_fits_rfc_8030() -> None:
    first, again, other = alert_payload(alert()), alert_payload(alert()), alert_payload(alert("reality_check"))
    assert first.topic == again.topic != other.topic
    assert len(first.topic) <= 32


def payload_dict(payload: AlertPayload) -> dict[str, Any]:
    decoded: dict[str, Any] = msgspec.json.decode(msgspec.json.encode(payload))
    return decoded


class SettledSets:
    """The Redis sets a push job keeps its settled endpoints in (a fake of the three calls it makes)."""

    def __init__(self) -> None:
        self.sets: dict[str, set[bytes]] = {}

    async def smembers(self, key: str) -> set[bytes]:
        return set(self.sets.get(key, set()))

    async def sadd(self, key: str, *members: str) -> int:
        self.sets.setdefault(key, set()).update(m.encode() for m in members)
        return len(members)

    async def expire(self, key: str, seconds: int) -> bool:
        return True


async def run_job(book: PushBook, handler: Handler, payload: bytes, job_try: int, store: SettledSets) -> Any:
    vapid = VapidKeys(ec.generate_private_key(ec.SECP256R1()))
    async with PushSender(vapid, "mailto:a@b.invalid", transport=httpx.MockTransport(handler)) as sender:
        ctx: dict[str, Any] = {"redis": store, "job_try": job_try, "job_id": "push:u1:s1:break_suggestion:1"}
        install_push(ctx, book, sender, RetryPolicy(attempts=1))
        return await push_alert_job(ctx, USER, payload)


async def test_the_job_asks_arq_to_retry_the_pending_devices_after_their_retry_after_and_only_them() -> None:
    book = await book_with("https://a.push/1", "https://b.push/2")
    payload = msgspec.json.encode(alert_payload(alert()))
    store, seen = SettledSets(), []
    with pytest.raises(Retry) as caught:
        await run_job(book, by_host({"a.push": [201], "b.push": [429]}, seen), payload, 1, store)
    assert (caught.value.defer_score or 0) >= 30_000  # arq runs the job again, deferred
    assert store.sets == {keys.push_settled("push:u1:s1:break_suggestion:1"): {b"https://a.push/1"}}
    seen.clear()
    counts = await run_job(book, by_host({"a.push": [201], "b.push": [201]}, seen), payload, 2, store)
    assert counts == {"delivered": 1, "gone": 0, "retry": 0, "failed": 0}
    assert [r.url.host for r in seen] == ["b.push"]  # the device that already has it is not sent it again


async def test_the_job_gives_up_after_its_last_round() -> None:
    book = await book_with("https://b.push/2")
    payload = msgspec.json.encode(alert_payload(alert()))
    counts = await run_job(book, by_host({"b.push": [500]}), payload, PUSH_ROUNDS, SettledSets())
    assert counts == {"delivered": 0, "gone": 0, "retry": 1, "failed": 0}  # no Retry raised: arq ends the job
