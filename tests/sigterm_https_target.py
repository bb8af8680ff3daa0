"""Not collected by the suite: a run holding the phone-over-https setup (Caddy, `bankroll serve` and its Redis)
that tests/integration/test_stop_on_sigterm.py starts and then stops; the path for their pids comes from the
environment."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from tests.e2e.test_phone_over_https import caddy, served
from tests.served import Served
from tests.services import Caddy

__all__ = ["caddy", "served"]  # the fixtures this run holds


def test_holds_the_https_setup_until_stopped(caddy: tuple[Caddy, int], served: Served) -> None:
    pids = [caddy[0].pid, served.process.pid, served.redis_pid]
    Path(os.environ["PBT_SIGTERM_PIDFILE"]).write_text(" ".join(map(str, pids)))
    assert not threading.Event().wait(600), "nobody stopped this run"
