"""Session history: every session, newest first, with its result; a tap opens the session."""

from __future__ import annotations

from urllib.parse import parse_qsl

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


PAGE_SIZE = 50  # sessions per page of the history; older ones are a tap away, never silently cut off


def page_number(search: str) -> int:
    """The page the address asks for (``?page=2``); 1 when absent or unreadable."""
    value = dict(parse_qsl(search.lstrip("?"))).get("page", "1")
    return max(1, int(value)) if value.isdigit() and len(value) < 7 else 1


def pager(number: int, more: bool) -> VdomDict:
    """Newer / older links around the page number."""

    def link(to: int, label: str, testid: str) -> VdomDict:
        return html.a(
            {"class_name": "btn", "href": f"/app/history?page={to}", "key": testid, "data_testid": testid}, label
        )

    links = [link(number - 1, "Newer sessions", "newer")] if number > 1 else []
    if more:
        links.append(link(number + 1, "Older sessions", "older"))
    return html.nav({"class_name": "row pager", "aria_label": "History pages"}, *links)


@component
def history(client: BankrollClient, search: str = "") -> VdomDict:
    number = page_number(search)
    first = (number - 1) * PAGE_SIZE
    # One more than a page tells whether older sessions exist, without counting them all.
    data = use_load(lambda: client.sessions(PAGE_SIZE + 1, first), f"history{number}")
    if data.error is not None:
        return page("history", "/app/history", notice("Cannot load your sessions", str(data.error), unpaired_help()))
    if data.value is None:
        return page("history", "/app/history", html.p({"class_name": "muted"}, "Loading…"))
    shown, more = data.value[:PAGE_SIZE], len(data.value) > PAGE_SIZE
    rows = [row(s) for s in shown]
    if number == 1 and not more:
        title = f"History · {plural(len(rows), 'session')}"
    elif rows:
        title = f"History · sessions {first + 1:,}–{first + len(rows):,}"
    else:
        title = "History · no sessions this far back"
    return page(
        "history",
        "/app/history",
        html.h1({"data_testid": "history-title"}, title),
        html.div({"class_name": "list"}, *rows) if rows else html.p({"class_name": "muted"}, "No sessions yet."),
        pager(number, more) if number > 1 or more else "",
    )
