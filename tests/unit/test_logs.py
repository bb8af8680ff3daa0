"""adapters.logs: what a line says (JSON or text), the request's ids on it, and no secret in it."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
from collections.abc import Iterator

import pytest

from adapters.logs import bind_user, configure, request_context, resolve_format, scrub

TOKEN = "pbt_AbC-123_xyz"


@pytest.mark.parametrize(
    "text",
    [
        f'"GET /api/v1/sessions/s1/stream?token={TOKEN} HTTP/1.1" 200',
        "GET /api/v1/sessions/s1/stream?since=3&token=AbC-123_xyz",
        "Authorization: Bearer AbC-123_xyz",
        f"refused {TOKEN}",
        "/pair?code=AbC-123_xyz",
    ],
)
def test_scrub_leaves_no_token(text: str) -> None:
    assert "AbC-123_xyz" not in scrub(text)
    assert "[redacted]" in scrub(text)


def test_scrub_keeps_what_is_no_secret() -> None:
    line = '"GET /api/v1/sessions/s1/stream?since=3 HTTP/1.1" 200'
    assert scrub(line) == line


@contextlib.contextmanager
def captured(fmt: str) -> Iterator[io.StringIO]:
    """The process's logging configured into a buffer for the block, as it was afterwards."""
    out = io.StringIO()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    configure("INFO", fmt, out)
    try:
        yield out
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)
        logging.captureWarnings(False)


async def test_a_line_in_a_request_names_the_request_and_the_user_bound_in_another_task() -> None:
    with captured("json") as out, request_context("r-1"):
        await asyncio.create_task(_authenticate("u-7"))  # as Litestar resolves a dependency in a task
        logging.getLogger("api.test").info("took %d events with %s", 3, TOKEN)
    [line] = [json.loads(x) for x in out.getvalue().splitlines()]
    assert line["request_id"] == "r-1" and line["user_id"] == "u-7"
    assert line["message"] == "took 3 events with [redacted]"
    assert line["level"] == "INFO" and line["logger"] == "api.test" and line["time"].endswith("Z")


async def _authenticate(user_id: str) -> None:
    bind_user(user_id)


def test_text_lines_are_readable_and_carry_the_ids() -> None:
    with captured("text") as out, request_context("r-2"):
        bind_user("u-9")
        logging.getLogger("api.test").warning("slow push service")
    assert out.getvalue().rstrip("\n").endswith(" WARNING api.test: slow push service  request=r-2 user=u-9")


def test_outside_a_request_a_line_has_no_ids_and_an_exception_is_scrubbed() -> None:
    with captured("json") as out:
        try:
            raise RuntimeError(f"bad token {TOKEN}")
        except RuntimeError:
            logging.getLogger("workers.test").exception("drain failed")
    line = json.loads(out.getvalue())
    assert "request_id" not in line and "user_id" not in line
    assert "RuntimeError: bad token [redacted]" in line["exception"]


def test_auto_is_text_on_a_terminal_and_json_elsewhere() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert resolve_format("auto", Terminal()) == "text"
    assert resolve_format("auto", io.StringIO()) == "json"
    with pytest.raises(ValueError, match="LOG_FORMAT='xml': must be one of auto, json, text"):
        resolve_format("xml", io.StringIO())
