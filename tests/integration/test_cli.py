"""The newcomer's path and the `bankroll` command's lifecycle, against real `bankroll serve` processes.

`bankroll serve` runs in a child process with its private redis-server (as `make run` does); commands run as
a second terminal would. Every server a test starts is stopped, and each test checks it left no process behind.
"""

from __future__ import annotations

import os
import signal
import socket
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.conftest import need
from tests.factories import played_session
from tests.served import Served, Worker, alive, bankroll, second_terminal, wait_until
from tests.services import free_port, missing_redis_tools


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    need(missing_redis_tools())
    server = Served(tmp_path / "var").wait_ready()
    redis_pid = server.redis_pid
    yield server
    server.stop()
    assert not alive(redis_pid), "the private Redis outlived its server"


def test_user_add_from_a_second_terminal_prints_a_working_token_on_its_last_line(served: Served) -> None:
    out = bankroll("user", "add", "newcomer", env=second_terminal(served), check=True)
    lines = out.stdout.strip().splitlines()
    token = lines[-1]
    assert token.startswith("pbt_") and " " not in token
    assert any(f"{served.base}/pair#" in line for line in lines), "the pairing link names the server's own port"
    script, events = played_session()
    headers = {"Authorization": f"Bearer {token}"}
    answer = httpx.post(f"{served.base}/api/v1/events", json={"events": events}, headers=headers, timeout=30).json()
    assert answer["accepted"] == len(events)
    live = httpx.get(f"{served.base}/api/v1/sessions/{script.session_id}", headers=headers, timeout=10).json()
    assert live["state"]["profit"] == 1000
    again = bankroll("user", "add", "newcomer", env=second_terminal(served))
    assert again.returncode == 2
    assert again.stderr.strip() == (
        "bankroll: user 'newcomer' already exists; use `bankroll device pair newcomer` for a new device"
    )


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_signal_stops_the_worker_chdb_and_the_private_redis_with_a_short_clean_log(
    tmp_path: Path, sig: int
) -> None:
    need(missing_redis_tools())
    server = Served(tmp_path / "var").wait_ready()
    redis_pid = server.redis_pid
    code, log = server.stop(sig)
    assert code == 0, log
    assert not alive(redis_pid), "the private Redis outlived its server"
    assert "Traceback" not in log
    assert f"private Redis (pid {redis_pid}) stopped" in log
    assert "ClickHouse closed" in log
    assert len(log.splitlines()) < 25, log
    assert not (tmp_path / "var" / "running.json").exists(), "the running file still names a stopped server"


def test_a_stop_signal_while_the_server_starts_leaves_no_process(tmp_path: Path) -> None:
    need(missing_redis_tools())
    server = Served(tmp_path / "var")
    wait_until(lambda: (tmp_path / "var" / "running.json").exists() and "redis_pid" in server.running, "no Redis")
    redis_pid = server.redis_pid
    code, log = server.stop(signal.SIGTERM)  # chDB, the app or uvicorn may still be starting
    assert code in (0, 130), f"exit code {code}: {log}"
    assert "Traceback" not in log
    assert not alive(redis_pid), "the private Redis outlived its server"


def test_a_private_redis_orphaned_by_a_killed_server_is_stopped_and_replaced_at_the_next_start(tmp_path: Path) -> None:
    need(missing_redis_tools())
    first = Served(tmp_path / "var").wait_ready()
    orphan = first.redis_pid
    first.stop(signal.SIGKILL)  # no chance to clean up: its Redis keeps running
    assert alive(orphan)
    second = Served(tmp_path / "var").wait_ready()
    replacement = second.redis_pid
    try:
        assert not alive(orphan)
        assert replacement != orphan
    finally:
        _, log = second.stop()
    assert f"stopping a private Redis (pid {orphan}) left running by an earlier process" in log
    assert not alive(replacement)


def test_a_second_server_on_the_same_data_directory_fails_in_one_line(served: Served) -> None:
    env = {**served.env, "PORT": str(free_port())}
    out = bankroll("serve", env=env)
    assert out.returncode == 2
    assert out.stderr.strip() == (
        f"bankroll: `bankroll serve` (pid {served.process.pid} at {served.base}) already uses {served.data_dir}; "
        "stop it first, or set BANKROLL_DATA_DIR to another directory"
    )


def test_a_port_in_use_fails_in_one_line_and_starts_nothing(tmp_path: Path) -> None:
    need(missing_redis_tools())
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "BANKROLL_DATA_DIR": str(tmp_path / "var"), "PORT": str(port)}
        out = bankroll("serve", env=env)
    assert out.returncode == 2
    assert out.stderr.startswith(f"bankroll: cannot listen on 127.0.0.1:{port}: Address already in use")
    assert len(out.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "var" / "redis").exists()


def test_export_without_a_server_fails_in_one_line(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "BANKROLL_DATA_DIR": str(tmp_path), "PORT": str(port), "BANKROLL_TOKEN": "pbt_x"}
    out = bankroll("export", "sessions.csv", "--out", str(tmp_path / "s.csv"), env=env)
    assert out.returncode == 2
    assert out.stderr.startswith(f"bankroll: no server answers at http://127.0.0.1:{port}/")
    assert out.stderr.strip().endswith("start `bankroll serve`, or pass --url")
    assert len(out.stderr.strip().splitlines()) == 1


