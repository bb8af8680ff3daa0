"""Tilt alerts by Web Push in real headless Chromium: the notification, the player's answer, the switch.

Chromium's DevTools protocol hands a push message straight to the service worker
(``ServiceWorker.deliverPushMessage``), so these tests need no push service; the server's encryption and delivery
are covered by tests/integration/push/.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from redis.asyncio import Redis

from adapters.push import PushBook
from api.accounts import Accounts, NewToken
from tests.conftest import eventually
from tests.e2e.conftest import LiveServer, shot

pytestmark = pytest.mark.e2e

NOTIFICATIONS = """async () => {
    const registration = await navigator.serviceWorker.ready;
    return (await registration.getNotifications()).map((n) => ({
        title: n.title, body: n.body, tag: n.tag, requireInteraction: n.requireInteraction,
        actions: n.actions.map((a) => ({action: a.action, title: a.title})), data: n.data,
    }));
}"""


def alert(session_id: str, kind: str = "break_suggestion") -> dict[str, Any]:
    """The decrypted payload the push worker sends (workers/push.py ``AlertPayload``)."""
    return {
        "kind": kind,
        "title": "Time for a break?",
        "body": "Your play shows signs of tilt: lost 3 big pots; faster play. A few minutes away from the table helps.",
        "session_id": session_id,
        "score": 0.87,
        "reasons": ["lost 3 big pots", "faster play", "long session"],
        "actions": [{"action": "break", "title": "Take a break"}, {"action": "fine", "title": "I'm fine"}],
        "url": f"/app/live/{session_id}",
    }


@pytest.fixture
async def push_book(server: LiveServer) -> AsyncIterator[PushBook]:
    client = Redis.from_url(server.redis_url)
    yield PushBook(client)
    await client.aclose()


async def pair(context: Any, server: LiveServer, accounts: Accounts) -> tuple[Any, NewToken]:
    """A new player pairs this browser, which may show notifications, and lands on home."""
    await context.grant_permissions(["notifications"], origin=server.url)
    user = await accounts.add_user(f"p{uuid.uuid4().hex[:10]}")
    code = await accounts.create_pairing(user.user_id, "phone")
    page = context.pages[0] if context.pages else await context.new_page()
    await page.goto(f"{server.url}/pair#{code}")
    await page.wait_for_url(f"{server.url}/app/")
    await page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=15000)
    return page, user


async def start_session(server: LiveServer, user: NewToken) -> str:
    """The player's other device (the CLI token) started a cash session an hour ago."""
    session_id = str(uuid.uuid4())
    stakes = {"small_blind": 100, "big_blind": 200, "ante": 0}
    started = {"format": "cash", "game": "NLH", "currency": "USD", "buy_in": 20000, "stakes": stakes}
    event = {
        "id": str(uuid.uuid4()),
        "session_id": session_id,
        "seq": 1,
        "type": "session.started",
        "at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        "data": started,
    }
    async with httpx.AsyncClient(base_url=server.url, headers={"Authorization": f"Bearer {user.token}"}) as api:
        answer = await api.post("/api/v1/events", json={"events": [event]})
    assert answer.json()["accepted"] == 1, answer.text
    return session_id


# Counts the notifications the worker finished showing. Chromium drops a notification that getNotifications()
# reads while it is still being displayed, so the tests look only once the worker's showNotification resolved.
COUNT_SHOWN = """() => {
    const registration = self.registration;
    if (!registration.shownCount) {
        const show = registration.showNotification.bind(registration);
        registration.shownCount = 0;
        registration.showNotification = (...args) => show(...args).then(() => { registration.shownCount += 1; });
    }
    return registration.shownCount;
}"""


def app_worker(context: Any) -> Any:
    return next(w for w in context.service_workers if w.url.endswith("/sw.js"))


