"""The `bankroll` command: serve, worker, user and device management, and the data tools."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, Final

import httpx
import msgspec
import uvicorn
from redis.asyncio import Redis

from adapters import logs
from adapters.connections import redis_client
from adapters.root_certificate import RootCertificate
from api.accounts import Accounts
from api.serving import uvicorn_config
from bankroll import phone
from bankroll.instance import CommandFailed, claim, describe, ensure_port_free, holder, locate
from bankroll.private_files import private_file, private_umask, secure_tree
from bankroll.redis_server import RedisStartError
from bankroll.wiring import build_runtime, make_app, make_worker, with_redis
from shared.errors import PermanentError
from shared.settings import Settings, load_settings

STOP_SIGNALS: Final = (signal.SIGINT, signal.SIGTERM)
log = logging.getLogger("bankroll")


class _Server(uvicorn.Server):
    """uvicorn without its re-raise of the stop signal after shutdown, which would kill the process before the
    private Redis and chDB are closed (and leave that Redis running, orphaned)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in STOP_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """While closing, a second Ctrl-C or SIGTERM must not cut the Redis shutdown short; closing is bounded."""
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class StopSignal(KeyboardInterrupt):
    """SIGTERM or Ctrl-C before the server or worker handles the signals itself.

    A subclass on purpose: when a bare ``KeyboardInterrupt`` passes through Python code that an extension runs
    with ``PyRun_String`` (chDB's pybind11 does), CPython notes it as unhandled and, at exit, kills the process
    with SIGINT even though ``main`` caught it and closed everything (exit -2 instead of 130). CPython notes only
    the exact class.
    """


def _interrupt(signum: int, frame: object) -> None:
    raise StopSignal(signal.Signals(signum).name)


def _unwind_on_stop_signals() -> None:
    """Until uvicorn or the worker takes the signals over, SIGTERM and Ctrl-C unwind the start-up: what was
    started is stopped on the way out."""
    for sig in STOP_SIGNALS:
        signal.signal(sig, _interrupt)


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    _unwind_on_stop_signals()
    ensure_port_free(settings.host, settings.port)
    secure_tree(settings.data_dir)
    with claim(settings.data_dir, "serve", settings.base_url) as mine:
        runtime = build_runtime(settings)
        try:
            private = runtime.private_redis
            mine.announce(redis_url=runtime.settings.redis_url, redis_pid=private.pid if private else None)
            if private is not None:
                private.on_restart = lambda pid: mine.announce(redis_pid=pid)
            app = make_app(runtime)
            config = uvicorn_config(app, settings)
            print(f"Poker Bankroll Tracker on {runtime.settings.base_url}", flush=True)
            print(phone_address(settings, app.state.root_certificate), flush=True)
            _Server(config).run()
        finally:
            with _signals_deferred():
                runtime.close()
    log.info("stopped")
    return 0


def _worker(settings: Settings, args: argparse.Namespace) -> int:
    from workers.worker import run_supervised

    _unwind_on_stop_signals()
    owner = holder(settings.data_dir)
    if owner is not None and not settings.clickhouse_url:
        # chDB is one engine per directory, held by the server, which runs the worker itself.
        raise CommandFailed(
            f"{describe(owner)} uses the embedded ClickHouse in {settings.data_dir} and runs the worker itself; "
            "a separate `bankroll worker` needs a ClickHouse server: set CLICKHOUSE_URL=http://… for both"
        )
    with _redis_for(settings, "worker") as located:
        runtime = build_runtime(located)
        try:
            log.info("worker started on %s", runtime.settings.clickhouse_dsn)
            asyncio.run(run_supervised(lambda: make_worker(runtime, handle_signals=False)))
        finally:
            with _signals_deferred():
                runtime.close()
    return 0


