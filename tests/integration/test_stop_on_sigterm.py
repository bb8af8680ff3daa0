"""A test run stopped by SIGTERM (CI cancelling a job, a developer's kill) stops the services it started."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.conftest import need
from tests.services import missing_redis_tools

REPO = Path(__file__).resolve().parents[2]


def _wait_for(probe: Callable[[], object], what: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not probe():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def test_sigterm_to_a_test_run_stops_the_redis_it_started(tmp_path: Path) -> None:
    need(missing_redis_tools())
    pidfile = tmp_path / "redis.pid"
    run = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/sigterm_target.py"],
        cwd=REPO,
        env={**os.environ, "PBT_SIGTERM_PIDFILE": str(pidfile)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_for(lambda: pidfile.exists() and pidfile.read_text(), "the run's Redis to start")
        redis_pid = int(pidfile.read_text())
        assert _alive(redis_pid)
        run.send_signal(signal.SIGTERM)
        output, _ = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    assert run.returncode == 2, output.decode(errors="replace")
    _wait_for(lambda: not _alive(redis_pid), "the run's Redis to stop", timeout=15.0)
