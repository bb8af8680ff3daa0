"""Client side of export, import and replay: `bankroll export|import|replay` talk to a running server over HTTP
(it holds the chDB engine, one per process); replay reads ClickHouse itself when no server runs."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final

import anyio
import httpx
import msgspec

from shared.errors import InvalidInput
from shared.events import MAX_BATCH
from shared.reducer import SessionState

EXPORTS: Final = ("sessions.csv", "transactions.csv", "events.jsonl", "events.parquet", "backup")
AUTH_ENV: Final = "BANKROLL_TOKEN"


class RestoreTotals(msgspec.Struct):
    """What a backup import did; ``rejected`` lists the first reasons."""

    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0
    reasons: list[str] = []


def token(given: str | None) -> str:
    """The bearer token from ``--token`` or BANKROLL_TOKEN."""
    value = given or os.environ.get(AUTH_ENV, "")
    if not value:
        raise InvalidInput(f"no token: pass --token or set {AUTH_ENV} (`bankroll user add` prints one)")
    return value


def api_client(url: str, bearer: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {bearer}"}, timeout=120)


def backup_lines(path: Path) -> list[bytes]:
    """The events of a backup file (JSONL), blank lines skipped."""
    return [line for line in path.read_bytes().splitlines() if line.strip()]


async def restore(client: httpx.AsyncClient, lines: Iterable[bytes], batch_size: int = MAX_BATCH) -> RestoreTotals:
    """Post backup events in file order, in batches, through POST /api/v1/import/events.

    Idempotent: an event id the server has already stored comes back as a duplicate, so running a restore twice
    (or resuming one that broke off) creates nothing twice.
    """
    totals = RestoreTotals()
    batch: list[bytes] = []

    async def send() -> None:
        body = b'{"events":[' + b",".join(batch) + b"]}"
        response = await client.post(
            "/api/v1/import/events", content=body, headers={"Content-Type": "application/json"}
        )
        _raise_for(response)
        answer = response.json()
        totals.accepted += answer["accepted"]
        totals.duplicate += answer["duplicate"]
        totals.rejected += answer["rejected"]
        reasons = [r.get("reason", "") for r in answer["results"] if r["status"] == "rejected"]
        totals.reasons.extend(reasons[: max(0, 20 - len(totals.reasons))])
        batch.clear()

    for line in lines:
        batch.append(line)
        if len(batch) == batch_size:
            await send()
    if batch:
        await send()
    return totals


async def import_csv(client: httpx.AsyncClient, raw: bytes, params: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
    """Post a CSV to POST /api/v1/import/csv; (ok, report). With any row error nothing was imported."""
    response = await client.post(
        "/api/v1/import/csv", content=raw, params={k: v for k, v in params.items() if v is not None}
    )
    if response.status_code not in (200, 400) or "detail" in response.json():
        _raise_for(response)
        raise InvalidInput(response.json().get("detail", response.text))
    report: dict[str, Any] = response.json()
    return response.status_code == 200, report


async def download(client: httpx.AsyncClient, what: str, out: Path) -> tuple[Path, int]:
    """Save one export to the file ``out``, or into the directory ``out`` under the name the server gives it (the
    backup's is dated: ``bankroll-backup-YYYYMMDD.jsonl``, UTC); the file written and its size in bytes."""
    if what not in EXPORTS:
        raise InvalidInput(f"export {what!r} is not one of {', '.join(EXPORTS)}")
    size = 0
    async with client.stream("GET", f"/api/v1/export/{what}") as response:
        if response.status_code != 200:
            await response.aread()
            _raise_for(response)
        target = out / _served_name(response, what) if await anyio.Path(out).is_dir() else out
        with target.open("wb") as file:
            async for chunk in response.aiter_bytes():
                file.write(chunk)
                size += len(chunk)
    return target, size


def _served_name(response: httpx.Response, what: str) -> str:
    """The file name of the server's ``Content-Disposition`` (a bare name: no directory part is taken)."""
    _, _, name = response.headers.get("content-disposition", "").partition('filename="')
    name = Path(name.rstrip('"')).name
    return name if name and name not in {".", ".."} else what


async def replay_via_api(client: httpx.AsyncClient, session_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/sessions/{session_id}/replay")
    _raise_for(response)
    state: dict[str, Any] = response.json()
    return state


async def replay_direct(dsn: str, session_id: str) -> SessionState | None:
    """Fold the session from ClickHouse in this process: an http:// server, or the chDB files when no server runs."""
    from adapters.clickhouse import Warehouse
    from api.exports import replay_session

    warehouse = Warehouse(dsn)
    try:
        await warehouse.migrate()  # a store nobody has served from yet has no tables; migrating is idempotent
        return await replay_session(warehouse, session_id, user_id=None)
    finally:
        warehouse.close()


async def server_running(url: str) -> bool:
    try:
        async with httpx.AsyncClient(base_url=url, timeout=1.5) as client:
            await client.get("/healthz")  # any answer: /healthz says 503 while the server's Redis restarts
            return True
    except httpx.HTTPError:
        return False


def _raise_for(response: httpx.Response) -> None:
    if response.status_code >= 400:
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text
        raise InvalidInput(f"the server answered {response.status_code}: {detail}")
