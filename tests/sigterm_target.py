"""Not collected by the suite: the run that tests/integration/test_stop_on_sigterm.py starts and then stops.

It holds the session's Redis and waits until the signal comes; the path for its pid comes from the environment.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from tests.services import RedisServer


def test_holds_redis_until_stopped(redis_server: RedisServer) -> None:
    Path(os.environ["PBT_SIGTERM_PIDFILE"]).write_text(str(redis_server.pid))
    assert not threading.Event().wait(600), "nobody stopped this run"