def test_export_with_a_wrong_token_fails_in_one_line(served: Served) -> None:
    env = {**second_terminal(served), "BANKROLL_TOKEN": "pbt_not-a-token"}
    out = bankroll("export", "sessions.csv", "--out", str(served.data_dir.parent / "s.csv"), env=env)
    assert out.returncode == 2
    assert out.stderr.strip() == (
        "bankroll: the server answered 401: the token is unknown or revoked; pair this device again"
    )


def test_a_command_on_an_empty_data_directory_refuses_instead_of_creating_a_second_store(tmp_path: Path) -> None:
    env = {**os.environ, "BANKROLL_DATA_DIR": str(tmp_path / "typo")}
    env.pop("REDIS_URL", None)
    out = bankroll("user", "add", "alice", env=env)
    assert out.returncode == 2
    assert out.stderr.strip() == (
        f"bankroll: no `bankroll serve` runs on {tmp_path / 'typo'}, which holds no data yet: start the server "
        "first, or set BANKROLL_DATA_DIR to the directory it uses"
    )
    assert not (tmp_path / "typo" / "redis").exists()


def test_the_data_directory_and_backups_are_private_and_a_public_one_is_fixed_at_start(tmp_path: Path) -> None:
    need(missing_redis_tools())
    data_dir = tmp_path / "var"
    (data_dir / "old").mkdir(parents=True, mode=0o755)
    (data_dir / "old" / "notes.txt").write_text("made by hand")
    (data_dir / "old" / "notes.txt").chmod(0o644)
    data_dir.chmod(0o755)
    server = Served(data_dir).wait_ready()
    try:
        token = bankroll("user", "add", "alice", env=second_terminal(server), check=True).stdout.splitlines()[-1]
        backup = tmp_path / "backup.jsonl"
        env = {**second_terminal(server), "BANKROLL_TOKEN": token}
        bankroll("export", "backup", "--out", str(backup), env=env, check=True)
        assert stat.S_IMODE(backup.stat().st_mode) == 0o600
        modes = {
            path.relative_to(data_dir): stat.S_IMODE(path.lstat().st_mode)
            for path in [data_dir, *data_dir.rglob("*")]
            if not path.is_socket() and not path.is_symlink()
        }
    finally:
        _, log = server.stop()
    assert {Path("redis/appendonlydir"), Path("clickhouse"), Path("vapid/private_key.pem")} <= set(modes)
    public = {str(path): oct(mode) for path, mode in modes.items() if mode & 0o077}
    assert public == {}
    assert "path(s) in" in log and "were readable by other users; made private" in log


def test_a_backup_exported_into_a_directory_is_named_by_its_utc_date(served: Served, tmp_path: Path) -> None:
    token = bankroll("user", "add", "saver", env=second_terminal(served), check=True).stdout.splitlines()[-1]
    _, events = played_session()
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.post(f"{served.base}/api/v1/events", json={"events": events}, headers=headers).json()["accepted"]
    backups = tmp_path / "backups"
    backups.mkdir()
    days = {f"{datetime.now(UTC):%Y%m%d}"}
    out = bankroll("export", "backup", "--out", str(backups), env={**second_terminal(served), "BANKROLL_TOKEN": token})
    days.add(f"{datetime.now(UTC):%Y%m%d}")  # the run may cross midnight
    assert out.returncode == 0, out.stderr
    [written] = backups.iterdir()
    assert written.name in {f"bankroll-backup-{day}.jsonl" for day in days}
    assert out.stdout.strip().endswith(f"-> {written}")
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert len(written.read_text().splitlines()) == len(events)


def test_a_worker_beside_a_server_that_embeds_clickhouse_fails_in_one_line(served: Served) -> None:
    out = bankroll("worker", env=second_terminal(served))
    assert out.returncode == 2
    assert out.stderr.strip() == (
        f"bankroll: `bankroll serve` (pid {served.process.pid} at {served.base}) uses the embedded ClickHouse in "
        f"{served.data_dir} and runs the worker itself; a separate `bankroll worker` needs a ClickHouse server: "
        "set CLICKHOUSE_URL=http://… for both"
    )


def _redis_pids_under(data_dir: Path) -> list[int]:
    """redis-server processes whose command line names a path under ``data_dir``."""
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if "redis-server" in cmdline and str(data_dir) in cmdline and alive(int(proc.name)):
                pids.append(int(proc.name))
    return pids


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_signal_stops_a_worker_and_the_private_redis_it_started(tmp_path: Path, sig: int) -> None:
    need(missing_redis_tools())
    data_dir = tmp_path / "var"
    code, log = Served(data_dir).wait_ready().stop()  # a store with data: a worker does not create one
    assert code == 0, log
    worker = Worker(data_dir)
    try:
        worker.wait_for("worker started")
        assert _redis_pids_under(data_dir), "the worker runs without its private Redis"
    finally:
        code, log = worker.stop(sig)
    assert code == 0, log
    assert "Traceback" not in log
    assert "ClickHouse closed" in log
    assert _redis_pids_under(data_dir) == [], "the worker's private Redis outlived it"


def test_user_admin_makes_an_existing_user_an_admin_and_an_unknown_name_fails_in_one_line(served: Served) -> None:
    bankroll("user", "add", "owner", env=second_terminal(served), check=True)
    out = bankroll("user", "admin", "owner", env=second_terminal(served), check=True)
    assert out.stdout.strip() == "User owner is an admin now."
    added = bankroll("user", "add", "croupier", "--admin", env=second_terminal(served), check=True)
    assert "User croupier created (admin)." in added.stdout
    unknown = bankroll("user", "admin", "nobody", env=second_terminal(served))
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == "bankroll: no user named 'nobody'; create one with `bankroll user add nobody`"
