"""GraphQL mutations go through the REST path: the same ingest, the same per-event answers, the same services."""

from __future__ import annotations

import copy
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from redis.asyncio import Redis

from adapters.push import PushBook
from tests.conftest import LiveServer, Player, eventually
from tests.factories import SessionScript
from tests.integration.graphql.client import GraphQL, transaction
from tests.integration.push.browser import FakeBrowser

POST = """mutation($events: [JSON!]!) {
  postEvents(events: $events) { accepted duplicate rejected results { index status id reason rule } }
}"""


def mixed_batch() -> list[dict[str, Any]]:
    """Accepted, duplicate, and rejected for four different rules, in one batch."""
    s = SessionScript()
    start, stack = s.start(), s.stack(25000)
    same_seq = {**s.stack(1), "seq": stack["seq"]}
    future = {**s.stack(2), "at": (datetime.now(UTC) + timedelta(hours=2)).isoformat()}
    unknown = {**s.note("x"), "type": "hand.played"}
    negative = s.rebuy(-5)
    return [start, stack, dict(stack), same_seq, future, unknown, negative]


def fresh_ids(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same batch for a new session with new event ids (a repeated id keeps repeating)."""
    session, ids = str(uuid.uuid4()), {}
    renamed = copy.deepcopy(events)
    for event in renamed:
        event["id"] = ids.setdefault(event["id"], str(uuid.uuid4()))
        event["session_id"] = session
    return renamed


def without_ids(answer: dict[str, Any], events: list[dict[str, Any]]) -> dict[str, Any]:
    """An answer with the batch's ids and session id replaced by their position, to compare two batches.

    The clock-skew reason names how far ahead the device was *when it arrived*, which differs between two posts.
    """
    text = re.sub(r"is \d+ s ahead", "is N s ahead", str(answer))
    for index, event in enumerate(events):
        text = text.replace(event["id"], f"<id {index}>").replace(str(event["session_id"]), "<session>")
    return {"answer": text}


async def test_post_events_answers_event_by_event_exactly_as_rest(
    live_server: LiveServer, alice_gql: GraphQL, alice: Player
) -> None:
    batch = mixed_batch()
    graphql = (await alice_gql.data(POST, {"events": batch}))["postEvents"]
    twin = fresh_ids(batch)
    async with httpx.AsyncClient(base_url=live_server.url) as rest:
        response = await rest.post("/api/v1/events", json={"events": twin}, headers=alice.headers)
        again = (await rest.post("/api/v1/events", json={"events": batch}, headers=alice.headers)).json()
    assert response.status_code == 200
    assert [r["status"] for r in graphql["results"]] == [
        "accepted",
        "accepted",
        "duplicate",
        "rejected",
        "rejected",
        "rejected",
        "rejected",
    ]
    rest_answer = {k: v for k, v in response.json().items()}
    for result in rest_answer["results"]:  # GraphQL spells an absent reason or rule as null
        result.setdefault("reason", None)
        result.setdefault("rule", None)
    assert without_ids(graphql, batch) == without_ids(rest_answer, twin)
    # One store: the batch GraphQL accepted is a duplicate for REST.
    assert [r["status"] for r in again["results"][:3]] == ["duplicate"] * 3


async def test_a_malformed_batch_is_bad_user_input_as_rest_says_400(alice_gql: GraphQL) -> None:
    empty = await alice_gql.run(POST, {"events": []})
    assert empty.codes == ["BAD_USER_INPUT"] and "`$.events` is empty" in empty.errors[0]["message"]
    s = SessionScript()
    too_many = await alice_gql.run(POST, {"events": [s.start()] + [s.stack(100) for _ in range(500)]})
    assert too_many.codes == ["BAD_USER_INPUT"] and "at most 500 per batch" in too_many.errors[0]["message"]


async def test_record_transaction_is_one_event_through_the_same_intake(
    live_server: LiveServer, alice_gql: GraphQL, alice: Player
) -> None:
    query = "mutation($t: TransactionInput!) { recordTransaction(transaction: $t) { status id reason } }"
    deposit = transaction(1, amount=123456, note="from savings")
    first = (await alice_gql.data(query, {"t": deposit}))["recordTransaction"]
    again = (await alice_gql.data(query, {"t": deposit}))["recordTransaction"]
    bad = await alice_gql.data(query, {"t": {**deposit, "id": str(uuid.uuid4()), "seq": 2, "kind": "gift"}})
    assert first == {"status": "accepted", "id": deposit["id"], "reason": None}
    assert again["status"] == "duplicate"
    assert bad["recordTransaction"]["status"] == "rejected" and "gift" in bad["recordTransaction"]["reason"]

    async def listed() -> Any:
        return (await alice_gql.data("{ transactions { id kind amount currency note sessionId } }"))["transactions"]

    assert await eventually(listed) == [
        {
            "id": deposit["id"],
            "kind": "deposit",
            "amount": 123456,
            "currency": "USD",
            "note": "from savings",
            "sessionId": None,
        }
    ]
    async with httpx.AsyncClient(base_url=live_server.url) as rest:
        csv = (await rest.get("/api/v1/export/transactions.csv", headers=alice.headers)).text
    assert f"{deposit['id']}," in csv and ",1234.56,USD,from savings," in csv


async def test_push_subscriptions_are_added_and_removed_for_the_caller(
    alice_gql: GraphQL, alice: Player, redis: Redis
) -> None:
    endpoint = "https://push.example/alice"
    keys = FakeBrowser().subscription(endpoint)["keys"]
    add = "mutation($s: PushSubscriptionInput!) { addPushSubscription(subscription: $s) }"
    remove = "mutation($e: String!) { removePushSubscription(endpoint: $e) }"
    assert (await alice_gql.data(add, {"s": {"endpoint": endpoint, "keys": keys}}))["addPushSubscription"] == endpoint
    assert [s.endpoint for s in await PushBook(redis).list(alice.user_id)] == [endpoint]
    insecure = await alice_gql.run(add, {"s": {"endpoint": "http://10.0.0.1/x", "keys": keys}})
    assert insecure.codes == ["BAD_USER_INPUT"] and "must be an https:// URL" in insecure.errors[0]["message"]
    assert (await alice_gql.data(remove, {"e": endpoint}))["removePushSubscription"] is True
    assert (await alice_gql.data(remove, {"e": endpoint}))["removePushSubscription"] is False
    assert await PushBook(redis).list(alice.user_id) == []


async def test_post_events_keeps_the_same_new_session_quota_as_rest(
    alice_gql: GraphQL, live_server: LiveServer, alice: Player
) -> None:
    quota = 200  # the default SESSIONS_PER_DAY the live server runs with
    async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as client:
        for first in range(0, quota, 100):
            batch = [SessionScript().start() for _ in range(min(100, quota - first))]
            answer = await client.post("/api/v1/events", json={"events": batch}, headers=alice.headers)
            assert answer.json()["accepted"] == len(batch)
    one_more = await alice_gql.run(POST, {"events": [SessionScript().start()]})
    assert one_more.codes == ["RATE_LIMITED"]
    assert f"{quota} new sessions today already" in one_more.errors[0]["message"]


async def test_void_and_correct_event_go_through_the_same_intake_and_fold(
    live_server: LiveServer, alice_gql: GraphQL, alice: Player
) -> None:
    s = SessionScript()
    start, rebuy, count = s.start(), s.rebuy(20000), s.stack(23500)
    await alice_gql.data(POST, {"events": [start, rebuy, count]})
    void = "mutation($v: AmendmentInput!) { voidEvent(void: $v) { status id reason } }"
    correct = "mutation($c: AmendmentInput!, $d: JSON!) { correctEvent(correction: $c, data: $d) { status reason } }"
    undo = s.void(rebuy)
    envelope = {"id": undo["id"], "seq": undo["seq"], "at": undo["at"], "sessionId": s.session_id}
    voided = (await alice_gql.data(void, {"v": {**envelope, "eventId": rebuy["id"]}}))["voidEvent"]
    assert voided == {"status": "accepted", "id": undo["id"], "reason": None}
    fix = s.correct(count, {"amount": 25300})
    envelope = {"id": fix["id"], "seq": fix["seq"], "at": fix["at"], "sessionId": s.session_id, "eventId": count["id"]}
    wrong = await alice_gql.data(correct, {"c": {**envelope, "id": str(uuid.uuid4())}, "d": {"amount": "lots"}})
    assert wrong["correctEvent"]["status"] == "rejected" and "`$.data.data.amount`" in wrong["correctEvent"]["reason"]
    fixed = (await alice_gql.data(correct, {"c": envelope, "d": {"amount": 25300}}))["correctEvent"]
    assert fixed["status"] == "accepted", fixed
    state = "query($id: String!) { session(id: $id) { live { state { invested rebuys stack } } } }"
    live = (await alice_gql.data(state, {"id": s.session_id}))["session"]["live"]["state"]
    assert live == {"invested": 20000, "rebuys": 0, "stack": 25300}
    async with httpx.AsyncClient(base_url=live_server.url) as rest:
        events = (await rest.get(f"/api/v1/sessions/{s.session_id}/events", headers=alice.headers)).json()
    assert [e["type"] for e in events][-2:] == ["event.voided", "event.corrected"]
