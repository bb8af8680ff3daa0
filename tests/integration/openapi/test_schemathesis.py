"""The OpenAPI document against the live app: schemathesis sends generated requests (valid and invalid) to every
operation, on a real socket with the real Redis and chDB, and runs all its checks: no 5xx, no answer that breaks
the document (status codes, content types, bodies, headers), invalid input refused, valid input accepted."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from redis.asyncio import Redis
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.conftest import LiveServer, make_player

# Streams never end on their own: they are specified by tests/integration/sessions and tests/e2e instead. GraphQL
# has one generic operation whose queries an OpenAPI fuzzer cannot generate: tests/integration/graphql covers it.
SKIPPED = r"(.*/stream$)|(^/graphql$)"
EXAMPLES = 12  # per operation: about 30 operations, a bounded run
# Every check runs on every operation, except one on these: "a request the document allows is accepted". Their
# inputs obey rules JSON Schema cannot state, so a request can match the document and still get a precise 400.
RULES_BEYOND_THE_SCHEMA = {
    **{
        f"GET /api/v1/stats/{name}": "calendar dates, stake labels and currencies checked against the player's data"
        for name in ("bankroll", "breakdown", "calendar", "drawdown", "guidance", "summary")
    },
    "POST /api/v1/import/csv": "the CSV text itself: columns, dates, amounts",
    "POST /api/v1/push/subscriptions": "an https push-service endpoint and a P-256 public key",
}


async def test_every_operation_keeps_its_document_under_generated_requests(
    live_server: LiveServer, redis: Redis
) -> None:
    player = await make_player(redis, "fuzz")
    schema = schemathesis.openapi.from_url(f"{live_server.url}/schema/openapi.json")
    schema.config.update(base_url=live_server.url)
    failures: dict[str, str] = {}
    operations = [result.ok() for result in schema.exclude(path_regex=SKIPPED).get_all_operations()]
    assert len(operations) >= 25

    for operation in operations:
        excluded = [positive_data_acceptance] if operation.label in RULES_BEYOND_THE_SCHEMA else []

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
            derandomize=True,  # the same requests every run: a red run can be repeated
        )
        def run(case: Any) -> None:
            case.call_and_validate(headers=player.headers, excluded_checks=excluded)  # noqa: B023 — run at once

        try:
            await _in_thread(run)
        except (Exception, BaseExceptionGroup) as exc:  # every operation is tried; all failures reported together
            failures[operation.label] = f"{type(exc).__name__}: {exc}"[:2000]
    assert not failures, f"{sorted(failures)}\n\n" + "\n\n".join(f"{k}\n{v}" for k, v in failures.items())


async def _in_thread(fn: Any) -> None:
    import anyio.to_thread

    await anyio.to_thread.run_sync(fn)