@contextlib.contextmanager
def _redis_for(settings: Settings, command: str) -> Iterator[Settings]:
    """Settings with the Redis of the server running on this data directory, or of a private Redis started for
    this command alone when none runs (then only on a directory that already holds data: a typo in
    BANKROLL_DATA_DIR must not create a second, empty store whose tokens the real server does not know)."""
    located = locate(settings)
    if located.redis_url:
        yield located
        return
    if not (settings.data_dir / "redis").is_dir():
        raise CommandFailed(
            f"no `bankroll serve` runs on {settings.data_dir}, which holds no data yet: start the server first, "
            "or set BANKROLL_DATA_DIR to the directory it uses"
        )
    with claim(settings.data_dir, command):
        located, private = with_redis(located)
        try:
            yield located
        finally:
            if private is not None:
                private.stop()


async def _with_redis(settings: Settings, command: str, action: Callable[[Redis, Settings], Awaitable[int]]) -> int:
    with _redis_for(settings, command) as located:
        redis = redis_client(located.redis_url or "")
        try:
            return await action(redis, located)
        finally:
            await redis.aclose()
            await redis.connection_pool.disconnect()


async def _with_accounts(
    settings: Settings, command: str, action: Callable[[Accounts, Settings], Awaitable[int]]
) -> int:
    return await _with_redis(settings, command, lambda redis, located: action(Accounts(redis), located))


def _deadletters_list(settings: Settings, args: argparse.Namespace) -> int:
    from workers import deadletters

    async def action(redis: Redis, located: Settings) -> int:
        letters = await deadletters.listing(redis, args.limit)
        for letter in letters:
            events = ",".join(letter.event_ids)
            print(f"{letter.id}  sink={letter.sink}  user={letter.user_id}  events={events}  reason={letter.reason}")
        total = await deadletters.count(redis)
        print(f"{total} dead letter(s)" + (f", the oldest {len(letters)} shown" if total > len(letters) else ""))
        return 0

    return asyncio.run(_with_redis(settings, "deadletters list", action))


def _deadletters_replay(settings: Settings, args: argparse.Namespace) -> int:
    from workers import deadletters

    async def action(redis: Redis, located: Settings) -> int:
        replayed = await deadletters.replay(redis, args.ids or None)
        missing = set(args.ids) - {letter.id for letter in replayed}
        print(f"replayed {len(replayed)} dead letter(s) onto the outbox")
        if missing:
            print(f"bankroll: no dead letter with id {', '.join(sorted(missing))}", file=sys.stderr)
            return 1
        return 0

    return asyncio.run(_with_redis(settings, "deadletters replay", action))


def phone_address(settings: Settings, root: RootCertificate | None) -> str:
    """What `bankroll serve` tells its owner: the address a phone opens, and what it must trust first; or why a
    phone can use none."""
    url = settings.base_url
    listening = f" (this server listens on http://{settings.host}:{settings.port})" if settings.public_url else ""
    why = phone.why_no_phone(url)
    if why:
        return f"A phone cannot open this server: {why}"
    text = f"A phone opens {url}{listening}; pair one with `bankroll user add NAME` or `bankroll device pair NAME`"
    if root is not None:
        text += (
            f"\nFirst the phone trusts this server's root certificate {root.subject} (SHA-256 {root.sha256}): "
            f"{url}/pair offers it with the steps for Android and iOS"
        )
    return text


def _pairable(located: Settings) -> None:
    """Refuse before anything is created when no browser could use a pairing link to this server."""
    refused = phone.refusal(located.base_url)
    if refused:
        raise CommandFailed(refused)


def _print_pairing(settings: Settings, code: str) -> None:
    import qrcode

    link = f"{settings.base_url}/pair#{code}"
    qr = qrcode.QRCode(border=1)
    qr.add_data(link)
    qr.print_ascii(invert=True)
    print(f"Pairing link (one use, 15 minutes): {link}")


def _user_add(settings: Settings, args: argparse.Namespace) -> int:
    async def action(accounts: Accounts, located: Settings) -> int:
        _pairable(located)
        new = await accounts.add_user(args.name, admin=args.admin)
        code = await accounts.create_pairing(new.user_id, "phone")
        _print_pairing(located, code)
        print(f"User {args.name} created{' (admin)' if args.admin else ''}. Bearer token (shown once):")
        print(new.token)
        return 0

    return asyncio.run(_with_accounts(settings, "user add", action))


