"""Who owns a data directory: a lock held while `bankroll serve` (or a CLI command) uses it, and where it listens.

``<data dir>/running.lock`` is locked (``flock``) by the process that owns the directory, and
``<data dir>/running.json`` (replaced whole, never seen half-written) says what the other commands need to find
it: its pid, its address and its Redis. The lock goes away with the process however it ends, so a stale file
never blocks a start; a second server on the same directory is told who holds it. Readers do not lock: they
trust ``running.json`` while the pid it names runs.

Exceptions::

    CommandFailed(Exception)  — an ordinary failure the `bankroll` command reports in one line (exit 2)
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import msgspec

from bankroll.private_files import private_dir
from shared.settings import Settings

RUNNING_FILE = "running.json"
LOCK_FILE = "running.lock"


class CommandFailed(Exception):
    """An ordinary failure (no server, port in use, directory taken): one line for the user, no traceback."""


class Holder(msgspec.Struct, frozen=True, omit_defaults=True):
    """The process that owns a data directory, as written in its ``running.json``."""

    pid: int
    command: str
    url: str = ""
    redis_url: str = ""
    redis_pid: int | None = None


class Claim:
    """This process's hold on a data directory; ``announce`` tells the other commands where it listens."""

    def __init__(self, data_dir: Path, holder: Holder) -> None:
        self._path = data_dir / RUNNING_FILE
        self.holder = holder

    def announce(self, **changes: object) -> None:
        self.holder = msgspec.structs.replace(self.holder, **changes)
        fresh = self._path.with_suffix(f".{os.getpid()}.tmp")
        fresh.write_bytes(msgspec.json.encode(self.holder))
        fresh.replace(self._path)  # atomic: a reader sees the old or the new file, never half of one

    def withdraw(self) -> None:
        self._path.unlink(missing_ok=True)


def describe(holder: Holder | None) -> str:
    if holder is None:
        return "another bankroll process (starting)"
    where = f" at {holder.url}" if holder.url else ""
    return f"`bankroll {holder.command}` (pid {holder.pid}{where})"


def _read(data_dir: Path) -> Holder | None:
    try:
        return msgspec.json.decode((data_dir / RUNNING_FILE).read_bytes(), type=Holder)
    except (FileNotFoundError, msgspec.DecodeError):  # the holder has taken the lock but not written it yet
        return None


@contextlib.contextmanager
def claim(data_dir: Path, command: str, url: str = "") -> Iterator[Claim]:
    """Own ``data_dir`` while the block runs.

    Raises:
        CommandFailed: another process owns it; the message names that process.
    """
    private_dir(data_dir)
    fd = os.open(data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    with os.fdopen(fd, "r+b") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise CommandFailed(
                f"{describe(_read(data_dir))} already uses {data_dir}; stop it first, or set BANKROLL_DATA_DIR "
                "to another directory"
            ) from None
        mine = Claim(data_dir, Holder(pid=os.getpid(), command=command, url=url))
        mine.announce()
        try:
            yield mine
        finally:
            mine.withdraw()
            fcntl.flock(lock, fcntl.LOCK_UN)


def holder(data_dir: Path) -> Holder | None:
    """The process that owns ``data_dir`` now, or None when none does.

    Read without taking the lock (a reader holding it, even for an instant, would make a starting server think
    the directory taken): the file is removed when its process ends, and one left by a killed process names a
    pid that no longer runs.
    """
    found = _read(data_dir)
    if found is None:
        return None
    try:
        os.kill(found.pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:  # alive, but another user's
        pass
    return found


def locate(settings: Settings) -> Settings:
    """Settings pointed at the server that runs on this data directory (its Redis and its address), if one does.

    Raises:
        CommandFailed: a process owns the directory but has not said where its Redis is (it is still starting, or
            it is a command that does not share its Redis).
    """
    owner = holder(settings.data_dir)
    if owner is None or (settings.redis_url and settings.public_url):
        return settings
    if not owner.redis_url:
        raise CommandFailed(f"{describe(owner)} holds {settings.data_dir}; try again when it has finished")
    return msgspec.structs.replace(
        settings, redis_url=settings.redis_url or owner.redis_url, public_url=settings.public_url or owner.url
    )


def ensure_port_free(host: str, port: int) -> None:
    """Fail in one line, before anything starts, when another program listens on the port.

    Raises:
        CommandFailed: the address is taken.
    """
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise CommandFailed(
                f"cannot listen on {host}:{port}: {exc.strerror or exc}; set PORT (or HOST) to a free one"
            ) from None
