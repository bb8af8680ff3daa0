"""A private redis-server under the data directory, for `bankroll serve` when REDIS_URL is unset, kept running.

The server is a child of this process in its own session (a Ctrl-C in the terminal reaches `bankroll serve`,
which stops the worker before its Redis, not both at once). A supervisor thread waits on it: when it dies
unexpectedly it is started again on the same directory and AOF, with a capped exponential backoff (``stamina``),
so acknowledged events come back and the API answers 503 only while it is down.

Exceptions::

    RedisStartError(RuntimeError)  — redis-server is missing, exited at start, or did not answer in time
"""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Final

import stamina

from bankroll.private_files import private_dir

log = logging.getLogger("bankroll")

RESTART_WAIT_MAX_S: Final = 5.0  # the backoff between restarts is capped here: Redis is back soon after it can be


class RedisStartError(RuntimeError):
    """redis-server could not be started, or did not answer PING in time."""


def _ask(path: Path, command: bytes, timeout: float = 1.0) -> bytes | None:
    """Send one inline command on the unix socket; the start of the reply, or None when nothing answers."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(path))
            sock.sendall(command + b"\r\n")
            return sock.recv(4096)
    except OSError:
        return None


class PrivateRedis:
    """Debian's redis-server listening on a unix socket only, with AOF on so acknowledged events survive."""

    def __init__(self, data_dir: Path, appendfsync: str = "everysec") -> None:
        self.dir = data_dir / "redis"
        self.socket = self.dir / "redis.sock"
        self.appendfsync = appendfsync
        self.restarts = 0
        self.on_restart: Callable[[int], None] | None = None  # told the new pid after each restart
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._supervisor: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    @property
    def pid(self) -> int | None:
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    def is_running(self) -> bool:
        """True when something answers PING on the socket."""
        return self.socket.exists() and (_ask(self.socket, b"PING") or b"").startswith(b"+PONG")

    def start(self, timeout: float = 10.0) -> None:
        """Start redis-server and its supervisor; a server left running by a dead process is shut down first.

        The caller owns the data directory (``bankroll.instance.claim``), so whatever answers on the socket was
        orphaned by a process that no longer runs: it is stopped cleanly (its AOF is flushed) and replaced by a
        child of this process, which this process will stop.

        Raises:
            RedisStartError: redis-server is missing, exits at once or does not answer within ``timeout``.
        """
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not Path(binary).exists():
            raise RedisStartError("redis-server is not installed: run `make run` (it installs Debian's redis-server)")
        private_dir(self.dir)
        self._stop_orphan()
        self._stopping.clear()
        with self._lock:
            self._proc = self._spawn(binary, timeout)
        self._supervisor = threading.Thread(target=self._supervise, args=(binary,), name="redis-supervisor")
        self._supervisor.daemon = True
        self._supervisor.start()

    def _stop_orphan(self) -> None:
        info = _ask(self.socket, b"INFO server") if self.socket.exists() else None
        if not info:
            return
        pid = next((line.split(b":")[1].strip() for line in info.splitlines() if line.startswith(b"process_id:")), b"?")
        log.warning("stopping a private Redis (pid %s) left running by an earlier process", pid.decode())
        _ask(self.socket, b"SHUTDOWN", timeout=30)  # saves (AOF fsync) and exits
        deadline = time.monotonic() + 30
        while self.is_running():
            if time.monotonic() > deadline:
                raise RedisStartError(f"the Redis left running on {self.socket} (pid {pid.decode()}) did not stop")
            time.sleep(0.05)

    def _spawn(self, binary: str, timeout: float) -> subprocess.Popen[bytes]:
        args = [
            binary,
            "--port", "0",
            "--unixsocket", str(self.socket),
            "--unixsocketperm", "700",
            "--dir", str(self.dir),
            "--appendonly", "yes",
            "--appendfsync", self.appendfsync,
            "--save", "",
            "--daemonize", "no",
            "--logfile", str(self.dir / "redis.log"),
        ]  # fmt: skip
        proc = subprocess.Popen(  # noqa: S603 — fixed binary, arguments we build
            args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.is_running():
                return proc
            if proc.poll() is not None:
                raise RedisStartError(f"redis-server exited with {proc.returncode}; see {self.dir / 'redis.log'}")
            time.sleep(0.05)
        proc.kill()
        proc.wait()
        raise RedisStartError(f"redis-server did not answer on {self.socket} within {timeout} s")

    def _supervise(self, binary: str) -> None:
        """Wait on the server; when it dies and no stop was asked, start it again with a capped backoff."""
        while not self._stopping.is_set():
            proc = self._proc
            if proc is None:
                return
            code = proc.wait()
            if self._stopping.is_set():
                return
            log.warning("private Redis (pid %d) exited with %s; starting it again on %s", proc.pid, code, self.dir)
            for attempt in stamina.retry_context(
                on=RedisStartError, attempts=None, timeout=None, wait_max=RESTART_WAIT_MAX_S
            ):
                with attempt, self._lock:
                    if self._stopping.is_set():
                        return
                    self._proc = proc = self._spawn(binary, 10.0)
            self.restarts += 1
            log.warning("private Redis is back (pid %d), restart %d", proc.pid, self.restarts)
            if self.on_restart is not None:
                self.on_restart(proc.pid)

    def stop(self) -> None:
        """Stop the server and its supervisor (AOF is flushed on a clean shutdown)."""
        with self._lock:
            self._stopping.set()
            proc = self._proc
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            self._proc = None
        if self._supervisor is not None and self._supervisor is not threading.current_thread():
            self._supervisor.join(RESTART_WAIT_MAX_S + 2)
