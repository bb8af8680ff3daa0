"""The live state in small pieces: a batch rewrites the numbers, appends its list items, and publishes only that."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import msgspec
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from adapters import keys
from adapters.sessions import SessionStore, StoredState, decode_update
from api.accounts import Accounts
from api.sessions.live import SessionReader
from api.streams import StreamLimit
from shared.events import decode_stored
from shared.reducer import LiveView, Note, fold
from tests.conftest import Player
from tests.factories import SessionScript

NOTES = 60


async def post(client: AsyncTestClient[Any], player: Player, events: list[dict[str, Any]]) -> None:
    answer = await client.post("/api/v1/events", json={"events": events}, headers=player.headers)
    assert answer.json()["accepted"] == len(events), answer.text


async def session_with_notes(client: AsyncTestClient[Any], alice: Player) -> SessionScript:
    s = SessionScript()
    await post(client, alice, [s.start(buy_in=20000)] + [s.note(f"read {i}: " + "x" * 400) for i in range(NOTES)])
    return s


async def test_a_batch_appends_its_items_rewrites_only_the_numbers_and_publishes_only_its_news(
    client: AsyncTestClient[Any], redis: Redis, alice: Player
) -> None:
    s = await session_with_notes(client, alice)
    k = keys.session(alice.user_id, s.session_id)
    pubsub = redis.pubsub()
    await pubsub.subscribe(keys.live_channel(alice.user_id, s.session_id))
    try:
        await post(client, alice, [s.note("new read"), s.stack(23000)])
        message = None
        while message is None:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=5)
    finally:
        await pubsub.aclose()
    update = decode_update(message["data"])
    assert [n.text for n in update.state.notes] == ["new read"]  # the news only, not the 60 notes before
    assert (update.after, update.state.version, update.replaced) == (NOTES + 1, NOTES + 3, False)
    assert len(message["data"]) < 2_000 and update.state.stack == 23000
    numbers = msgspec.json.decode(await redis.get(k.state), type=StoredState)
    assert numbers.state.notes == [] and numbers.state.stack_points == []  # the numbers key holds no list
    assert await redis.llen(k.notes) == NOTES + 1 and await redis.llen(k.stack_points) == 2
    live = (await client.get(f"/api/v1/sessions/{s.session_id}", headers=alice.headers)).json()["state"]
    assert [n["text"] for n in live["notes"]][-2:] == [f"read {NOTES - 1}: " + "x" * 400, "new read"]
    assert [p["stack"] for p in live["stack_points"]] == [20000, 23000]


async def test_an_event_out_of_order_rebuilds_the_lists_in_reducer_order(
    client: AsyncTestClient[Any], redis: Redis, alice: Player
) -> None:
    s = await session_with_notes(client, alice)
    late = SessionScript(session_id=s.session_id, start=s.clock - timedelta(minutes=NOTES - 1, seconds=30))
    late.seq = 1_000  # a slot of its own; its time falls between the first two notes
    await post(client, alice, [late.note("written offline")])
    live = (await client.get(f"/api/v1/sessions/{s.session_id}", headers=alice.headers)).json()["state"]
    events = (await client.get(f"/api/v1/sessions/{s.session_id}/events", headers=alice.headers)).json()
    folded = fold(s.session_id, [decode_stored(msgspec.json.encode(e)) for e in events])
    assert [n["text"] for n in live["notes"]] == [n.text for n in folded.notes]
    assert [n["text"] for n in live["notes"]][:3] == ["read 0: " + "x" * 400, "written offline", "read 1: " + "x" * 400]
    assert await redis.llen(keys.session(alice.user_id, s.session_id).notes) == NOTES + 1


async def test_the_live_feed_joins_each_update_onto_what_it_showed(
    client: AsyncTestClient[Any], redis: Redis, alice: Player
) -> None:
    s = await session_with_notes(client, alice)
    principal = await Accounts(redis).authenticate(alice.token)
    views = SessionReader(SessionStore(redis, 30)).views(principal, s.session_id, StreamLimit(5), keepalive_s=30)
    try:
        first = await anext(views)
        assert first is not None and len(first.state.notes) == NOTES
        await post(client, alice, [s.note("after the first view"), s.mood(2)])

        async def next_view() -> LiveView:
            while (view := await anext(views)) is None:  # a keepalive (the subscription's confirmations too)
                pass
            return view

        second = await asyncio.wait_for(next_view(), timeout=10)
        assert [n.text for n in second.state.notes][-1] == "after the first view"
        assert len(second.state.notes) == NOTES + 1 and [m.score for m in second.state.moods] == [2]
        live = (await client.get(f"/api/v1/sessions/{s.session_id}", headers=alice.headers)).json()["state"]
        assert msgspec.to_builtins(second.state) == msgspec.to_builtins(
            msgspec.convert(live, type(second.state))
        )  # the feed's state is the stored one, note for note
    finally:
        await views.aclose()


async def test_a_state_stored_whole_by_an_older_release_is_read_and_moved_apart_by_the_next_batch(
    client: AsyncTestClient[Any], redis: Redis, alice: Player
) -> None:
    s = SessionScript()
    await post(client, alice, [s.start(buy_in=20000), s.note("kept whole")])
    k = keys.session(alice.user_id, s.session_id)
    stored = msgspec.json.decode(await redis.get(k.state), type=StoredState)
    stored.state.notes = [Note(at=stored.state.started_at, text="kept whole", tags=[])]  # type: ignore[arg-type]
    await redis.set(k.state, msgspec.json.encode(stored))  # as an older release kept it: one blob
    await redis.delete(k.notes)
    live = (await client.get(f"/api/v1/sessions/{s.session_id}", headers=alice.headers)).json()["state"]
    assert [n["text"] for n in live["notes"]] == ["kept whole"]
    await post(client, alice, [s.note("next")])
    assert msgspec.json.decode(await redis.get(k.state), type=StoredState).state.notes == []
    assert [msgspec.json.decode(n)["text"] for n in await redis.lrange(k.notes, 0, -1)] == ["kept whole", "next"]
