"""A sink that cannot take an entry dead-letters it and goes on: one poison entry never holds other users' events."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Any

import msgspec
import pytest
from redis import Redis as SyncRedis
from redis.asyncio import Redis

from adapters import keys
from adapters.clickhouse import Warehouse
from adapters.outbox import ENTRY_FIELD, OutboxEntry, encode_entry
from bankroll import cli
from shared.events import decode_stored
from shared.settings import Settings
from tests.conftest import Player, eventually
from tests.factories import played_session
from tests.integration.fanout.test_sinks import post_played_session, serving, stored
from workers import deadletters, outbox
from workers.sinks import ClickHouseSink, Sink
from workers.worker import Fanout

# Within this a poison entry's neighbours reach ClickHouse (the sweep runs every second; the bisection of a
# refused batch costs a few inserts). Generous for two shared cores.
FEW_SECONDS = 10.0
EVENT_ID = "6f1c3a52-5a0e-4c1e-9d5b-0d6c0e7f1a01"


def poison_entry(player: Player, **event_changes: Any) -> tuple[bytes, list[str]]:
    """An outbox entry holding a valid session start with ``v`` 70,000, which the UInt16 column cannot hold.

    It bypasses intake on purpose: intake bounds keep such values out today; this is what the fan-out does if
    one still gets through (an older release, a loosened rule, a replayed backup).
    """
    _, events = played_session()
    first = {**events[0], "v": 70_000, **event_changes}
    event = decode_stored(json.dumps(first).encode())
    return encode_entry(OutboxEntry(user_id=player.user_id, events=[event], states=[])), [first["id"]]


async def _rows(warehouse: Warehouse, player: Player, want: int) -> bool:
    return await stored(warehouse, player) == (want, want)


async def test_a_poison_entry_is_dead_lettered_and_never_delays_another_users_rows(
    settings: Settings, warehouse: Warehouse, redis: Redis, alice: Player, bob: Player
) -> None:
    raw, poison_ids = poison_entry(alice)
    async with serving(settings, warehouse, [ClickHouseSink(warehouse)]) as client:
        await redis.xadd(keys.OUTBOX, {ENTRY_FIELD: raw})
        events = await post_played_session(client, bob)
        # Bob's rows arrive while the poison entry is still being retried ahead of them in the stream.
        assert await eventually(lambda: _rows(warehouse, bob, len(events)), timeout=FEW_SECONDS)
        assert await eventually(lambda: deadletters.count(redis), timeout=FEW_SECONDS) == 1
        [letter] = await deadletters.listing(redis)
        assert (letter.sink, letter.user_id, letter.event_ids) == ("clickhouse", alice.user_id, poison_ids)
        assert "refused 5 times" in letter.reason and "v" in letter.reason
        assert letter.entry == raw
        # Dead-lettered means settled: the group holds nothing and the stream can be trimmed.
        assert (await redis.xpending(keys.OUTBOX, "sink:clickhouse"))["pending"] == 0
        ready = (await client.get("/readyz")).json()
        assert {k: ready["fanout"][k] for k in ("dead_letters", "backlog_clickhouse")} == {
            "dead_letters": 1,
            "backlog_clickhouse": 0,
        }
        # And the next batches of the poisoned user flow as well.
        more = await post_played_session(client, alice)
        assert await eventually(lambda: _rows(warehouse, alice, len(more)), timeout=FEW_SECONDS)


async def test_an_entry_that_cannot_be_decoded_is_dead_lettered_at_once_and_the_rest_flows(
    settings: Settings, warehouse: Warehouse, redis: Redis, alice: Player
) -> None:
    unknown = {**played_session()[1][0], "id": EVENT_ID, "type": "no.such.type"}
    broken = msgspec.json.encode({"user_id": alice.user_id, "events": [unknown], "states": []})
    async with serving(settings, warehouse, [ClickHouseSink(warehouse)]) as client:
        await redis.xadd(keys.OUTBOX, {ENTRY_FIELD: broken})
        await redis.xadd(keys.OUTBOX, {ENTRY_FIELD: b"\xff not even json"})
        events = await post_played_session(client, alice)
        assert await eventually(lambda: _rows(warehouse, alice, len(events)), timeout=FEW_SECONDS)
        letters = await eventually(lambda: _at_least(redis, 2), timeout=FEW_SECONDS)
    by_entry = {letter.entry: letter for letter in letters}
    assert by_entry[broken].user_id == alice.user_id and by_entry[broken].event_ids == [EVENT_ID]
    assert "cannot be decoded" in by_entry[broken].reason and "no.such.type" in by_entry[broken].reason
    assert by_entry[b"\xff not even json"].user_id == "?"


async def _at_least(redis: Redis, n: int) -> list[deadletters.DeadLetter] | None:
    letters = await deadletters.listing(redis)
    return letters if len(letters) >= n else None


class RefusingSink(Sink):
    """The real ClickHouse sink, refusing every batch that holds one user's events; counts what it is given.

    Fault injection around the real sink (as a store refusing a value would), not a fake.
    """

    name = "clickhouse"

    def __init__(self, inner: Sink, refused_user: str) -> None:
        self.inner = inner
        self.refused_user = refused_user
        self.given: Counter[str] = Counter()

    async def write(self, entries: list[OutboxEntry]) -> None:
        for entry in entries:
            for event in entry.events:
                self.given[str(event.id)] += 1
        if any(entry.user_id == self.refused_user for entry in entries):
            raise ValueError(f"cannot store user {self.refused_user}")
        await self.inner.write(entries)


async def test_a_sink_failing_on_one_users_events_does_not_redeliver_the_others(
    settings: Settings, warehouse: Warehouse, redis: Redis, alice: Player, bob: Player
) -> None:
    quiet = msgspec.structs.replace(settings, embedded_worker=False)
    sink = RefusingSink(ClickHouseSink(warehouse), refused_user=alice.user_id)
    async with serving(quiet, warehouse, [sink]) as client:
        await outbox.ensure_groups(redis, [sink])
        theirs = [await post_played_session(client, bob) for _ in range(3)]
        mine = await post_played_session(client, alice)
        theirs.append(await post_played_session(client, bob))
    fanout = Fanout(redis, [sink])
    await fanout.drain()
    bob_ids = {e["id"] for batch in theirs for e in batch}
    assert await stored(warehouse, bob) == (len(bob_ids), len(bob_ids))
    given_once = {i: sink.given[i] for i in bob_ids}
    assert all(given_once.values())
    for _ in range(outbox.MAX_TRIES - 1):
        await fanout.drain()
    # Alice's entry was tried again on every drain and then given up; Bob's events were never sent again.
    assert {i: sink.given[i] for i in bob_ids} == given_once
    assert sink.given[mine[0]["id"]] >= outbox.MAX_TRIES
    [letter] = await deadletters.listing(redis)
    assert letter.user_id == alice.user_id and "cannot store user" in letter.reason
    assert (await redis.xpending(keys.OUTBOX, outbox.group(sink)))["pending"] == 0


def test_the_cli_lists_and_replays_dead_letters(
    settings: Settings, redis: Redis, alice: Player, capsys: pytest.CaptureFixture[str]
) -> None:
    raw, poison_ids = poison_entry(alice)
    sync = SyncRedis.from_url(settings.redis_url or "")
    try:
        message_id = sync.xadd(keys.OUTBOX, {ENTRY_FIELD: raw})
        asyncio.run(_dead_letter(settings, message_id, raw))
        assert cli.main(["deadletters", "list"]) == 0
        listed = capsys.readouterr().out
        assert f"user={alice.user_id}" in listed and poison_ids[0] in listed and "1 dead letter(s)" in listed
        [(letter_id, _)] = sync.xrange(keys.DEAD_LETTERS)
        assert cli.main(["deadletters", "replay", letter_id.decode()]) == 0
        assert "replayed 1 dead letter(s)" in capsys.readouterr().out
        assert sync.xlen(keys.DEAD_LETTERS) == 0
        assert sync.xrange(keys.OUTBOX)[-1][1][ENTRY_FIELD] == raw
        assert cli.main(["deadletters", "replay", letter_id.decode()]) == 1  # gone: said so, not a traceback
    finally:
        sync.close()


async def _dead_letter(settings: Settings, message_id: bytes, raw: bytes) -> None:
    client = Redis.from_url(settings.redis_url or "")
    try:
        await deadletters.dead_letter(client, "clickhouse", message_id, raw, "refused 5 times; last: DataError")
    finally:
        await client.aclose()


@pytest.fixture(autouse=True)
def _cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI reads its settings from the environment: point it at the test's Redis."""
    monkeypatch.setenv("REDIS_URL", settings.redis_url or "")
    monkeypatch.setenv("BANKROLL_DATA_DIR", str(settings.data_dir))