async def push(context: Any, page: Any, server: LiveServer, payload: dict[str, Any]) -> None:
    """Deliver one push message to the app's service worker through the DevTools protocol; wait until it is shown."""
    worker = app_worker(context)
    before = await worker.evaluate(COUNT_SHOWN)
    cdp = await context.new_cdp_session(page)
    registrations: dict[str, str] = {}

    def seen(params: dict[str, Any]) -> None:
        for r in params["registrations"]:
            if not r["isDeleted"]:
                registrations[r["scopeURL"]] = r["registrationId"]

    cdp.on("ServiceWorker.workerRegistrationUpdated", seen)
    await cdp.send("ServiceWorker.enable")
    scope = f"{server.url}/"
    await eventually(lambda: _has(registrations, scope), timeout=10)
    await cdp.send(
        "ServiceWorker.deliverPushMessage",
        {"origin": server.url, "registrationId": registrations[scope], "data": json.dumps(payload)},
    )
    await eventually(lambda: _more(worker, before), timeout=10)


async def _has(registrations: dict[str, str], scope: str) -> bool:
    return scope in registrations


async def _more(worker: Any, before: int) -> bool:
    return bool(await worker.evaluate(COUNT_SHOWN) > before)


async def shown(page: Any) -> list[dict[str, Any]]:
    notes: list[dict[str, Any]] = await page.evaluate(NOTIFICATIONS)
    return notes


async def tap_alert_button(context: Any, session_id: str, action: str) -> str:
    """What a tap on the notification's button runs in the service worker (no DevTools call clicks one)."""
    outcome: str = await app_worker(context).evaluate(
        """async ([tag, action]) => {
            const [notification] = await self.registration.getNotifications({ tag });
            return answerAlert(notification, action);
        }""",
        [f"tilt-{session_id}", action],
    )
    return outcome


async def session_events(server: LiveServer, user: NewToken, session_id: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=server.url, headers={"Authorization": f"Bearer {user.token}"}) as api:
        answer = await api.get(f"/api/v1/sessions/{session_id}/events")
    events: list[dict[str, Any]] = answer.json()
    return events


async def test_a_break_suggestion_is_shown_with_its_reasons_and_both_answers(
    browser_context: Any, server: LiveServer, accounts: Accounts
) -> None:
    page, user = await pair(browser_context, server, accounts)
    session_id = await start_session(server, user)
    await push(browser_context, page, server, alert(session_id))
    [note] = await shown(page)
    assert note["title"] == "Time for a break?"
    assert note["body"].startswith("Your play shows signs of tilt: lost 3 big pots; faster play.")
    assert note["body"].endswith("\n· long session"), "reasons missing from the body are listed, none twice"
    assert note["body"].count("faster play") == 1
    assert note["actions"] == [{"action": "break", "title": "Take a break"}, {"action": "fine", "title": "I'm fine"}]
    assert note["tag"] == f"tilt-{session_id}"
    assert note["requireInteraction"] is True
    assert note["data"]["session_id"] == session_id
    assert note["data"]["url"] == f"/app/live/{session_id}"


async def test_a_newer_alert_for_the_same_session_replaces_the_older_one(
    browser_context: Any, server: LiveServer, accounts: Accounts
) -> None:
    page, user = await pair(browser_context, server, accounts)
    session_id = await start_session(server, user)
    await push(browser_context, page, server, alert(session_id))
    assert len(await shown(page)) == 1
    reality = alert(session_id, "reality_check") | {"title": "Reality check", "body": "1 h 5 min played", "reasons": []}
    await push(browser_context, page, server, reality)
    [note] = await shown(page)
    assert note["title"] == "Reality check"
    assert note["requireInteraction"] is False, "a reality check does not stay on screen until answered"


async def test_im_fine_on_an_alert_records_tilt_feedback_in_the_session(
    browser_context: Any, server: LiveServer, accounts: Accounts
) -> None:
    page, user = await pair(browser_context, server, accounts)
    session_id = await start_session(server, user)
    await push(browser_context, page, server, alert(session_id))
    assert len(await shown(page)) == 1
    assert await tap_alert_button(browser_context, session_id, "fine") == "ok"
    events = await session_events(server, user, session_id)
    assert [(e["type"], e["data"]) for e in events[1:]] == [("tilt.feedback", {"response": "fine"})]
    assert await shown(page) == [], "the answered alert is closed"


