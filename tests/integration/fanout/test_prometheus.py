"""A real Prometheus (Debian's) scrapes a real `bankroll serve` with the metrics token, and PromQL through its HTTP
API finds the counters of a known batch: events by outcome, batch size, what each sink wrote, readiness."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import need
from tests.factories import SessionScript
from tests.served import Served, alive, bankroll, second_terminal
from tests.services import PrometheusServer, missing_prometheus_tools, missing_redis_tools, start_prometheus

TOKEN = "prometheus-scrapes-0123456789"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    need(missing_redis_tools())
    server = Served(tmp_path / "var", env={"BANKROLL_METRICS_TOKEN": TOKEN})
    try:
        yield server.wait_ready()
    finally:
        server.stop()


@pytest.fixture
def prometheus(tmp_path: Path, served: Served) -> Iterator[PrometheusServer]:
    """Prometheus scraping the server every half second; always stopped, and checked stopped."""
    need(missing_prometheus_tools())
    server = start_prometheus(tmp_path / "prometheus", f"127.0.0.1:{served.port}", TOKEN)
    pid = server.pid
    try:
        yield server
    finally:
        server.stop()
    assert pid is not None and not alive(pid), "Prometheus outlived its test"


def values(prometheus: PrometheusServer, promql: str, by: str) -> dict[str, float]:
    """The query's samples by the value of label ``by``."""
    return {sample["metric"].get(by, ""): float(sample["value"][1]) for sample in prometheus.query(promql)}


def wait_for(prometheus: PrometheusServer, expected: dict[str, dict[str, float]], timeout: float = 60.0) -> None:
    """Poll each query (``promql -> {label value: value}``, label named after ``by:`` in the key) until all match."""
    deadline = time.monotonic() + timeout
    got: dict[str, dict[str, float]] = {}
    while time.monotonic() < deadline:
        got = {key: values(prometheus, *key.split(" by:")) for key in expected}
        if got == expected:
            return
        time.sleep(0.2)
    pytest.fail(f"Prometheus did not show the expected figures within {timeout} s: got {got}, wanted {expected}")


def test_prometheus_scrapes_the_counters_of_a_known_batch(served: Served, prometheus: PrometheusServer) -> None:
    token = bankroll("user", "add", "scraped", env=second_terminal(served), check=True).stdout.strip().splitlines()[-1]
    headers = {"Authorization": f"Bearer {token}"}
    s = SessionScript()
    start, stack = s.start(buy_in=20000), s.stack(23000)
    bad = dict(s.stack(1), data={"amount": -5})  # below the bound: rejected as invalid
    first = httpx.post(f"{served.base}/api/v1/events", json={"events": [start, stack, bad]}, headers=headers)
    assert [r["status"] for r in first.json()["results"]] == ["accepted", "accepted", "rejected"]
    again = httpx.post(f"{served.base}/api/v1/events", json={"events": [start]}, headers=headers)
    assert again.json()["duplicate"] == 1

    wait_for(
        prometheus,
        {
            'up{job="bankroll"} by:job': {"bankroll": 1},
            "sum by (outcome) (bankroll_events_total) by:outcome": {"accepted": 2, "rejected": 1, "duplicate": 1},
            'bankroll_events_total{outcome="rejected"} by:reason': {"invalid": 1},
            "bankroll_batch_events_count by:": {"": 2},
            "bankroll_batch_events_sum by:": {"": 4},
            # The embedded worker wrote both accepted events to ClickHouse and through the tilt model.
            "bankroll_sink_events_total by:sink": {"clickhouse": 2, "tilt": 2},
            "bankroll_outbox_backlog by:sink": {"clickhouse": 0, "tilt": 0},
            "bankroll_dead_letters by:sink": {"clickhouse": 0, "tilt": 0},
            "bankroll_ready by:check": {"redis": 1, "clickhouse": 1, "tilt_model": 1},
        },
    )
    batches = values(prometheus, "bankroll_sink_batch_seconds_count", "sink")
    assert batches["clickhouse"] >= 1 and batches["tilt"] >= 1
    assert values(prometheus, "sum(bankroll_sink_failures_total)", "") in ({}, {"": 0.0})
