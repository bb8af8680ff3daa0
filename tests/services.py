"""Private Kafka, Redis and Prometheus servers for integration tests and benchmarks, each on a free port in its own
directory, and Caddy in front of the app with ``tls internal`` for the phone-over-https tests.

All are the real thing: Apache Kafka from the Maven Central jars (``ops/kafka/kafka.sh``, single-node KRaft on
Java 17), Debian's ``redis-server``, Debian's ``prometheus`` and Debian's ``caddy`` running
``ops/caddy/home.Caddyfile``. Kafka and Redis can be stopped and started again on the same port and directory, so
fault tests can take a service away for a while and bring it back with its data.

Exceptions::

    ServiceError(RuntimeError)  — a server did not start or did not answer in time; the message names its log file.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any, Self

REPO_ROOT = Path(__file__).resolve().parents[1]
KAFKA_SCRIPT = REPO_ROOT / "ops" / "kafka" / "kafka.sh"
KAFKA_JARS = REPO_ROOT / "ops" / "kafka" / "target" / "dependency"
REDIS_SERVER = Path("/usr/bin/redis-server")
CADDY = Path("/usr/bin/caddy")
CERTUTIL = Path("/usr/bin/certutil")
HOME_CADDYFILE = REPO_ROOT / "ops" / "caddy" / "home.Caddyfile"

# The first start may format storage and, on a fresh clone, download the jars with Maven.
_KAFKA_SCRIPT_TIMEOUT_S = 300.0


class ServiceError(RuntimeError):
    """A private server did not start, stop or answer in time."""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def missing_kafka_tools() -> str | None:
    """Say what is missing to run the Kafka broker here, or None if nothing is."""
    if shutil.which("java") is None:
        return "java is not installed; the Kafka broker needs Java 17"
    if not any(KAFKA_JARS.glob("kafka_2.13-*.jar")) and shutil.which("mvn") is None:
        return f"no Kafka jars in {KAFKA_JARS} and no mvn to fetch them"
    return None


def missing_redis_tools() -> str | None:
    """Say what is missing to run Redis here, or None if nothing is."""
    if not REDIS_SERVER.is_file():
        return f"{REDIS_SERVER} is not installed (apt-get install redis-server)"
    return None


class KafkaBroker:
    """A single-node KRaft Kafka broker run by ``ops/kafka/kafka.sh`` in ``data_dir``."""

    def __init__(self, data_dir: Path, port: int, controller_port: int) -> None:
        self.data_dir = data_dir
        self.port = port
        self.controller_port = controller_port
        self._running = False

    @property
    def bootstrap(self) -> str:
        """The ``bootstrap_servers`` string for Kafka clients."""
        return f"127.0.0.1:{self.port}"

    @property
    def log_file(self) -> Path:
        """Where the broker writes its WARN-and-above log."""
        return self.data_dir / "server.log"

    def start(self, timeout: float = 60.0) -> None:
        """Start the broker (formatting storage only the first time) and wait until it answers metadata."""
        self._script("start", str(self.data_dir), str(self.port), str(self.controller_port))
        self._running = True
        self.wait_ready(timeout)

    def stop(self) -> None:
        """Shut the broker down cleanly; its data stays in ``data_dir``. Does nothing if it is not running."""
        self._script("stop", str(self.data_dir))
        self._running = False

    def restart(self) -> None:
        """Stop the broker and start it again on the same port and data directory."""
        self.stop()
        self.start()

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Block until the broker answers a Metadata request listing itself.

        Raises:
            ServiceError: if it does not within ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            try:
                if self.port in _kafka_broker_ports("127.0.0.1", self.port):
                    return
            except (OSError, struct.error) as exc:
                last_error = exc
            time.sleep(0.2)
        raise ServiceError(
            f"Kafka on {self.bootstrap} did not answer metadata within {timeout}s ({last_error!r}); see {self.log_file}"
        )

    def _script(self, *args: str) -> None:
        result = subprocess.run(
            ["bash", str(KAFKA_SCRIPT), *args],
            capture_output=True,
            text=True,
            timeout=_KAFKA_SCRIPT_TIMEOUT_S,
            check=False,
        )
        if result.returncode != 0:
            raise ServiceError(f"kafka.sh {' '.join(args)} failed ({result.returncode}): {result.stderr.strip()}")

    def _stop_at_exit(self) -> None:
        if self._running:
            self.stop()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def start_kafka(tmp_dir: Path) -> KafkaBroker:
    """Start a private Kafka broker with its data under ``tmp_dir / "kafka"`` on free ports.

    Args:
        tmp_dir: A directory this broker may own; it is created if missing.

    Returns:
        The running broker; call ``stop()`` when done (it is also stopped when the interpreter exits).
    """
    broker = KafkaBroker(tmp_dir / "kafka", free_port(), free_port())
    broker.start()
    # A crashed or interrupted test run must not leave a JVM behind.
    atexit.register(broker._stop_at_exit)
    return broker


def _kafka_broker_ports(host: str, port: int, timeout: float = 2.0) -> set[int]:
    """Ask the broker for Metadata (v1, no topics) and return the ports of the brokers it lists."""
    client_id = b"bankroll-tests"
    # Header: api_key 3 (Metadata), api_version 1, correlation_id, client_id; body: an empty topic array.
    request = struct.pack(">hhih", 3, 1, 1, len(client_id)) + client_id + struct.pack(">i", 0)
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(struct.pack(">i", len(request)) + request)
        (size,) = struct.unpack(">i", _recv_exactly(sock, 4))
        body = _recv_exactly(sock, size)
    offset = 4  # correlation_id
    (count,) = struct.unpack_from(">i", body, offset)
    offset += 4
    ports: set[int] = set()
    for _ in range(count):
        # node_id int32, host string, port int32, rack nullable string
        offset += 4
        (host_len,) = struct.unpack_from(">h", body, offset)
        offset += 2 + host_len
        (broker_port,) = struct.unpack_from(">i", body, offset)
        offset += 4
        (rack_len,) = struct.unpack_from(">h", body, offset)
        offset += 2 + max(rack_len, 0)
        ports.add(broker_port)
    return ports


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(size - len(chunks))
        if not chunk:
            raise ConnectionError("connection closed mid-response")
        chunks += chunk
    return bytes(chunks)


class ChildServer:
    """A server this test process runs as its child: its pid, whether it lives, and a stop that always ends it."""

    _process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """The server's process id while this object started it, else None."""
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        """Whether the server process is alive."""
        return self._process is not None and self._process.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        """Shut down cleanly (SIGTERM), SIGKILL after ``timeout``. Does nothing if it is not running."""
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class RedisServer(ChildServer):
    """A ``redis-server`` child process on 127.0.0.1 keeping its files (AOF) in ``data_dir``; its ``stop`` flushes
    the AOF (SIGTERM)."""

    def __init__(self, data_dir: Path, port: int, appendonly: bool = True, appendfsync: str = "everysec") -> None:
        self.data_dir = data_dir
        self.port = port
        self.appendonly = appendonly
        self.appendfsync = appendfsync  # "always": an acknowledged write survives kill -9 (fault tests)
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The ``redis://`` URL of database 0."""
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def log_file(self) -> Path:
        """Where redis-server writes its log."""
        return self.data_dir / "redis.log"

    def start(self, timeout: float = 30.0) -> None:
        """Start the server (loading its AOF if there is one) and wait until it answers PING."""
        if self.running:
            raise ServiceError(f"Redis on port {self.port} is already running")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = [
            str(REDIS_SERVER),
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.data_dir),
            "--appendonly", "yes" if self.appendonly else "no",
            "--appendfsync", self.appendfsync,
            "--save", "",
            "--daemonize", "no",
            "--logfile", str(self.log_file),
        ]  # fmt: skip
        self._process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Block until the server answers PING with PONG (not LOADING).

        Raises:
            ServiceError: if the process exits or does not answer within ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running:
                raise ServiceError(f"redis-server on port {self.port} exited; see {self.log_file}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1.0) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(64).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise ServiceError(f"Redis on port {self.port} did not answer PING within {timeout}s; see {self.log_file}")

    def kill(self) -> None:
        """Crash the server (SIGKILL): writes from the last second may be lost, as in a power cut."""
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGKILL)
        process.wait()

    def restart(self) -> None:
        """Stop (if running) and start again on the same port and directory; the AOF brings the data back."""
        self.stop()
        self.start()


