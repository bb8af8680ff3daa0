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
from tests.services import missing_caddy_tools, missing_redis_tools

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


def _run_until_sigterm(target: str, pidfile: Path) -> tuple[list[int], int, str]:
    """Run the pytest ``target`` until it wrote the pids it holds, SIGTERM it; the pids, its code and output."""
    run = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", target],
        cwd=REPO,
        env={**os.environ, "PBT_SIGTERM_PIDFILE": str(pidfile)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_for(lambda: pidfile.exists() and pidfile.read_text(), f"the services of {target} to start")
        pids = [int(pid) for pid in pidfile.read_text().split()]
        assert all(_alive(pid) for pid in pids)
        run.send_signal(signal.SIGTERM)
        output, _ = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    return pids, run.returncode, output.decode(errors="replace")


def test_sigterm_to_a_test_run_stops_the_redis_it_started(tmp_path: Path) -> None:
    need(missing_redis_tools())
    [redis_pid], code, output = _run_until_sigterm("tests/sigterm_target.py", tmp_path / "redis.pid")
    assert code == 2, output
    _wait_for(lambda: not _alive(redis_pid), "the run's Redis to stop", timeout=15.0)


def test_sigterm_to_a_test_run_stops_its_caddy_and_bankroll_serve_with_its_redis(tmp_path: Path) -> None:
    need(missing_redis_tools())
    need(missing_caddy_tools())
    pids, code, output = _run_until_sigterm("tests/sigterm_https_target.py", tmp_path / "https.pids")
    assert code == 2, output
    _wait_for(lambda: not any(_alive(pid) for pid in pids), "Caddy, bankroll serve and its Redis to stop", 15.0)
