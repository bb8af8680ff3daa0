"""GraphQL access: no data without a token, and no root field that reaches another player's data."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest
from gql.transport.exceptions import TransportQueryError
from redis.asyncio import Redis

from adapters import keys
from adapters.clickhouse import Warehouse
from adapters.push import PushBook
from shared.tilt_policy import Alert
from tests.conftest import LiveServer, Player, eventually
from tests.factories import SessionScript, played_session
from tests.integration.graphql.client import GraphQL, request, transaction
from tests.integration.graphql.conftest import root_fields
from tests.integration.push.browser import FakeBrowser

POST = "mutation($events: [JSON!]!) { postEvents(events: $events) { accepted rejected results { status reason } } }"
TRANSACTION = """mutation($t: TransactionInput!) { recordTransaction(transaction: $t) { status reason } }"""
ADD_PUSH = "mutation($s: PushSubscriptionInput!) { addPushSubscription(subscription: $s) }"
VOID = "mutation($v: AmendmentInput!) { voidEvent(void: $v) { status reason } }"
CORRECT = "mutation($c: AmendmentInput!, $d: JSON!) { correctEvent(correction: $c, data: $d) { status reason } }"


def amendment(session_id: str, event_id: str) -> dict[str, Any]:
    at = datetime.now(UTC).isoformat()
    return {"id": str(uuid.uuid4()), "seq": 90, "at": at, "eventId": event_id, "sessionId": session_id}


# One operation per root field; the test below fails when a root field is added without one.
QUERIES: dict[str, tuple[str, dict[str, Any]]] = {
    "me": ("{ me { userId } }", {}),
    "sessions": ("{ sessions { edges { node { sessionId } } } }", {}),
    "session": ("query($id: String!) { session(id: $id) { id } }", {"id": str(uuid.uuid4())}),
    "stats": ("{ stats { summary { sessions } } }", {}),
    "transactions": ("{ transactions { id } }", {}),
    "alerts": ("{ alerts { sessionId } }", {}),
    "devices": ("{ devices { deviceId } }", {}),
}
MUTATIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "postEvents": (POST, {"events": [SessionScript().start()]}),
    "recordTransaction": (
        TRANSACTION,
        {"t": transaction(1)},
    ),
    "voidEvent": (VOID, {"v": amendment(str(uuid.uuid4()), str(uuid.uuid4()))}),
    "correctEvent": (CORRECT, {"c": amendment(str(uuid.uuid4()), str(uuid.uuid4())), "d": {"amount": 1}}),
    "revokeDevice": ('mutation { revokeDevice(deviceId: "x") { deviceId } }', {}),
    "addPushSubscription": (
        ADD_PUSH,
        {"s": {"endpoint": "https://push.example/1", "keys": {"p256dh": "a", "auth": "b"}}},
    ),
    "removePushSubscription": ('mutation { removePushSubscription(endpoint: "https://push.example/1") }', {}),
}
SUBSCRIPTIONS: dict[str, str] = {
    "sessionState": f'subscription {{ sessionState(id: "{uuid.uuid4()}") {{ playedSeconds }} }}',
    "alerts": "subscription { alerts { sessionId } }",
}


def test_every_root_field_has_an_access_case() -> None:
    assert set(QUERIES) == root_fields("query")
    assert set(MUTATIONS) == root_fields("mutation")
    assert set(SUBSCRIPTIONS) == root_fields("subscription")


@pytest.mark.parametrize("token", [None, "pbt_not-a-token"])
async def test_every_query_and_mutation_without_a_valid_token_is_unauthenticated_and_touches_nothing(
    live_server: LiveServer, redis: Redis, token: str | None
) -> None:
    caller = GraphQL(live_server, token)
    for name, (operation, variables) in {**QUERIES, **MUTATIONS}.items():
        answer = await caller.run(operation, variables)
        assert answer.codes == ["UNAUTHENTICATED"], (name, answer.errors)
        assert not answer.data or not any(answer.data.values()), (name, answer.data)
        assert "token" in answer.errors[0]["message"]
    assert await redis.xlen(keys.OUTBOX) == 0  # no event slipped in


async def test_every_subscription_without_a_token_is_unauthenticated(anonymous_gql: GraphQL) -> None:
    async with anonymous_gql.socket() as session:
        for name, operation in SUBSCRIPTIONS.items():
            with pytest.raises(TransportQueryError) as caught:
                async for _ in session.subscribe(request(operation)):
                    pytest.fail(f"{name} sent data without a token")
            assert [e["extensions"]["code"] for e in caught.value.errors or []] == ["UNAUTHENTICATED"], name


async def test_introspection_works_without_a_token_but_gives_no_data(anonymous_gql: GraphQL) -> None:
    answer = await anonymous_gql.data("{ __schema { queryType { name fields { name } } } }")
    assert answer["__schema"]["queryType"]["name"] == "Query"
    assert {f["name"] for f in answer["__schema"]["queryType"]["fields"]} == root_fields("query")


async def test_a_revoked_device_token_is_unauthenticated_at_once(
    live_server: LiveServer, alice_gql: GraphQL, alice: Player
) -> None:
    [device] = (await alice_gql.data("{ devices { deviceId current } }"))["devices"]
    revoked = await alice_gql.data(
        "mutation($d: String!) { revokeDevice(deviceId: $d) { deviceId revokedAt current } }",
        {"d": device["deviceId"]},
    )
    assert revoked["revokeDevice"]["revokedAt"] is not None
    assert (await alice_gql.run("{ me { userId } }")).codes == ["UNAUTHENTICATED"]


class AliceHas(msgspec.Struct):
    running: str
    ended: str
    device_id: str
    endpoint: str


@pytest.fixture
async def alice_has(alice_gql: GraphQL, alice: Player, warehouse: Warehouse, redis: Redis) -> AliceHas:
    """Alice: a running and an ended session, a deposit, a tilt alert, a push subscription — all where they live."""
    running = SessionScript()
    ended, events = played_session()
    deposit = {
        **SessionScript().event("transaction.recorded", {"kind": "deposit", "amount": 50000, "currency": "USD"}),
        "session_id": None,
    }
    answer = await alice_gql.data(POST, {"events": [running.start(), *events, deposit]})
    assert answer["postEvents"]["rejected"] == 0
    alert = Alert(session_id=running.session_id, at=datetime.now(UTC), score=0.9, reasons=["rebuys in a row"])
    await redis.lpush(keys.alerts(alice.user_id), msgspec.json.encode(alert))
    endpoint = "https://push.example/alice-phone"
    browser = FakeBrowser().subscription(endpoint)
    await alice_gql.data(ADD_PUSH, {"s": {"endpoint": endpoint, "keys": browser["keys"]}})

    async def in_warehouse() -> bool:
        rows = await warehouse.query(
            "SELECT (SELECT count() FROM sessions FINAL WHERE user_id = {u:String} AND status = 'ended'), "
            "(SELECT count() FROM transactions FINAL WHERE user_id = {u:String})",
            {"u": alice.user_id},
        )
        return tuple(rows[0]) == (1, 1)

    await eventually(in_warehouse)
    [device] = (await alice_gql.data("{ devices { deviceId } }"))["devices"]
    return AliceHas(running.session_id, ended.session_id, device["deviceId"], endpoint)


async def test_alice_sees_her_own_data_through_every_query(alice_gql: GraphQL, alice_has: AliceHas) -> None:
    data = await alice_gql.data(
        """query($id: String!) {
          me { userName }
          sessions { edges { node { sessionId } } }
          session(id: $id) { id live { state { status } } }
          stats { summary { sessions } }
          transactions { amount kind }
          alerts { sessionId reasons }
          devices { deviceId }
        }""",
        {"id": alice_has.ended},
    )
    assert data["me"]["userName"] == "alice"
    assert {e["node"]["sessionId"] for e in data["sessions"]["edges"]} == {alice_has.running, alice_has.ended}
    assert data["session"]["live"]["state"]["status"] == "ended"
    assert data["stats"]["summary"]["sessions"] == 1
    assert data["transactions"] == [{"amount": 50000, "kind": "deposit"}]
    assert data["alerts"] == [{"sessionId": alice_has.running, "reasons": ["rebuys in a row"]}]
    assert [d["deviceId"] for d in data["devices"]] == [alice_has.device_id]


async def test_no_query_reaches_another_players_data(bob_gql: GraphQL, bob: Player, alice_has: AliceHas) -> None:
    data = await bob_gql.data(
        """query($running: String!, $ended: String!) {
          me { userId userName }
          sessions { edges { node { sessionId } } }
          filtered: sessions(filter: {currency: "USD"}) { edges { node { sessionId } } }
          running: session(id: $running) { id }
          ended: session(id: $ended) { id events { id } }
          stats { summary { sessions profit } bankroll { currency } drawdown { current } }
          transactions { id }
          alerts { sessionId }
          devices { deviceId }
        }""",
        {"running": alice_has.running, "ended": alice_has.ended},
    )
    assert data["me"] == {"userId": bob.user_id, "userName": "bob"}
    assert data["sessions"]["edges"] == data["filtered"]["edges"] == []
    assert data["running"] is None and data["ended"] is None
    assert data["stats"] == {"summary": {"sessions": 0, "profit": 0}, "bankroll": [], "drawdown": {"current": 0}}
    assert data["transactions"] == data["alerts"] == []
    assert alice_has.device_id not in {d["deviceId"] for d in data["devices"]}


async def test_no_mutation_reaches_another_players_data(
    bob_gql: GraphQL, alice_gql: GraphQL, alice: Player, alice_has: AliceHas, redis: Redis
) -> None:
    intruder = SessionScript(session_id=alice_has.running)
    posted = await bob_gql.data(POST, {"events": [intruder.stack(99999)]})
    # Answered as for an id no one has: the event starts a session of Bob's own (its start may come later).
    assert posted["postEvents"]["results"] == [{"status": "accepted", "reason": None}]
    # A void or correction naming Alice's ids lands in that session of Bob's own, where no such event is.
    voided = await bob_gql.data(VOID, {"v": amendment(alice_has.running, alice_has.running)})
    assert voided["voidEvent"]["status"] == "rejected"
    assert "is not an event of this session" in voided["voidEvent"]["reason"]
    corrected = await bob_gql.data(CORRECT, {"c": amendment(alice_has.running, alice_has.running), "d": {}})
    assert corrected["correctEvent"]["status"] == "rejected"
    assert "is not an event of this session" in corrected["correctEvent"]["reason"]
    withdrawal = transaction(50, "withdrawal", sessionId=alice_has.running)
    recorded = await bob_gql.data(TRANSACTION, {"t": withdrawal})
    assert recorded["recordTransaction"]["status"] == "accepted"  # into Bob's session of that id, as above
    revoke = await bob_gql.run(
        "mutation($d: String!) { revokeDevice(deviceId: $d) { deviceId } }", {"d": alice_has.device_id}
    )
    assert revoke.codes == ["BAD_USER_INPUT"] and "no device" in revoke.errors[0]["message"]
    removed = await bob_gql.data(
        "mutation($e: String!) { removePushSubscription(endpoint: $e) }", {"e": alice_has.endpoint}
    )
    assert removed["removePushSubscription"] is False
    # Alice keeps everything: her token, her subscription, her session's stack.
    live = await alice_gql.data(
        "query($id: String!) { session(id: $id) { live { state { stack } } } }", {"id": alice_has.running}
    )
    assert live["session"]["live"]["state"]["stack"] == 20000
    assert [s.endpoint for s in await PushBook(redis).list(alice.user_id)] == [alice_has.endpoint]


async def test_no_subscription_reaches_another_players_data(
    bob_gql: GraphQL, alice_gql: GraphQL, alice: Player, bob: Player, alice_has: AliceHas, redis: Redis
) -> None:
    async with bob_gql.socket() as session:
        with pytest.raises(TransportQueryError) as caught:
            async for _ in session.subscribe(
                request(
                    "subscription($id: String!) { sessionState(id: $id) { playedSeconds } }", {"id": alice_has.running}
                )
            ):
                pytest.fail("bob received alice's live state")
        [error] = caught.value.errors or []
        assert error["extensions"]["code"] == "NOT_FOUND"
        assert error["message"] == f"no session {alice_has.running}"  # as for a session that does not exist

    # Bob listens to alerts; one is published for Alice, then one for Bob: Bob's first must be his own.
    async with bob_gql.socket() as session:
        received: list[dict[str, Any]] = []

        async def listen() -> None:
            async for result in session.subscribe(request("subscription { alerts { sessionId } }")):
                received.append(result["alerts"])
                return

        listener = asyncio.create_task(listen())

        async def subscribed() -> bool:
            counts = await redis.pubsub_numsub(keys.alert_channel(bob.user_id))
            return bool(counts[0][1])

        await eventually(subscribed)
        for user, session_id in ((alice.user_id, alice_has.running), (bob.user_id, "bobs-session")):
            alert = Alert(session_id=session_id, at=datetime.now(UTC) - timedelta(seconds=1), score=0.8, reasons=[])
            await redis.publish(keys.alert_channel(user), msgspec.json.encode(alert))
        await asyncio.wait_for(listener, timeout=10)
    assert received == [{"sessionId": "bobs-session"}]
