"""Subscriptions over graphql-transport-ws: a session's live state after each batch, and tilt alerts as they happen."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from redis.asyncio import Redis

from adapters import keys
from adapters.clickhouse import Warehouse
from bankroll.wiring import Runtime, make_app
from shared.events import MAX_BATCH, to_wire
from shared.settings import Settings
from shared.simulator import simulate
from tests.conftest import Player, eventually, make_player, serve
from tests.factories import SessionScript
from tests.integration.graphql.client import GraphQL, request
from workers.sinks import ClickHouseSink
from workers.tilt.sink import TiltSink

POST = "mutation($events: [JSON!]!) { postEvents(events: $events) { accepted rejected } }"
STATE = "subscription($id: String!) { sessionState(id: $id) { state { stack profit version } netProfit } }"


async def listening(redis: Redis, channel: str) -> bool:
    [(_, count)] = await redis.pubsub_numsub(channel)
    return bool(count)


async def test_session_state_comes_now_and_after_every_accepted_batch(
    alice_gql: GraphQL, bob_gql: GraphQL, alice: Player, redis: Redis
) -> None:
    s = SessionScript()
    await alice_gql.data(POST, {"events": [s.start(buy_in=20000)]})
    states: list[dict[str, Any]] = []

    async def received(count: int) -> bool:
        return len(states) >= count

    async with alice_gql.socket() as session:

        async def listen() -> None:
            async for result in session.subscribe(request(STATE, {"id": s.session_id})):
                states.append(result["sessionState"])
                if len(states) == 3:
                    return

        listener = asyncio.create_task(listen())
        await eventually(lambda: listening(redis, keys.live_channel(alice.user_id, s.session_id)))
        await eventually(lambda: received(1))  # the state as it is now comes first
        await alice_gql.data(POST, {"events": [s.stack(31000)]})
        await eventually(lambda: received(2))
        # Bob's batch of the same session id goes to a session of his own: Alice's stream sees nothing of it.
        assert (await bob_gql.data(POST, {"events": [SessionScript(session_id=s.session_id).stack(1)]}))["postEvents"][
            "accepted"
        ] == 1
        await alice_gql.data(POST, {"events": [s.rebuy(20000), s.stack(45000)]})
        await asyncio.wait_for(listener, timeout=10)
    assert [(st["state"]["stack"], st["state"]["profit"]) for st in states] == [
        (20000, 0),
        (31000, 11000),
        (45000, 5000),
    ]
    assert [st["state"]["version"] for st in states] == sorted(st["state"]["version"] for st in states)


async def test_a_tilting_player_receives_the_tilt_alert_over_a_subscription(
    settings: Settings, warehouse: Warehouse, redis: Redis
) -> None:
    # The simulated recreational player of seed 5 tilts (see tests/integration/push/test_tilt_to_push.py).
    sim = simulate(6, 6, 5, datetime.now(UTC) - timedelta(days=30))
    tilted = await make_player(redis, "tilted")
    events = [to_wire(e) for user, e in sim.events if user == "recreational-000"]
    runtime = Runtime(settings=settings, warehouse=warehouse, sinks=[ClickHouseSink(warehouse), TiltSink()])
    with serve(make_app(runtime)) as server:
        player = GraphQL(server, tilted.token)
        async with player.socket() as session:
            alerts: list[dict[str, Any]] = []

            async def listen() -> None:
                subscription = "subscription { alerts { sessionId at score reasons kind } }"
                async for result in session.subscribe(request(subscription)):
                    alerts.append(result["alerts"])
                    return

            listener = asyncio.create_task(listen())
            await eventually(lambda: listening(redis, keys.alert_channel(tilted.user_id)))
            for start in range(0, len(events), MAX_BATCH):
                answer = await player.data(POST, {"events": events[start : start + MAX_BATCH]})
                assert answer["postEvents"]["rejected"] == 0
            await asyncio.wait_for(listener, timeout=90)
        kept = (await player.data("{ alerts(limit: 100) { sessionId at score reasons kind } }"))["alerts"]
    tilt_sessions = {str(s) for s, started in sim.episodes.items() if started is not None}
    [alert] = alerts
    assert alert["kind"] == "break_suggestion" and alert["sessionId"] in tilt_sessions
    assert alert["reasons"] and alert["score"] >= 0.3
    assert alert in kept  # the alert pushed live is the one the query lists


async def test_a_subscription_takes_the_token_from_the_handshake_or_the_init_payload(
    alice_gql: GraphQL, alice: Player
) -> None:
    s = SessionScript()
    await alice_gql.data(POST, {"events": [s.start(buy_in=30000)]})
    ways: list[dict[str, Any]] = [
        {"init_payload": {}, "headers": alice.headers},  # a script's client: Authorization on the handshake
        {"init_payload": {"token": alice.token}},
        {"init_payload": {"Authorization": f"Bearer {alice.token}"}},
    ]
    for way in ways:
        async with alice_gql.socket(**way) as session:
            async for result in session.subscribe(request(STATE, {"id": s.session_id})):
                assert result["sessionState"]["state"]["stack"] == 30000, way
                break


async def test_revoking_the_device_ends_its_subscriptions(alice_gql: GraphQL, alice: Player, redis: Redis) -> None:
    s = SessionScript()
    await alice_gql.data(POST, {"events": [s.start()]})
    [device] = (await alice_gql.data("{ devices { deviceId } }"))["devices"]
    states: list[dict[str, Any]] = []

    async def received(count: int) -> bool:
        return len(states) >= count

    async with alice_gql.socket() as session:

        async def listen() -> None:
            async for result in session.subscribe(request(STATE, {"id": s.session_id})):
                states.append(result["sessionState"])

        listener = asyncio.create_task(listen())
        await eventually(lambda: received(1))
        await alice_gql.data(
            "mutation($d: String!) { revokeDevice(deviceId: $d) { deviceId } }", {"d": device["deviceId"]}
        )
        await asyncio.wait_for(listener, timeout=10)  # the server completed the subscription
    assert len(states) == 1
