"""The data directory is private: directories 0700 and files 0600, made so at creation and checked at start.

It holds every player's money history (Redis AOF, ClickHouse), the VAPID private key and backups. `bankroll` sets
its umask to 077 before anything is created, so the files it writes and those of its children (redis-server,
chDB) are private from birth; ``secure_tree`` repairs a directory made by an older version or by hand, and says
what it changed.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path
from typing import Final

log = logging.getLogger("bankroll")

PRIVATE_UMASK: Final = 0o077
DIR_MODE: Final = 0o700
FILE_MODE: Final = 0o600


def private_umask() -> None:
    """Make every file and directory this process (and its children) creates readable by its owner only."""
    os.umask(PRIVATE_UMASK)


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) as 0700; an existing one is set to 0700."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    if stat.S_IMODE(path.stat().st_mode) != DIR_MODE:
        path.chmod(DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Set an existing file to 0600 (for files written where the umask may not apply, such as --out paths)."""
    path.chmod(FILE_MODE)
    return path


def secure_tree(root: Path) -> list[Path]:
    """Take group and other access away from everything under ``root``; warn about and return what was fixed.

    Symbolic links are not followed: only what lives in the data directory is changed.
    """
    fixed: list[Path] = []
    if not root.exists():
        return fixed
    for path in [root, *root.rglob("*")]:
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode) or stat.S_ISSOCK(info.st_mode):
            continue
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o077:
            path.chmod(mode & ~0o077 | (0o700 if stat.S_ISDIR(info.st_mode) else 0o600))
            fixed.append(path)
    if fixed:
        shown = ", ".join(str(p.relative_to(root)) for p in fixed[:5]) + (" …" if len(fixed) > 5 else "")
        log.warning(
            "%d path(s) in %s were readable by other users; made private (0700/0600): %s", len(fixed), root, shown
        )
    return fixed
