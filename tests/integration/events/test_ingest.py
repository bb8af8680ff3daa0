"""POST /api/v1/events: every event is answered on its own; nothing accepted is lost."""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import msgspec
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from bankroll.wiring import Runtime, make_app
from tests.conftest import LiveServer, Player
from tests.factories import SessionScript, played_session


async def post(client: AsyncTestClient[Any], player: Player, events: list[dict[str, Any]]) -> dict[str, Any]:
    response = await client.post("/api/v1/events", json={"events": events}, headers=player.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_played_session_is_accepted_and_folded_into_live_state(
    client: AsyncTestClient[Any], alice: Player
) -> None:
    script, events = played_session()
    body = await post(client, alice, events)
    assert body["accepted"] == len(events) and body["rejected"] == 0
    live = (await client.get(f"/api/v1/sessions/{script.session_id}", headers=alice.headers)).json()
    assert live["state"]["status"] == "ended"
    assert live["state"]["invested"] == 40000
    assert live["state"]["profit"] == 1000
    # 60 + 30 + 30 + 20 (break) + 1 + 1 + 60 + 58 minutes from start to end, minus the 20-minute break.
    assert live["played_seconds"] == (260 - 20) * 60
    assert live["hourly"] == round(1000 * 3600 / ((260 - 20) * 60))


async def test_duplicate_event_is_reported_and_not_counted_twice(client: AsyncTestClient[Any], alice: Player) -> None:
    s = SessionScript()
    first = [s.start(), s.rebuy(20000)]
    await post(client, alice, first)
    again = await post(client, alice, [first[1]])
    assert again["results"] == [{"index": 0, "status": "duplicate", "id": first[1]["id"]}]
    live = (await client.get(f"/api/v1/sessions/{s.session_id}", headers=alice.headers)).json()
    assert live["state"]["invested"] == 40000


async def test_out_of_order_arrival_gives_the_same_state_as_in_order(
    client: AsyncTestClient[Any], alice: Player, bob: Player
) -> None:
    script, events = played_session()
    await post(client, alice, events)
    shuffled = copy.deepcopy(events)
    for event in shuffled:
        event["id"] = str(uuid.uuid4())
        event["session_id"] = str(uuid.UUID(int=uuid.UUID(script.session_id).int ^ 1))
    # Bob's phone sends the same session in three late batches, newest first.
    for chunk in (shuffled[6:], shuffled[3:6], shuffled[:3]):
        await post(client, bob, chunk)
    a = (await client.get(f"/api/v1/sessions/{script.session_id}", headers=alice.headers)).json()
    b = (await client.get(f"/api/v1/sessions/{shuffled[0]['session_id']}", headers=bob.headers)).json()
    for key in ("profit", "invested", "played_seconds", "break_seconds", "status", "version", "stack"):
        assert a["state"][key] == b["state"][key], key


async def test_a_bad_event_rejects_only_itself(client: AsyncTestClient[Any], alice: Player) -> None:
    s = SessionScript()
    good, bad, later = s.start(), s.rebuy(20000), s.stack(30000)
    bad["data"]["amount"] = 200.5
    body = await post(client, alice, [good, bad, later])
    assert [r["status"] for r in body["results"]] == ["accepted", "rejected", "accepted"]
    assert "Expected `int`, got `float` - at `$.data.amount`" in body["results"][1]["reason"]


async def test_each_kind_of_bad_event_gets_a_precise_reason(client: AsyncTestClient[Any], alice: Player) -> None:
    s = SessionScript()
    start = s.start()
    cases: list[tuple[dict[str, Any], str]] = []

    wrong_type = s.stack(1)
    wrong_type["data"]["amount"] = "lots"
    cases.append((wrong_type, "Expected `int`, got `str` - at `$.data.amount`"))
    unknown = s.event("chips.stolen", {})
    cases.append((unknown, "unknown event type 'chips.stolen'"))
    negative = s.rebuy(-500)
    cases.append((negative, "Expected `int` >= 0 - at `$.data.amount`"))
    seq_zero = s.stack(100)
    seq_zero["seq"] = 0
    cases.append((seq_zero, "Expected `int` >= 1 - at `$.seq`"))
    future = s.stack(100)
    future["at"] = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    cases.append((future, "ahead of the server clock"))
    naive = s.stack(100)
    naive["at"] = "2026-01-01T10:00:00"
    cases.append((naive, "Expected `datetime` with a timezone component"))
    bad_currency = SessionScript().start(currency="XYZ")
    cases.append((bad_currency, "'XYZ' is not an ISO 4217 currency code"))
    mood = s.mood(9)
    cases.append((mood, "Expected `int` <= 5 - at `$.data.score`"))
    not_uuid = s.stack(100)
    not_uuid["id"] = "abc"
    cases.append((not_uuid, "Invalid UUID - at `$.id`"))

    body = await post(client, alice, [start] + [event for event, _ in cases])
    assert body["results"][0]["status"] == "accepted"
    for result, (_, expected) in zip(body["results"][1:], cases, strict=True):
        assert result["status"] == "rejected"
        assert expected in result["reason"], (expected, result["reason"])


async def test_seq_reused_with_different_content_is_rejected_and_the_first_kept(
    client: AsyncTestClient[Any], alice: Player
) -> None:
    s = SessionScript()
    first = [s.start(), s.stack(25000)]
    await post(client, alice, first)
    clash = dict(first[1], id=str(uuid.uuid4()), data={"amount": 1})
    body = await post(client, alice, [clash])
    assert body["results"][0]["status"] == "rejected"
    assert "`$.seq` 2 is already taken" in body["results"][0]["reason"]
    live = (await client.get(f"/api/v1/sessions/{s.session_id}", headers=alice.headers)).json()
    assert live["state"]["stack"] == 25000


async def test_an_id_reused_for_different_content_is_rejected(client: AsyncTestClient[Any], alice: Player) -> None:
    s = SessionScript()
    start, stack = s.start(), s.stack(25000)
    await post(client, alice, [start, stack])
    body = await post(client, alice, [dict(stack, data={"amount": 99})])
    assert body["results"][0]["status"] == "rejected"
    assert "already used for a different event" in body["results"][0]["reason"]


async def test_events_after_session_ended_are_refused(client: AsyncTestClient[Any], alice: Player) -> None:
    s = SessionScript()
    await post(client, alice, [s.start(), s.end(30000)])
    body = await post(client, alice, [s.stack(100)])
    assert body["results"][0]["status"] == "rejected"
    assert "events after session.ended are refused" in body["results"][0]["reason"]


async def test_another_users_session_id_is_unknown_to_the_caller_and_writing_it_starts_their_own(
    client: AsyncTestClient[Any], alice: Player, bob: Player
) -> None:
    s = SessionScript()
    await post(client, alice, [s.start(buy_in=20000), s.stack(25000)])
    base = f"/api/v1/sessions/{s.session_id}"
    for path in (base, f"{base}/events", f"{base}/stream?token={bob.token}"):
        missing = await client.get(path.replace(s.session_id, str(uuid.uuid4())), headers=bob.headers)
        theirs = await client.get(path, headers=bob.headers)
        assert theirs.status_code == missing.status_code == 404
        assert theirs.json()["detail"] == f"no session {s.session_id}"
    # Posting into it answers as for a new id: Bob's events start a session of his own; Alice's stays as it was.
    intruder = SessionScript(session_id=s.session_id)
    body = await post(client, bob, [intruder.start(buy_in=500), intruder.stack(1)])
    assert [r["status"] for r in body["results"]] == ["accepted", "accepted"]
    alices = (await client.get(f"/api/v1/sessions/{s.session_id}", headers=alice.headers)).json()["state"]
    bobs = (await client.get(f"/api/v1/sessions/{s.session_id}", headers=bob.headers)).json()["state"]
    assert (alices["stack"], alices["version"], bobs["stack"], bobs["version"]) == (25000, 2, 1, 2)


async def test_an_event_id_another_user_used_is_accepted_like_a_new_one_and_reuse_within_a_user_is_not(
    client: AsyncTestClient[Any], alice: Player, bob: Player
) -> None:
    a, b = SessionScript(), SessionScript()
    start = a.start()
    await post(client, alice, [start])
    reused = dict(b.start(), id=start["id"])
    assert (await post(client, bob, [reused]))["results"][0]["status"] == "accepted"
    assert (await post(client, bob, [reused]))["results"][0]["status"] == "duplicate"  # idempotent within Bob
    again = dict(SessionScript().start(), id=start["id"])  # Alice's id in another session of hers
    body = await post(client, alice, [again])
    assert body["results"][0]["status"] == "rejected"
    assert (
        body["results"][0]["reason"]
        == f"event id {start['id']} was already used for a different event; an id names one event"
    )


async def test_a_body_too_large_is_refused_with_413(client: AsyncTestClient[Any], alice: Player) -> None:
    response = await client.post(
        "/api/v1/events",
        content=b'{"events": ["' + b"x" * (10 * 1024 * 1024) + b'"]}',
        headers={**alice.headers, "content-type": "application/json"},
    )
    assert response.status_code == 413


async def test_non_json_is_refused_with_a_clear_400(client: AsyncTestClient[Any], alice: Player) -> None:
    response = await client.post("/api/v1/events", content=b"hello", headers=alice.headers)
    assert response.status_code == 400
    assert "body is not valid JSON" in response.json()["detail"]


async def test_more_than_500_events_is_refused(client: AsyncTestClient[Any], alice: Player) -> None:
    s = SessionScript()
    response = await client.post(
        "/api/v1/events", json={"events": [s.stack(1) for _ in range(501)]}, headers=alice.headers
    )
    assert response.status_code == 400
    assert "has 501 events; at most 500" in response.json()["detail"]


async def test_missing_or_wrong_token_gets_401(client: AsyncTestClient[Any], alice: Player) -> None:
    s = SessionScript()
    missing = await client.post("/api/v1/events", json={"events": [s.start()]})
    wrong = await client.post("/api/v1/events", json={"events": [s.start()]}, headers={"Authorization": "Bearer x"})
    assert missing.status_code == 401 and "missing bearer token" in missing.json()["detail"]
    assert wrong.status_code == 401 and "unknown or revoked" in wrong.json()["detail"]
    assert (await client.get("/api/v1/sessions")).status_code == 401


async def test_a_user_lists_only_their_own_sessions(client: AsyncTestClient[Any], alice: Player, bob: Player) -> None:
    a, b = SessionScript(), SessionScript()
    await post(client, alice, [a.start()])
    await post(client, bob, [b.start()])
    listed = (await client.get("/api/v1/sessions", headers=alice.headers)).json()
    assert [item["session_id"] for item in listed] == [a.session_id]


async def test_the_commit_runs_by_evalsha_and_survives_a_flushed_script_cache(
    runtime: Runtime, alice: Player, redis: Redis
) -> None:
    # No embedded worker: its own scripts would blur the command counts.
    api_only = dataclasses.replace(runtime, settings=msgspec.structs.replace(runtime.settings, embedded_worker=False))
    s = SessionScript()
    async with AsyncTestClient(app=make_app(api_only), timeout=30) as client:
        await redis.config_resetstat()
        assert (await post(client, alice, [s.start()]))["accepted"] == 1
        await redis.script_flush()  # what a Redis restart does to the script cache
        assert (await post(client, alice, [s.rebuy(20000)]))["accepted"] == 1
        stats = await redis.info("commandstats")
        assert "cmdstat_eval" not in stats  # the script is never sent whole
        assert stats["cmdstat_evalsha"]["calls"] >= 2
        live = (await client.get(f"/api/v1/sessions/{s.session_id}", headers=alice.headers)).json()
    assert live["state"]["invested"] == 40000


async def test_malformed_bytes_in_one_event_reject_only_that_event(client: AsyncTestClient[Any], alice: Player) -> None:
    """Invalid UTF-8, a lone surrogate, deep nesting, a huge number, a duplicate key: each is one rejection."""
    s = SessionScript()
    good = [json.dumps(e).encode() for e in (s.start(), s.stack(21000), s.stack(22000))]
    note = json.dumps(s.note("x")).encode()
    bad = [
        note.replace(b'"text": "x"', b'"text": "\xff\xfe"'),
        note.replace(b'"text": "x"', b'"text": "\\ud800"'),
        note.replace(b'"text": "x"', b'"text": ' + b"[" * 3000 + b"]" * 3000),
        note.replace(b'"text": "x"', b'"text": "x", "extra": ' + b"[" * 3000 + b"]" * 3000),
        note.replace(b'"text": "x"', b'"text": "x", "size": 1' + b"0" * 400),
        note.replace(b'"text": "x"', b'"text": "x", "text": "y"'),
    ]
    body = b'{"events": [' + b", ".join([good[0], *bad, good[1], good[2]]) + b"]}"
    response = await client.post(
        "/api/v1/events", content=body, headers={**alice.headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 200, response.text
    statuses = [r["status"] for r in response.json()["results"]]
    assert statuses == ["accepted", *["rejected"] * len(bad), "accepted", "accepted"]
    reasons = [r["reason"] for r in response.json()["results"][1:-2]]
    assert "not valid UTF-8" in reasons[0] and "appears twice" in reasons[-1]
    assert all(reasons), reasons


async def test_a_body_whose_outer_shape_is_broken_is_one_400(client: AsyncTestClient[Any], alice: Player) -> None:
    for body in (b'{"events": [{"a": 1}', b'[{"events": []}]', b'{"events": [], "more": 1}', b"\xff\xfe\xfd"):
        response = await client.post(
            "/api/v1/events", content=body, headers={**alice.headers, "Content-Type": "application/json"}
        )
        assert response.status_code == 400, (body, response.text)


async def test_notes_per_session_are_capped_with_a_precise_rejection(
    client: AsyncTestClient[Any], alice: Player
) -> None:
    s = SessionScript()
    body = await post(client, alice, [s.start(), *[s.note(f"n{i}", after_minutes=0.01) for i in range(205)]])
    statuses = [r["status"] for r in body["results"]]
    assert statuses == ["accepted"] * 201 + ["rejected"] * 5
    assert "already has 200 notes, the most one session may hold" in body["results"][-1]["reason"]


async def test_events_per_session_are_capped_with_a_precise_rejection(
    client: AsyncTestClient[Any], alice: Player
) -> None:
    s = SessionScript(start=datetime.now(UTC) - timedelta(hours=40))
    events = [s.start(), *[s.stack(20000 + i, after_minutes=1) for i in range(2000)]]
    answers = [await post(client, alice, events[i : i + 500]) for i in range(0, len(events), 500)]
    results = [r for a in answers for r in a["results"]]
    assert sum(r["status"] == "accepted" for r in results) == 2000
    assert [r["status"] for r in results[2000:]] == ["rejected"]
    assert "already holds 2000 events, the most one session may hold" in results[-1]["reason"]


async def test_events_of_a_session_whose_start_was_refused_are_refused_until_a_fixed_start_comes(
    client: AsyncTestClient[Any], alice: Player
) -> None:
    s = SessionScript()
    bad_start = s.start(currency="ABC")
    stack, rebuy = s.stack(25000), s.rebuy(20000)
    body = await post(client, alice, [bad_start, stack])
    assert [r["status"] for r in body["results"]] == ["rejected", "rejected"]
    assert "ISO 4217" in body["results"][0]["reason"]
    assert "not started" in body["results"][1]["reason"] and body["results"][1]["rule"] == "not_started"
    later = await post(client, alice, [rebuy])  # a tap sent on its own afterwards: refused too, not nameless
    assert later["results"][0]["status"] == "rejected" and "not started" in later["results"][0]["reason"]
    assert (await client.get(f"/api/v1/sessions/{s.session_id}", headers=alice.headers)).status_code == 404
    # Fix and resend: the corrected start and the same taps as new events (new ids, next seqs, their own times).
    fixed = {**bad_start, "id": str(uuid.uuid4()), "seq": 4, "data": {**bad_start["data"], "currency": "USD"}}
    again = [{**e, "id": str(uuid.uuid4()), "seq": 5 + i} for i, e in enumerate([stack, rebuy])]
    resent = await post(client, alice, [fixed, *again])
    assert [r["status"] for r in resent["results"]] == ["accepted"] * 3
    live = (await client.get(f"/api/v1/sessions/{s.session_id}", headers=alice.headers)).json()
    assert (live["state"]["currency"], live["state"]["invested"], live["state"]["stack"]) == ("USD", 40000, 45000)


async def test_events_arriving_before_a_start_that_was_never_refused_are_kept(
    client: AsyncTestClient[Any], alice: Player
) -> None:
    s = SessionScript()
    start, stack = s.start(), s.stack(25000)
    assert (await post(client, alice, [stack]))["results"][0]["status"] == "accepted"
    assert (await post(client, alice, [start]))["results"][0]["status"] == "accepted"


async def test_batches_racing_into_one_session_are_each_decided_on_fresh_data_and_all_kept(
    live_server: LiveServer, alice: Player
) -> None:
    s = SessionScript()
    start = s.start()
    counts = [s.stack(21000 + i, 1) for i in range(40)]
    async with httpx.AsyncClient(base_url=live_server.url, headers=alice.headers, timeout=30) as api:
        assert (await api.post("/api/v1/events", json={"events": [start]})).status_code == 200
        # Forty batches at once on a real socket: most find another one committed between their read and their
        # commit, and decide again on what is stored now instead of overwriting it.
        answers = await asyncio.gather(*(api.post("/api/v1/events", json={"events": [c]}) for c in counts))
        assert [(a.status_code, a.json()["accepted"]) for a in answers] == [(200, 1)] * 40
        live = (await api.get(f"/api/v1/sessions/{s.session_id}")).json()["state"]
    assert live["version"] == 41
    assert sorted(p["stack"] for p in live["stack_points"]) == [20000] + [21000 + i for i in range(40)]
    assert live["stack"] == 21039  # the latest count by device time, whatever order the commits took