def start_redis(tmp_dir: Path, appendonly: bool = True) -> RedisServer:
    """Start a private Redis with its files under ``tmp_dir / "redis"`` on a free port.

    Args:
        tmp_dir: A directory this server may own; it is created if missing.
        appendonly: Keep an AOF (fsynced every second) so a restart brings the data back.

    Returns:
        The running server; call ``stop()`` when done (it is also stopped when the interpreter exits).
    """
    server = RedisServer(tmp_dir / "redis", free_port(), appendonly)
    server.start()
    atexit.register(server.stop)
    return server


class RedisRelay:
    """A TCP relay in front of a real Redis that fails connections the way a dying server or a network does.

    ``cut_after_watch()``: the next connection that sends WATCH is closed just after Redis answered it (Redis
    died mid-WATCH). ``silence_after_watch()``: that connection stays open but nothing passes on it any more (a
    peer gone silent: the reply never comes). ``silence_all()``: every connection, open and new, goes silent (an
    unresponsive Redis). It runs its own event loop in a thread (the app under test may block the test's loop);
    ``fired`` is set once an armed fault happened. Use it as a context manager.
    """

    def __init__(self, redis_port: int) -> None:
        self.redis_port = redis_port
        self.port = 0
        self.fired = threading.Event()
        self._armed: str | None = None  # "cut" or "silence": what the next WATCH gets
        self._silent_all = False
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="redis-relay", daemon=True)
        self._server: asyncio.Server | None = None
        self._pumps: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        """The ``redis://`` URL clients use instead of Redis's own."""
        return f"redis://127.0.0.1:{self.port}/0"

    def __enter__(self) -> Self:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._relay, "127.0.0.1", 0), self._loop
        ).result(10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
        for pump in self._pumps:
            pump.cancel()
        await asyncio.gather(*self._pumps, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    def cut_after_watch(self) -> None:
        self._armed = "cut"

    def silence_after_watch(self) -> None:
        self._armed = "silence"

    def silence_all(self) -> None:
        self._silent_all = True

    async def _relay(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        redis_reader, redis_writer = await asyncio.open_connection("127.0.0.1", self.redis_port)
        state = {"watching": False, "silent": False}

        async def pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, upstream: bool) -> None:
            try:
                while chunk := await reader.read(65536):
                    if self._silent_all or state["silent"]:
                        continue  # swallowed: the other side waits for ever
                    if upstream and b"WATCH" in chunk and self._armed is not None:
                        state["watching"] = True
                    writer.write(chunk)
                    await writer.drain()
                    if not upstream and state["watching"] and self._armed is not None:
                        fault, self._armed = self._armed, None
                        state["silent"] = fault == "silence"
                        if fault == "cut":
                            client_writer.close()
                            redis_writer.close()
                        self.fired.set()
            finally:
                writer.close()

        pumps = [
            asyncio.create_task(pump(client_reader, redis_writer, upstream=True)),
            asyncio.create_task(pump(redis_reader, client_writer, upstream=False)),
        ]
        self._pumps.update(pumps)
        await asyncio.gather(*pumps, return_exceptions=True)
        self._pumps.difference_update(pumps)


PROMETHEUS = Path("/usr/bin/prometheus")


def missing_prometheus_tools() -> str | None:
    """Say what is missing to run Prometheus here, or None if nothing is."""
    if not PROMETHEUS.is_file():
        return f"{PROMETHEUS} is not installed (apt-get install prometheus)"
    return None


class PrometheusServer(ChildServer):
    """Debian's ``prometheus`` child process scraping one target's ``/metrics`` with a bearer token.

    Its configuration is written into ``data_dir`` (the token in a file of its own, as an operator would keep it)
    with a short scrape interval; its TSDB lives there too. Queries go through its HTTP API (``query``).
    """

    def __init__(self, data_dir: Path, port: int, target: str, token: str, interval_s: float = 0.5) -> None:
        self.data_dir = data_dir
        self.port = port
        self.target = target
        self.token = token
        self.interval_s = interval_s
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "prometheus.log"

    def _configure(self) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        token_file = self.data_dir / "bankroll_token"
        token_file.write_text(self.token)
        token_file.chmod(0o600)
        config = self.data_dir / "prometheus.yml"
        # JSON is YAML: written with json.dumps, nothing in it needs quoting by hand.
        config.write_text(
            json.dumps(
                {
                    "global": {"scrape_interval": f"{int(self.interval_s * 1000)}ms", "scrape_timeout": "400ms"},
                    "scrape_configs": [
                        {
                            "job_name": "bankroll",
                            "authorization": {"credentials_file": str(token_file)},
                            "static_configs": [{"targets": [self.target]}],
                        }
                    ],
                },
                indent=2,
            )
        )
        return config

    def start(self, timeout: float = 30.0) -> None:
        """Start Prometheus and wait until ``/-/ready`` answers 200."""
        config = self._configure()
        args = [
            str(PROMETHEUS),
            f"--config.file={config}",
            f"--storage.tsdb.path={self.data_dir / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--log.level=warn",
        ]
        with self.log_file.open("ab") as log:
            self._process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise ServiceError(f"prometheus exited with {self._process.returncode}; see {self.log_file}")
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=1) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise ServiceError(f"Prometheus on {self.url} was not ready within {timeout}s; see {self.log_file}")

    def query(self, promql: str) -> list[dict[str, Any]]:
        """The instant vector of a PromQL query (``data.result``): each sample's ``metric`` labels and ``value``."""
        url = f"{self.url}/api/v1/query?{urllib.parse.urlencode({'query': promql})}"
        with urllib.request.urlopen(url, timeout=10) as answer:
            body = json.loads(answer.read())
        if body.get("status") != "success":
            raise ServiceError(f"query {promql!r} failed: {body}")
        result: list[dict[str, Any]] = body["data"]["result"]
        return result


def start_prometheus(tmp_dir: Path, target: str, token: str) -> PrometheusServer:
    """Start a private Prometheus scraping ``target`` (``host:port``) with ``token`` as bearer, on a free port.

    Returns:
        The running server; call ``stop()`` when done (it is also stopped when the interpreter exits).
    """
    server = PrometheusServer(tmp_dir, free_port(), target, token)
    atexit.register(server.stop)
    server.start()
    return server


def missing_caddy_tools() -> str | None:
    """Say what is missing to put Caddy in front of the app and make a browser trust its root, or None."""
    for tool, package in ((CADDY, "caddy"), (CERTUTIL, "libnss3-tools")):
        if not tool.is_file():
            return f"{tool} is not installed (apt-get install {package})"
    return None


class Caddy:
    """Debian's ``caddy`` serving ``ops/caddy/home.Caddyfile``: https for ``name`` with a certificate from its own
    authority (``tls internal``), proxied to ``upstream``, on free ports.

    Its state (the authority's root and keys) lives under ``data_dir`` alone: HOME and the XDG directories point
    there, and the Caddyfile's ``skip_install_trust`` keeps it out of the system's trust store.
    """

    def __init__(self, data_dir: Path, name: str, upstream: str) -> None:
        self.data_dir = data_dir
        self.name = name
        self.https_port = free_port()
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(data_dir),
            "XDG_DATA_HOME": str(data_dir / "data"),
            "XDG_CONFIG_HOME": str(data_dir / "config"),
            "BANKROLL_NAME": name,
            "BANKROLL_UPSTREAM": upstream,
            "BANKROLL_HTTPS_PORT": str(self.https_port),
            "BANKROLL_HTTP_PORT": str(free_port()),
            "CADDY_ADMIN": "off",
        }
        data_dir.mkdir(parents=True, exist_ok=True)
        args = [str(CADDY), "run", "--config", str(HOME_CADDYFILE), "--adapter", "caddyfile"]
        with self.log_file.open("wb") as log:
            self._process = subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def url(self) -> str:
        """The https origin a phone opens."""
        return f"https://{self.name}:{self.https_port}"

    @property
    def root(self) -> Path:
        """The root certificate (PEM) of Caddy's local authority."""
        return self.data_dir / "data" / "caddy" / "pki" / "authorities" / "local" / "root.crt"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "caddy.log"

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Block until Caddy completes a TLS handshake for ``name`` with a certificate its root signed.

        Raises:
            ServiceError: if it exits or does not within ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise ServiceError(f"caddy exited with {self._process.returncode}; see {self.log_file}")
            try:
                context = ssl.create_default_context(cafile=str(self.root))
                with (
                    socket.create_connection(("127.0.0.1", self.https_port), timeout=2.0) as raw,
                    context.wrap_socket(raw, server_hostname=self.name),
                ):
                    return
            except (OSError, ssl.SSLError) as exc:  # not listening, no root yet, certificate not issued yet
                last = exc
            time.sleep(0.1)
        raise ServiceError(
            f"caddy served no trusted https for {self.name} within {timeout}s ({last!r}); see {self.log_file}"
        )

    def stop(self, timeout: float = 10.0) -> None:
        """Stop Caddy (SIGTERM, then SIGKILL after ``timeout``). Does nothing if it is not running."""
        if self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def start_caddy(tmp_dir: Path, name: str, upstream: str) -> Caddy:
    """Start Caddy with ``tls internal`` for ``name`` in front of ``upstream`` (host:port); stopped at exit too."""
    caddy = Caddy(tmp_dir / "caddy", name, upstream)
    atexit.register(caddy.stop)
    try:
        caddy.wait_ready()
    except BaseException:
        caddy.stop()
        raise
    return caddy


def trust_only(home: Path, root: Path) -> None:
    """Give ``home`` an NSS database (the one Chromium on Linux reads, ``~/.pki/nssdb``) trusting ``root`` as a CA
    for websites; a browser run with this HOME trusts that root and the public roots it ships, nothing else."""
    nssdb = home / ".pki" / "nssdb"
    nssdb.mkdir(parents=True, exist_ok=True)
    db = f"sql:{nssdb}"
    for args in (["-N", "--empty-password"], ["-A", "-t", "C,,", "-n", "bankroll-local-root", "-i", str(root)]):
        subprocess.run([str(CERTUTIL), "-d", db, *args], check=True, capture_output=True, timeout=30)