async def test_take_a_break_on_an_alert_records_the_answer_and_pauses_the_clock(
    browser_context: Any, server: LiveServer, accounts: Accounts
) -> None:
    page, user = await pair(browser_context, server, accounts)
    session_id = await start_session(server, user)
    await push(browser_context, page, server, alert(session_id))
    assert len(await shown(page)) == 1
    assert await tap_alert_button(browser_context, session_id, "break") == "ok"
    events = await session_events(server, user, session_id)
    assert [(e["type"], e["data"]) for e in events[1:]] == [
        ("tilt.feedback", {"response": "break"}),
        ("break.started", {}),
    ]
    assert {e["seq"] for e in events[1:]} == {1, 2}, "this phone's own seq slots, next to the other device's seq 1"
    await page.goto(f"{server.url}/app/live/{session_id}")
    await page.wait_for_selector("[data-testid=status]:has-text('on break')")


async def test_the_switch_says_why_when_the_browser_has_no_push_service(
    browser_context: Any, server: LiveServer, accounts: Accounts, push_book: PushBook
) -> None:
    page, user = await pair(browser_context, server, accounts)
    toggle = page.locator("[data-testid=push-toggle]")
    await page.wait_for_selector("[data-testid=push-toggle][data-state=off]")
    box = await toggle.bounding_box()
    assert box is not None and box["height"] >= 44 and box["width"] >= 44
    await page.evaluate("Push.settings.subscribeTimeoutMs = 3000")  # the real wait is 20 s
    await toggle.click()
    # Headless Chromium has no push service: subscribing fails or never answers, and the player is told so.
    await page.wait_for_selector("[data-testid=push-status]:has-text('could not subscribe')", timeout=10000)
    assert await toggle.get_attribute("data-state") == "off"
    assert await push_book.list(user.user_id) == []
    await shot(page, "push-unavailable")


def browser_keys() -> dict[str, str]:
    """A subscription's keys as a browser makes them: a P-256 public point and a 16-byte auth secret."""
    point = ec.generate_private_key(ec.SECP256R1()).public_key()
    raw = point.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    b64 = base64.urlsafe_b64encode
    return {"p256dh": b64(raw).rstrip(b"=").decode(), "auth": b64(uuid.uuid4().bytes).rstrip(b"=").decode()}


async def test_the_switch_registers_the_subscription_with_the_server_and_off_removes_it(
    browser_context: Any, server: LiveServer, accounts: Accounts, push_book: PushBook
) -> None:
    page, user = await pair(browser_context, server, accounts)
    endpoint = f"https://push.example/send/{uuid.uuid4().hex}"
    # Stand in for the push service Chromium lacks here: a subscription like a real one, made with the server's key.
    await page.evaluate(
        """([endpoint, keys]) => {
            const proto = PushManager.prototype;
            let current = null;
            proto.getSubscription = async () => current;
            proto.subscribe = async (options) => {
                window.subscribedWith = new Uint8Array(options.applicationServerKey);
                current = {
                    endpoint,
                    toJSON: () => ({ endpoint, expirationTime: null, keys }),
                    unsubscribe: async () => { current = null; return true; },
                };
                return current;
            };
        }""",
        [endpoint, browser_keys()],
    )
    toggle = page.locator("[data-testid=push-toggle]")
    await page.wait_for_selector("[data-testid=push-toggle][data-state=off]")
    await toggle.click()
    await page.wait_for_selector("[data-testid=push-toggle][data-state=on]", timeout=10000)
    assert await toggle.get_attribute("aria-pressed") == "true"
    async with httpx.AsyncClient(base_url=server.url) as api:
        key = (await api.get("/api/v1/push/key")).json()["public_key"]
    subscribed_with = bytes(await page.evaluate("Array.from(window.subscribedWith)"))
    assert base64.urlsafe_b64encode(subscribed_with).rstrip(b"=").decode() == key
    assert [s.endpoint for s in await push_book.list(user.user_id)] == [endpoint]
    await shot(page, "push-on")
    await toggle.click()
    await page.wait_for_selector("[data-testid=push-toggle][data-state=off]", timeout=10000)
    assert await push_book.list(user.user_id) == []
