"""A private redis-server under the data directory, for `bankroll serve` when REDIS_URL is unset."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path


class PrivateRedis:
    """Debian's redis-server listening on a unix socket only, with AOF on so acknowledged events survive."""

    def __init__(self, data_dir: Path, appendfsync: str = "everysec") -> None:
        self.dir = data_dir / "redis"
        self.socket = self.dir / "redis.sock"
        self.appendfsync = appendfsync
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def is_running(self) -> bool:
        """True when something answers PING on the socket (another `bankroll serve`, say)."""
        if not self.socket.exists():
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(1)
                sock.connect(str(self.socket))
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self, timeout: float = 10.0) -> bool:
        """Start redis-server unless one already runs here; return whether this call started it."""
        if self.is_running():
            return False
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not Path(binary).exists():
            raise RuntimeError("redis-server is not installed: run `make run` (it installs Debian's redis-server)")
        self.dir.mkdir(parents=True, exist_ok=True)
        self._proc = subprocess.Popen(  # noqa: S603 — fixed binary, arguments we build
            [
                binary,
                "--port",
                "0",
                "--unixsocket",
                str(self.socket),
                "--unixsocketperm",
                "700",
                "--dir",
                str(self.dir),
                "--appendonly",
                "yes",
                "--appendfsync",
                self.appendfsync,
                "--save",
                "",
                "--daemonize",
                "no",
                "--logfile",
                str(self.dir / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.is_running():
                return True
            if self._proc.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self._proc.returncode}; see {self.dir / 'redis.log'}")
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not answer on {self.socket} within {timeout} s")

    def stop(self) -> None:
        """Stop the server this object started (AOF is flushed on a clean shutdown)."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
        self._proc = None
