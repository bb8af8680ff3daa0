"""Settings: one typed place, read from environment variables by ``load_settings()`` (never at import)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import msgspec

# The cookie the server sets at pairing (HttpOnly) and the server-rendered screens read the device token from.
TOKEN_COOKIE = "bankroll_token"  # noqa: S105 — the cookie's name, not a secret
TOKEN_COOKIE_MAX_AGE_S = 400 * 86400  # browsers cap cookie lifetimes at 400 days


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Every knob of the app. Each field's comment names its environment variable and default."""

    data_dir: Path  # BANKROLL_DATA_DIR, default ./var — private Redis, chDB files, VAPID keys
    host: str = "127.0.0.1"  # HOST
    port: int = 8000  # PORT
    public_url: str = ""  # PUBLIC_URL, default http://HOST:PORT — base of pairing links
    redis_url: str | None = None  # REDIS_URL; unset: a private redis-server under data_dir
    redis_appendfsync: str = "everysec"  # REDIS_APPENDFSYNC for the private Redis: always | everysec
    clickhouse_url: str = ""  # CLICKHOUSE_URL, default chdb:///<data_dir>/clickhouse; http://… for a server
    kafka_bootstrap_servers: str | None = None  # KAFKA_BOOTSTRAP_SERVERS; unset: no Kafka sink
    kafka_topic: str = "poker.session-events"  # KAFKA_TOPIC
    embedded_worker: bool = True  # BANKROLL_EMBEDDED_WORKER: `bankroll serve` also runs the arq worker
    event_id_ttl_days: int = 30  # EVENT_ID_TTL_DAYS: how long an event id is remembered for dedupe (≥ 8)
    max_body_bytes: int = 4 * 1024 * 1024  # MAX_BODY_BYTES: larger request bodies get 413
    max_streams_per_user: int = 20  # MAX_STREAMS_PER_USER: open SSE streams per user and process; more get 429
    batches_per_second: int = 100  # BATCHES_PER_SECOND: event batches one user may post per second; more get 429
    sessions_per_day: int = 200  # SESSIONS_PER_DAY: new sessions one user may start per UTC day (imports aside)
    header_timeout_s: float = 10.0  # HEADER_TIMEOUT_S: a request's headers must arrive within this (slowloris)
    body_timeout_s: float = 30.0  # BODY_TIMEOUT_S: a request's body must arrive within this once headers are in
    keep_alive_s: float = 5.0  # KEEP_ALIVE_S: an idle keep-alive connection is closed after this
    max_connections: int = 1000  # MAX_CONNECTIONS: concurrent connections and requests; more get 503
    tilt_model_path: str = ""  # TILT_MODEL_PATH, default the model shipped in workers/tilt_model
    vapid_subject: str = "mailto:admin@bankroll.invalid"  # VAPID_SUBJECT: contact in VAPID claims (RFC 8292)
    push_timeout_s: float = 10.0  # PUSH_TIMEOUT_S: a push service slower than this is retried later
    log_level: str = "INFO"  # LOG_LEVEL
    log_format: str = "auto"  # LOG_FORMAT: json | text | auto (text on a terminal, JSON lines otherwise)
    access_log: bool = True  # ACCESS_LOG: one line per request (method, path without secrets, status)
    metrics_token: str = ""  # BANKROLL_METRICS_TOKEN: a scrape of /metrics needs it as bearer; unset: no /metrics
    # BANKROLL_CA_CERT: the local root certificate (PEM) a `tls internal` proxy signs with; the pairing page offers
    # it to phones. Unset: none offered.
    ca_cert: str = ""

    @property
    def clickhouse_dsn(self) -> str:
        return self.clickhouse_url or f"chdb://{(self.data_dir / 'clickhouse').resolve()}"

    @property
    def base_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"


def _flag(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build settings from environment variables (or a given mapping, for tests)."""
    e = os.environ if env is None else env
    ttl = int(e.get("EVENT_ID_TTL_DAYS", "30"))
    if ttl < 8:
        raise ValueError(f"EVENT_ID_TTL_DAYS={ttl}: must be at least 8, longer than a phone's offline queue")
    fsync = e.get("REDIS_APPENDFSYNC", "everysec")
    if fsync not in {"always", "everysec"}:
        raise ValueError(f"REDIS_APPENDFSYNC={fsync!r}: must be 'always' or 'everysec'")
    log_format = e.get("LOG_FORMAT", "auto").strip().lower()
    if log_format not in {"auto", "json", "text"}:
        raise ValueError(f"LOG_FORMAT={log_format!r}: must be 'json', 'text' or 'auto'")
    return Settings(
        data_dir=Path(e.get("BANKROLL_DATA_DIR", "./var")).resolve(),
        host=e.get("HOST", "127.0.0.1"),
        port=int(e.get("PORT", "8000")),
        public_url=e.get("PUBLIC_URL", ""),
        redis_url=e.get("REDIS_URL") or None,
        redis_appendfsync=fsync,
        clickhouse_url=e.get("CLICKHOUSE_URL", ""),
        kafka_bootstrap_servers=e.get("KAFKA_BOOTSTRAP_SERVERS") or None,
        kafka_topic=e.get("KAFKA_TOPIC", "poker.session-events"),
        embedded_worker=_flag(e.get("BANKROLL_EMBEDDED_WORKER", "true")),
        event_id_ttl_days=ttl,
        max_body_bytes=int(e.get("MAX_BODY_BYTES", str(4 * 1024 * 1024))),
        max_streams_per_user=int(e.get("MAX_STREAMS_PER_USER", "20")),
        batches_per_second=int(e.get("BATCHES_PER_SECOND", "100")),
        sessions_per_day=int(e.get("SESSIONS_PER_DAY", "200")),
        header_timeout_s=float(e.get("HEADER_TIMEOUT_S", "10")),
        body_timeout_s=float(e.get("BODY_TIMEOUT_S", "30")),
        keep_alive_s=float(e.get("KEEP_ALIVE_S", "5")),
        max_connections=int(e.get("MAX_CONNECTIONS", "1000")),
        tilt_model_path=e.get("TILT_MODEL_PATH", ""),
        vapid_subject=e.get("VAPID_SUBJECT", "mailto:admin@bankroll.invalid"),
        push_timeout_s=float(e.get("PUSH_TIMEOUT_S", "10")),
        log_level=e.get("LOG_LEVEL", "INFO"),
        log_format=log_format,
        access_log=_flag(e.get("ACCESS_LOG", "true")),
        metrics_token=e.get("BANKROLL_METRICS_TOKEN", ""),
        ca_cert=e.get("BANKROLL_CA_CERT", ""),
    )