def _user_admin(settings: Settings, args: argparse.Namespace) -> int:
    async def action(accounts: Accounts, located: Settings) -> int:
        await accounts.grant_admin(await accounts.user_id(args.name))
        print(f"User {args.name} is an admin now.")
        return 0

    return asyncio.run(_with_accounts(settings, "user admin", action))


def _device_pair(settings: Settings, args: argparse.Namespace) -> int:
    async def action(accounts: Accounts, located: Settings) -> int:
        _pairable(located)
        user_id = await accounts.user_id(args.name)
        _print_pairing(located, await accounts.create_pairing(user_id, args.label))
        return 0

    return asyncio.run(_with_accounts(settings, "device pair", action))


def _device_list(settings: Settings, args: argparse.Namespace) -> int:
    async def action(accounts: Accounts, located: Settings) -> int:
        for device in await accounts.devices(await accounts.user_id(args.name)):
            state = "revoked" if device.revoked_at else "active"
            print(f"{device.device_id}\t{device.label}\t{state}")
        return 0

    return asyncio.run(_with_accounts(settings, "device list", action))


def _device_revoke(settings: Settings, args: argparse.Namespace) -> int:
    async def action(accounts: Accounts, located: Settings) -> int:
        device = await accounts.revoke(await accounts.user_id(args.name), args.device_id)
        print(f"revoked {device.device_id} ({device.label})")
        return 0

    return asyncio.run(_with_accounts(settings, "device revoke", action))


def _simulate(settings: Settings, args: argparse.Namespace) -> int:
    from bankroll import data_tools

    if args.post:

        async def action(accounts: Accounts, located: Settings) -> int:
            totals = await data_tools.simulate_through_api(
                accounts.redis, args.post, args.players, args.sessions, args.seed
            )
            print(json.dumps(totals))
            return 0 if totals["rejected"] == 0 else 1

        return asyncio.run(_with_accounts(settings, "simulate", action))
    out = Path(args.out) if args.out else settings.data_dir / "simulation"
    events, labels, count = data_tools.simulate_to_files(out, args.players, args.sessions, args.seed)
    print(f"{count} events -> {events}; ground truth -> {labels}")
    return 0


def _tilt_train(settings: Settings, args: argparse.Namespace) -> int:
    from workers.tilt.train import train

    card = train(Path(args.out), seed=args.seed, players=args.players, sessions=args.sessions)
    summary = {
        "threshold": card.threshold,
        "scripted": card.scripted,
        "heldout": card.heldout,
        "per_event": card.metrics,
    }
    print(json.dumps(msgspec.to_builtins(summary), indent=2))
    return 0


def _tilt_replay(settings: Settings, args: argparse.Namespace) -> int:
    from bankroll import data_tools

    for line in data_tools.tilt_replay(Path(args.file), Path(args.model) if args.model else None):
        print(line)
    return 0


def _server_url(settings: Settings, args: argparse.Namespace) -> str:
    """--url, else the address of the server running on this data directory, else PUBLIC_URL or HOST:PORT."""
    return str(args.url or locate(settings).base_url)


def _export(settings: Settings, args: argparse.Namespace) -> int:
    from bankroll import backup

    async def run() -> int:
        async with backup.api_client(_server_url(settings, args), backup.token(args.token)) as client:
            out = Path(args.out or args.what.replace("backup", "bankroll-backup.jsonl"))
            written, size = await backup.download(client, args.what, out)
        private_file(written)  # a backup is the player's whole history
        print(f"{args.what}: {size} bytes -> {written}")
        return 0

    return asyncio.run(run())


