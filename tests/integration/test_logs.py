"""Logs, read from the real processes' output: one format for `bankroll serve` and `bankroll worker` (JSON lines
off a terminal, readable text with LOG_FORMAT=text), every line of a request naming its request id and its user,
and no token on any line: not the bearer, not the live stream's ``?token=`` (uvicorn's access line included)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import need
from tests.factories import SessionScript
from tests.served import Served, Worker, bankroll, second_terminal
from tests.services import missing_redis_tools

# What `serve` prints on stdout for its owner (its address, and the address a phone opens or why there is none):
# announcements, not log lines. The rest of the output is the log.
ANNOUNCED = ("Poker Bankroll Tracker on ", "A phone ", "First the phone trusts")
TEXT_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL) +[\w.]+: ")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    need(missing_redis_tools())
    server = Served(tmp_path / "var")  # its output goes to a file: LOG_FORMAT=auto writes JSON lines
    try:
        yield server.wait_ready()
    finally:
        server.stop()


def log_lines(log: str) -> list[dict[str, Any]]:
    """Every line of the log as JSON (a line that is not JSON fails the test here)."""
    lines = [json.loads(line) for line in log.splitlines() if line and not line.startswith(ANNOUNCED)]
    assert lines, "nothing was logged"
    for line in lines:
        assert {"time", "level", "logger", "message"} <= line.keys(), line
    return lines


def read_first_state(url: str) -> str:
    """Open the live stream, read its first state, close it; the stream's request id."""
    with httpx.stream("GET", url, timeout=30) as stream:
        assert stream.status_code == 200
        for line in stream.iter_lines():
            if line.startswith("event: state"):
                return stream.headers["x-request-id"]
    raise AssertionError("the stream ended before its first state")


def test_off_a_terminal_each_line_is_json_with_the_request_and_user_and_never_a_token(served: Served) -> None:
    token = bankroll("user", "add", "logged", env=second_terminal(served), check=True).stdout.strip().splitlines()[-1]
    headers = {"Authorization": f"Bearer {token}"}
    s = SessionScript()
    bad = dict(s.stack(1), data={"amount": -5})
    posted = httpx.post(f"{served.base}/api/v1/events", json={"events": [s.start(), bad]}, headers=headers)
    assert posted.json()["rejected"] == 1
    stream_id = read_first_state(f"{served.base}/api/v1/sessions/{s.session_id}/stream?token={token}")
    # A token in the query of a route that does not take one is refused, and still never logged.
    refused = httpx.get(f"{served.base}/api/v1/sessions/{s.session_id}?token={token}")
    assert refused.status_code == 401

    code, log = served.stop()
    assert code == 0, log
    assert token not in log and token.removeprefix("pbt_") not in log
    lines = log_lines(log)
    by_request: dict[str, list[dict[str, Any]]] = {}
    for line in lines:
        by_request.setdefault(line.get("request_id", ""), []).append(line)

    post_lines = by_request[posted.headers["x-request-id"]]
    assert {line["logger"] for line in post_lines} == {"api.events.controllers", "uvicorn.access"}
    assert "1 rejected (invalid x1)" in next(x["message"] for x in post_lines if x["logger"] != "uvicorn.access")
    user_id = post_lines[0]["user_id"]
    assert user_id and all(line.get("user_id") == user_id for line in post_lines)
    [stream_line] = by_request[stream_id]
    assert stream_line["user_id"] == user_id
    assert stream_line["path"] == f"/api/v1/sessions/{s.session_id}/stream?token=[redacted]"
    assert stream_line["status"] == 200
    [refused_line] = by_request[refused.headers["x-request-id"]]
    assert refused_line["status"] == 401 and "user_id" not in refused_line
    assert refused_line["path"].endswith("?token=[redacted]")
    # The process's own lines (start, stop) are JSON too, outside any request.
    assert any(line["message"] == "ClickHouse closed" and "request_id" not in line for line in lines)


def test_the_worker_writes_the_same_json_lines_and_both_write_text_when_asked(tmp_path: Path) -> None:
    need(missing_redis_tools())
    data_dir = tmp_path / "var"
    code, serve_log = Served(data_dir, env={"LOG_FORMAT": "text"}).wait_ready().stop()
    assert code == 0, serve_log
    text = [line for line in serve_log.splitlines() if line and not line.startswith(ANNOUNCED)]
    assert text and all(TEXT_LINE.match(line) for line in text), serve_log

    worker = Worker(data_dir)  # a store with data now; the worker starts its own Redis on it
    try:
        worker.wait_for("worker started")
    finally:
        code, worker_log = worker.stop()
    assert code == 0, worker_log
    lines = log_lines(worker_log)
    assert {"worker started on chdb://" in line["message"] for line in lines} >= {True}
    assert any(line["logger"] == "bankroll" and line["message"] == "ClickHouse closed" for line in lines)
