"""How every process logs: one format for the API and the worker, the request's context on each line, no secrets.

- **Format.** ``LOG_FORMAT=json``: one JSON object a line (``time``, ``level``, ``logger``, ``message``, then
  ``request_id``, ``user_id``, ``method``/``path``/``status`` of an access line, ``exception``); ``text``: a
  readable line; ``auto`` (the default): text when stderr is a terminal, JSON otherwise (a file, journald, a
  container's log). uvicorn's own loggers (its errors and its access log) go through the same handler.
- **Context.** ``request_context`` opens a ``LogContext`` for one request (the ASGI wrapper in ``api.serving``);
  ``bind_user`` fills in the user once the token is checked. The context is one mutable object shared by every
  task the request starts (Litestar resolves dependencies in tasks of their own), so a line logged anywhere in
  the request carries both ids.
- **No secrets.** Every line, exception text included, is scrubbed of tokens: ``pbt_…`` device tokens, the
  ``?token=`` of the live stream's URL (and any ``code``/``token`` query parameter), bearer credentials.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal, TextIO

import msgspec

LogFormat = Literal["auto", "json", "text"]
FORMATS: Final = ("auto", "json", "text")
REDACTED: Final = "[redacted]"

_SECRETS: Final = (
    (re.compile(r"([?&;](?:token|code|access_token)=)[^&#\s\"']+", re.IGNORECASE), rf"\1{REDACTED}"),
    (re.compile(r"(bearer\s+)[^\s\"',;]+", re.IGNORECASE), rf"\1{REDACTED}"),
    (re.compile(r"\bpbt_[A-Za-z0-9_\-]+"), REDACTED),
)
# Probes and scrapes every few seconds would drown the access log; a failing one is still logged.
_QUIET_PATHS: Final = frozenset({"/healthz", "/readyz", "/metrics"})


def scrub(text: str) -> str:
    """``text`` with every token in it replaced by ``[redacted]``."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


@dataclass
class LogContext:
    """What the lines of one request say about it."""

    request_id: str
    user_id: str | None = None


_CONTEXT: contextvars.ContextVar[LogContext | None] = contextvars.ContextVar("bankroll_log_context", default=None)


@contextlib.contextmanager
def request_context(request_id: str) -> Iterator[LogContext]:
    """Every line logged inside the block (and in tasks it starts) carries ``request_id``."""
    token = _CONTEXT.set(LogContext(request_id))
    try:
        yield _CONTEXT.get() or LogContext(request_id)
    finally:
        _CONTEXT.reset(token)


def bind_user(user_id: str) -> None:
    """The request's caller is known: its lines from now on carry ``user_id`` (outside a request, nothing)."""
    context = _CONTEXT.get()
    if context is not None:
        context.user_id = user_id


class _Access(msgspec.Struct, frozen=True):
    """uvicorn's access line, read from its arguments: ``client - "METHOD path HTTP/v" status``."""

    method: str
    path: str
    status: int


def _access(record: logging.LogRecord) -> _Access | None:
    args = record.args
    if record.name != "uvicorn.access" or not isinstance(args, tuple) or len(args) != 5:
        return None
    _, method, path, _, status = args
    return _Access(str(method), scrub(str(path)), int(status))  # type: ignore[call-overload]  # uvicorn's ints


class _Fields(logging.Filter):
    """Puts the request's context and an access line's parts on the record; drops the routine probe lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = _CONTEXT.get()
        record.request_id = context.request_id if context else None
        record.user_id = context.user_id if context else None
        record.access = access = _access(record)
        return not (access and access.status < 400 and access.path.split("?")[0] in _QUIET_PATHS)


def _when(record: logging.LogRecord) -> datetime:
    return datetime.fromtimestamp(record.created, UTC)


class JsonFormatter(logging.Formatter):
    """One JSON object a line; keys a log pipeline can index."""

    _encoder = msgspec.json.Encoder()

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _when(record).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": scrub(record.getMessage()),
        }
        for key in ("request_id", "user_id"):
            if getattr(record, key, None):
                line[key] = getattr(record, key)
        access: _Access | None = getattr(record, "access", None)
        if access is not None:
            line.update(method=access.method, path=access.path, status=access.status)
        if record.exc_info:
            line["exception"] = scrub(self.formatException(record.exc_info))
        elif record.stack_info:
            line["exception"] = scrub(self.formatStack(record.stack_info))
        return self._encoder.encode(line).decode()


class TextFormatter(logging.Formatter):
    """``2026-11-24 05:51:48.123 INFO  api.edge: message  request=… user=…`` and the traceback below it."""

    def format(self, record: logging.LogRecord) -> str:
        when = _when(record).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
        line = f"{when} {record.levelname:<5} {record.name}: {scrub(record.getMessage())}"
        ids = [
            f"{k}={v}"
            for k, v in (("request", getattr(record, "request_id", None)), ("user", getattr(record, "user_id", None)))
            if v
        ]
        if ids:
            line += "  " + " ".join(ids)
        if record.exc_info:
            line += "\n" + scrub(self.formatException(record.exc_info))
        return line


def resolve_format(name: str, stream: TextIO) -> Literal["json", "text"]:
    """``auto`` becomes text on a terminal and JSON elsewhere."""
    if name == "auto":
        return "text" if stream.isatty() else "json"
    if name not in FORMATS:
        raise ValueError(f"LOG_FORMAT={name!r}: must be one of {', '.join(FORMATS)}")
    return "json" if name == "json" else "text"


def configure(level: str, log_format: str = "auto", stream: TextIO | None = None) -> None:
    """Send every logger (uvicorn's, arq's and Python's warnings included) to ``stream`` (stderr) in one format."""
    out = stream or sys.stderr
    handler = logging.StreamHandler(out)
    handler.addFilter(_Fields())
    handler.setFormatter(JsonFormatter() if resolve_format(log_format, out) == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
    logging.captureWarnings(True)


__all__ = [
    "FORMATS",
    "JsonFormatter",
    "LogContext",
    "LogFormat",
    "TextFormatter",
    "bind_user",
    "configure",
    "request_context",
    "resolve_format",
    "scrub",
]
