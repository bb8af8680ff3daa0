"""Session history: every session, newest first, with its result; a tap opens the session."""

from __future__ import annotations

from reactpy import component, html
from reactpy.core.types import VdomDict

from web.client import BankrollClient, SessionRow
from web.hooks import use_load
from web.widgets import duration, local_time, money, notice, page, plural, stakes, tone, unpaired_help


def row(s: SessionRow) -> VdomDict:
    running = s.status in ("active", "on_break")
    href = f"/app/live/{s.session_id}" if running else f"/app/sessions/{s.session_id}"
    blinds = f" {stakes(s.small_blind, s.big_blind, s.currency)}" if s.big_blind else ""
    where = f" · {s.location}" if s.location else ""
    return html.a(
        {"class_name": "row-link", "href": href, "key": s.session_id, "data_testid": "history-row"},
        html.div(
            html.b(f"{s.game}{blinds}"),
            html.div(
                {"class_name": "muted small"},
                f"{local_time(s.started_at)} · {duration(s.played_seconds)}{where}" + (" · running" if running else ""),
            ),
        ),
        html.span({"class_name": f"money {tone(s.profit)}"}, money(s.profit, s.currency, signed=True)),
    )


@component
def history(client: BankrollClient) -> VdomDict:
    data = use_load(lambda: client.sessions(500), "history")
    if data.error is not None:
        return page("history", "/app/history", notice("Cannot load your sessions", str(data.error), unpaired_help()))
    if data.value is None:
        return page("history", "/app/history", html.p({"class_name": "muted"}, "Loading…"))
    rows = [row(s) for s in data.value]
    return page(
        "history",
        "/app/history",
        html.h1(f"History · {plural(len(rows), 'session')}"),
        html.div({"class_name": "list"}, *rows) if rows else html.p({"class_name": "muted"}, "No sessions yet."),
    )
