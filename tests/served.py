"""`bankroll serve` and `bankroll worker` as child processes, and `bankroll` commands run as from a second terminal,
for tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Self

import httpx
import pytest

from tests.services import free_port

BANKROLL = [sys.executable, "-m", "bankroll.cli"]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) is gone for our purpose.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(")")[-1].split()[0] != "Z"


def wait_until(condition: Callable[[], object], what: str, timeout: float = 30.0) -> None:
    """Poll ``condition`` until it is truthy; fail the test saying ``what`` did not happen."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} within {timeout} s")
        time.sleep(0.05)


class Child:
    """One `bankroll COMMAND` child on its own data directory, its output (stdout and stderr) in a file."""

    def __init__(self, command: str, data_dir: Path, log_path: Path, env: Mapping[str, str]) -> None:
        self.command = command
        self.data_dir = data_dir
        self.env = {**os.environ, "BANKROLL_DATA_DIR": str(data_dir), "LOG_LEVEL": "INFO"}
        self.env.pop("REDIS_URL", None)  # the private redis-server, as `make run` does
        self.env.update(env)
        # Its output goes to a file, not a pipe nobody reads while it runs (a full pipe would block the server).
        self.log_path = log_path
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen([*BANKROLL, command], env=self.env, stdout=log, stderr=subprocess.STDOUT)

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for(self, text: str, timeout: float = 60.0) -> Self:
        """Wait until ``text`` is in the output."""
        wait_until(lambda: text in self.log, f"bankroll {self.command} did not write {text!r}", timeout)
        return self

    def stop(self, sig: int = signal.SIGTERM) -> tuple[int, str]:
        """Send ``sig`` and wait; the exit code and everything the process wrote."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        return self.process.returncode, self.log


class Worker(Child):
    """One `bankroll worker` child on a data directory (its own private Redis when no server runs there)."""

    def __init__(self, data_dir: Path, env: Mapping[str, str] | None = None) -> None:
        super().__init__("worker", data_dir, data_dir.parent / "worker.log", env or {})


class Served(Child):
    """One `bankroll serve` child on its own data directory and port."""

    def __init__(self, data_dir: Path, port: int | None = None, env: Mapping[str, str] | None = None) -> None:
        """``env``: settings beyond the data directory and port (``BANKROLL_METRICS_TOKEN``, ``LOG_FORMAT``, …)."""
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        log_path = data_dir.parent / f"serve-{self.port}.log"
        super().__init__("serve", data_dir, log_path, {"PORT": str(self.port), **(env or {})})

    def ready(self) -> bool:
        if self.process.poll() is not None:
            pytest.fail(f"bankroll serve exited with {self.process.returncode}: {self.log[-2000:]}")
        try:
            return httpx.get(f"{self.base}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_ready(self) -> Self:
        wait_until(self.ready, "bankroll serve did not become ready", 60)
        return self

    @property
    def running(self) -> dict[str, object]:
        info: dict[str, object] = json.loads((self.data_dir / "running.json").read_text())
        return info

    @property
    def redis_pid(self) -> int:
        pid = self.running["redis_pid"]
        assert isinstance(pid, int)
        return pid


def bankroll(*args: str, env: dict[str, str], check: bool = False) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*BANKROLL, *args], env=env, capture_output=True, text=True, timeout=60, check=check)


def second_terminal(server: Served) -> dict[str, str]:
    """A shell that set only the data directory: the command must find the server's port by itself."""
    env = {**os.environ, "BANKROLL_DATA_DIR": str(server.data_dir)}
    for name in ("PORT", "REDIS_URL", "PUBLIC_URL", "HOST"):
        env.pop(name, None)
    return env