def _import(settings: Settings, args: argparse.Namespace) -> int:
    from bankroll import backup

    lines = backup.backup_lines(Path(args.backup)) if args.backup else []
    raw = Path(args.csv).read_bytes() if args.csv else b""

    async def run() -> int:
        async with backup.api_client(_server_url(settings, args), backup.token(args.token)) as client:
            if args.backup:
                totals = await backup.restore(client, lines)
                print(json.dumps(msgspec.to_builtins(totals)))
                return 0 if totals.rejected == 0 else 1
            params = {
                "mapping": args.mapping,
                "currency": args.currency,
                "tz": args.tz,
                "date_format": args.date_format,
                "game": args.game,
                "encoding": args.encoding,
                "dry_run": "true" if args.dry_run else "false",
            }
            ok, report = await backup.import_csv(client, raw, params)
            print(json.dumps(report, indent=2))
            return 0 if ok else 1

    return asyncio.run(run())


def _replay(settings: Settings, args: argparse.Namespace) -> int:
    from bankroll import backup

    async def run() -> int:
        url = _server_url(settings, args)
        if settings.clickhouse_dsn.startswith("chdb:") and await backup.server_running(url):
            # The server holds the chDB engine (one per process): ask it.
            async with backup.api_client(url, backup.token(args.token)) as client:
                print(json.dumps(await backup.replay_via_api(client, args.session_id), indent=2))
            return 0
        state = await backup.replay_direct(settings.clickhouse_dsn, args.session_id)
        if state is None:
            print(f"bankroll: session {args.session_id} has no events in ClickHouse", file=sys.stderr)
            return 1
        print(json.dumps(msgspec.to_builtins(state), indent=2))
        return 0

    return asyncio.run(run())


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bankroll", description="Poker Bankroll Tracker")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="API, web app and (by default) the worker in one process").set_defaults(run=_serve)
    sub.add_parser("worker", help="the arq worker alone (scale-out shape)").set_defaults(run=_worker)

    user = sub.add_parser("user", help="manage users").add_subparsers(dest="user_command", required=True)
    add = user.add_parser("add", help="create a user; prints a pairing link and the token on the last line")
    add.add_argument("name")
    add.add_argument("--admin", action="store_true", help="the user also sees the owner's overview")
    add.set_defaults(run=_user_add)
    admin = user.add_parser("admin", help="let an existing user see the owner's overview")
    admin.add_argument("name")
    admin.set_defaults(run=_user_admin)

    device = sub.add_parser("device", help="manage devices").add_subparsers(dest="device_command", required=True)
    pair = device.add_parser("pair", help="print a one-time pairing link and QR code for a new device")
    pair.add_argument("name")
    pair.add_argument("--label", default="phone")
    pair.set_defaults(run=_device_pair)
    dlist = device.add_parser("list", help="list a user's devices")
    dlist.add_argument("name")
    dlist.set_defaults(run=_device_list)
    revoke = device.add_parser("revoke", help="revoke a device token")
    revoke.add_argument("name")
    revoke.add_argument("device_id")
    revoke.set_defaults(run=_device_revoke)

    sim = sub.add_parser("simulate", help="simulated players: JSONL files, or posted through the API with --post")
    sim.add_argument("--players", type=int, default=8)
    sim.add_argument("--sessions", type=int, default=20, help="sessions per player")
    sim.add_argument("--seed", type=int, default=1)
    sim.add_argument(
        "--out", help="folder for events.jsonl and labels.jsonl (default: simulation/ in BANKROLL_DATA_DIR)"
    )
    sim.add_argument("--post", metavar="URL", help="post through the API at URL (creates users sim-<name>)")
    sim.set_defaults(run=_simulate)

    tilt = sub.add_parser("tilt", help="the tilt model").add_subparsers(dest="tilt_command", required=True)
    train = tilt.add_parser("train", help="simulate, train, export tilt.onnx and the model card")
    train.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "workers" / "tilt_model"))
    train.add_argument("--seed", type=int, default=7)
    train.add_argument("--players", type=int, default=240)
    train.add_argument("--sessions", type=int, default=30)
    train.set_defaults(run=_tilt_train)
    replay = tilt.add_parser("replay", help="run a JSONL file through the serving path; one JSON line per alert")
    replay.add_argument("file")
    replay.add_argument("--model", help="an .onnx file other than the shipped one")
    replay.set_defaults(run=_tilt_replay)
    dead = sub.add_parser("deadletters", help="outbox entries a sink gave up on").add_subparsers(
        dest="deadletters_command", required=True
    )
    dead_list = dead.add_parser("list", help="the oldest dead letters: id, sink, user, event ids, reason")
    dead_list.add_argument("--limit", type=int, default=100)
    dead_list.set_defaults(run=_deadletters_list)
    dead_replay = dead.add_parser("replay", help="put dead letters back on the outbox (all, or these ids)")
    dead_replay.add_argument("ids", nargs="*", metavar="ID")
    dead_replay.set_defaults(run=_deadletters_replay)
    server = argparse.ArgumentParser(add_help=False)
    server.add_argument("--url", help="the server (default PUBLIC_URL or http://HOST:PORT)")
    server.add_argument("--token", help="bearer token (default $BANKROLL_TOKEN)")
    export = sub.add_parser("export", parents=[server], help="download an export or a backup from the server")
    export.add_argument(
        "what", choices=["sessions.csv", "transactions.csv", "events.jsonl", "events.parquet", "backup"]
    )
    export.add_argument(
        "--out", help="file to write, or a directory to write it in under a dated name (default: the export's name)"
    )
    export.set_defaults(run=_export)
    imp = sub.add_parser("import", parents=[server], help="restore a backup, or import sessions from a CSV")
    source = imp.add_mutually_exclusive_group(required=True)
    source.add_argument("--backup", metavar="FILE", help="a JSONL backup from `bankroll export backup`")
    source.add_argument("--csv", metavar="FILE", help="a CSV of sessions; needs --mapping")
    imp.add_argument("--mapping", default="", help="CSV column=field pairs, e.g. 'Date=date,Buy In=buy_in'")
    imp.add_argument("--currency", help="currency of rows without a currency column")
    imp.add_argument("--tz", default="UTC", help="zone of the CSV times: UTC, +01:00 or Europe/Berlin")
    imp.add_argument("--date-format", default="%Y-%m-%d", help="strptime format of the date column")
    imp.add_argument("--game", default="NLH", help="game of rows without a game column")
    imp.add_argument("--encoding", help="text encoding of the CSV (default UTF-8, or UTF-16 by BOM)")
    imp.add_argument("--dry-run", action="store_true", help="check every row and preview; create nothing")
    imp.set_defaults(run=_import)
    rep = sub.add_parser("replay", parents=[server], help="fold a session again from its raw events in ClickHouse")
    rep.add_argument("session_id")
    rep.set_defaults(run=_replay)
    return p


def main(argv: list[str] | None = None) -> int:
    private_umask()  # before anything is created: the data directory holds every player's history
    args = parser().parse_args(argv)
    settings = load_settings()
    logs.configure(settings.log_level, settings.log_format)
    for chatty in ("arq", "httpx"):  # arq logs every job, httpx every request the commands make
        logging.getLogger(chatty).setLevel(max(logging.WARNING, logging.getLevelName(settings.log_level)))
    run: Callable[[Settings, Any], int] = args.run
    try:
        return run(settings, args)
    except (CommandFailed, PermanentError, RedisStartError) as exc:
        print(f"bankroll: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bankroll: interrupted", file=sys.stderr)
        return 130
    except httpx.TransportError as exc:
        where = exc.request.url.copy_with(path="/", query=None) if _has_request(exc) else "the server"
        print(f"bankroll: no server answers at {where} ({exc}): start `bankroll serve`, or pass --url", file=sys.stderr)
        return 2


def _has_request(exc: httpx.TransportError) -> bool:
    try:
        exc.request  # noqa: B018 — httpx raises RuntimeError when the error has no request
    except RuntimeError:
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
