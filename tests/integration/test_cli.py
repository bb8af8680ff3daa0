"""The newcomer's path: `bankroll serve` in one terminal, `bankroll user add` in another, then curl."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import need
from tests.factories import played_session
from tests.services import free_port, missing_redis_tools


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    need(missing_redis_tools())
    port = free_port()
    env = {**os.environ, "BANKROLL_DATA_DIR": str(tmp_path), "PORT": str(port), "LOG_LEVEL": "WARNING"}
    env.pop("REDIS_URL", None)  # the private redis-server, as `make run` does
    base = f"http://127.0.0.1:{port}"
    # The context closes the stderr pipe when the server is gone (an open pipe is a ResourceWarning).
    with subprocess.Popen([sys.executable, "-m", "bankroll.cli", "serve"], env=env, stderr=subprocess.PIPE) as server:
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            else:
                pytest.fail("bankroll serve did not become ready")
            yield base, env
        finally:
            server.terminate()
            server.wait(30)


def test_user_add_from_a_second_terminal_prints_a_working_token_on_its_last_line(
    served: tuple[str, dict[str, str]],
) -> None:
    base, env = served
    out = subprocess.run(
        [sys.executable, "-m", "bankroll.cli", "user", "add", "newcomer"],
        env=env, capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    lines = out.stdout.strip().splitlines()
    token = lines[-1]
    assert token.startswith("pbt_") and " " not in token
    assert any("/pair#" in line for line in lines)
    script, events = played_session()
    headers = {"Authorization": f"Bearer {token}"}
    answer = httpx.post(f"{base}/api/v1/events", json={"events": events}, headers=headers, timeout=30).json()
    assert answer["accepted"] == len(events)
    live = httpx.get(f"{base}/api/v1/sessions/{script.session_id}", headers=headers, timeout=10).json()
    assert live["state"]["profit"] == 1000
    again = subprocess.run(
        [sys.executable, "-m", "bankroll.cli", "user", "add", "newcomer"], env=env, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert again.returncode == 2
    assert "user 'newcomer' already exists" in again.stderr
