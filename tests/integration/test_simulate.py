"""`bankroll simulate`: simulated players written under the data directory, or posted to a running server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import LiveServer
from tests.services import RedisServer


def bankroll(
    *args: str, data_dir: Path, redis_url: str | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BANKROLL_DATA_DIR": str(data_dir), "LOG_LEVEL": "WARNING"}
    env.pop("REDIS_URL", None)
    if redis_url is not None:
        env["REDIS_URL"] = redis_url
    command = [sys.executable, "-m", "bankroll.cli", *args]
    return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)


def test_the_files_go_under_the_data_directory(tmp_path: Path) -> None:
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    done = bankroll("simulate", "--players", "1", "--sessions", "2", data_dir=tmp_path / "data", cwd=elsewhere)
    assert done.returncode == 0, done.stderr
    folder = tmp_path / "data" / "simulation"
    assert (folder / "events.jsonl").stat().st_size > 0 and (folder / "labels.jsonl").stat().st_size > 0
    assert list(elsewhere.iterdir()) == []  # nothing in ./var of wherever the command ran


def test_posting_a_history_accepts_every_event_and_exits_0(
    live_server: LiveServer, redis_server: RedisServer, tmp_path: Path
) -> None:
    # One player, 20 sessions, seed 1: from 60 days back it used to run past now (32 events refused, exit 1).
    done = bankroll(
        "simulate", "--post", live_server.url, "--players", "1", "--sessions", "20", "--seed", "1",
        data_dir=tmp_path, redis_url=redis_server.url,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    totals = json.loads(done.stdout.strip().splitlines()[-1])
    assert totals["rejected"] == 0 and totals["accepted"] > 400
