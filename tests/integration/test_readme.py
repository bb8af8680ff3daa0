"""The README is a test: every command block in README.md runs against a freshly started app, and its output is
checked.

How each block runs:

- The "two commands" block (`make run`, `make test`): its text is checked, and the app is started the way
  `make run` starts it once `make system venv` are done — `bankroll serve` with its private Redis and chDB.
  `make test` is not run from here: it is the suite this test belongs to (CI runs it as `bash .ci/run`).
- Every other block runs in one bash, from the repository root, as the "second terminal" the README speaks of:
  only `BANKROLL_DATA_DIR` is shared with the server (the commands find its port and Redis through
  `running.json`). The README's address `http://127.0.0.1:8000` is replaced by the test server's (a free
  port, so a developer's own `make run` on 8000 is left alone). Its output is then checked line by line against
  what the README's comments promise.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import need
from tests.served import Served
from tests.services import REPO_ROOT, missing_redis_tools

README = REPO_ROOT / "README.md"
README_URL = "http://127.0.0.1:8000"
SESSION_ID = "5d9e1c8e-7a47-4a86-8f39-3c8d2b1f0a11"
TWO_COMMANDS = ["make run", "make test"]
CURL_TIMED_OUT = 28  # curl -m ends the endless live stream this way, as the README's last line intends


def command_blocks(text: str) -> list[str]:
    return re.findall(r"```(?:sh|bash|console)\n(.*?)```", text, flags=re.S)


def commands_of(block: str) -> list[str]:
    """The commands of a block, without their comments."""
    return [line.split("#")[0].strip() for line in block.splitlines() if line.split("#")[0].strip()]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    need(missing_redis_tools())
    server = Served(tmp_path / "var").wait_ready()
    yield server
    server.stop()


def run_block(block: str, server: Served) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BANKROLL_DATA_DIR": str(server.data_dir)}
    for name in ("PORT", "HOST", "PUBLIC_URL", "REDIS_URL"):
        env.pop(name, None)
    script = "set -eo pipefail\n" + block.replace(README_URL, server.base)
    return subprocess.run(
        ["bash", "-c", script], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_readme_blocks_run_against_a_fresh_app_and_print_what_they_promise(served: Served) -> None:
    blocks = command_blocks(README.read_text())
    assert commands_of(blocks[0]) == TWO_COMMANDS
    rest = blocks[1:]
    assert rest, "the README shows what to do once the app runs"
    results = [run_block(block, served) for block in rest]
    for result in results[1:]:
        assert result.returncode == 0, result.stderr

    first = results[0]
    assert first.returncode in (0, CURL_TIMED_OUT), first.stderr
    assert first.stderr == ""
    lines = first.stdout.splitlines()
    # bankroll user add alice: a pairing link to this very server (found without PORT), then the token.
    link = next(line for line in lines if line.startswith("Pairing link (one use, 15 minutes): "))
    assert link.split(": ", 1)[1].startswith(f"{served.base}/pair#")
    assert lines[lines.index("User alice created. Bearer token (shown once):") + 1].startswith("pbt_")
    # curl POST: the event is accepted (its time is now, so the server's clock rules pass on any day).
    answers = [json.loads(line) for line in lines if line.startswith("{")]
    assert answers[0]["accepted"] == 1 and answers[0]["rejected"] == 0, answers[0]
    # curl GET: the live state of the session just started.
    live = answers[1]
    assert live["state"]["session_id"] == SESSION_ID
    assert (live["state"]["stack"], live["state"]["profit"], live["state"]["location"]) == (20000, 0, "Bellagio")
    # curl -N: the stream starts with the same state.
    assert "event: state" in lines
    streamed = json.loads(next(line for line in lines if line.startswith("data: ")).removeprefix("data: "))
    assert streamed["state"]["session_id"] == SESSION_ID
