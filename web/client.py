"""The screens' HTTP client for the API: the device's token, JSON decoded into shared's types, SSE parsed.

Exceptions::

    ApiError            the API answered an error, or could not be reached
    └── Unpaired        401: the token is missing, unknown or revoked
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import msgspec

from shared.events import Event, decode_stored
from shared.reducer import LiveView, SessionSummary
from shared.stats import BankrollGuidance, BankrollPoint, CalendarDay, DrawdownReport, Summary


class ApiError(Exception):
    """The API answered with an error or was unreachable."""


class Unpaired(ApiError):
    """The device token is missing, unknown or revoked."""


# One entry of GET /api/v1/sessions: the same read model the API serves.
SessionRow = SessionSummary


_ROWS = msgspec.json.Decoder(list[SessionRow])
_LIVE = msgspec.json.Decoder(LiveView)
_RAW_LIST = msgspec.json.Decoder(list[msgspec.Raw])
_SUMMARY = msgspec.json.Decoder(Summary)
_BREAKDOWN = msgspec.json.Decoder(dict[str, Summary])
_CALENDAR = msgspec.json.Decoder(list[CalendarDay])
_BANKROLL = msgspec.json.Decoder(dict[str, list[BankrollPoint]])
_GUIDANCE = msgspec.json.Decoder(BankrollGuidance)
_DRAWDOWN = msgspec.json.Decoder(DrawdownReport)


class BankrollClient:
    """Calls the API as one device. Pass ``transport`` to talk to an app in-process (tests, benchmarks)."""

    def __init__(self, base_url: str, token: str, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.base_url = base_url
        self.token = token
        self.transport = transport

    def _client(self, timeout: float | None = 10.0) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=httpx.Timeout(timeout, connect=5.0),
            transport=self.transport,
        )

    async def _get(self, path: str, params: dict[str, Any] | None = None) -> bytes:
        if not self.token:
            raise Unpaired("this device is not paired")
        try:
            async with self._client() as client:
                response = await client.get(path, params=params)
        except httpx.HTTPError as exc:
            raise ApiError(f"the server is unreachable: {exc}") from exc
        _check(response)
        return response.content

    async def sessions(self, limit: int = 100, offset: int = 0) -> list[SessionRow]:
        """The caller's sessions, newest first: ``limit`` of them after the ``offset`` newest."""
        return _ROWS.decode(await self._get("/api/v1/sessions", {"limit": limit, "offset": offset}))

    async def live(self, session_id: str) -> LiveView:
        return _LIVE.decode(await self._get(f"/api/v1/sessions/{session_id}"))

    async def events(self, session_id: str) -> list[Event]:
        return [
            decode_stored(bytes(raw))
            for raw in _RAW_LIST.decode(await self._get(f"/api/v1/sessions/{session_id}/events"))
        ]

    async def summary(self, params: dict[str, Any]) -> Summary:
        """GET /api/v1/stats/summary with the statistics filters ``params`` (named as the API names them)."""
        return _SUMMARY.decode(await self._get("/api/v1/stats/summary", params))

    async def breakdown(self, by: str, params: dict[str, Any]) -> dict[str, Summary]:
        return _BREAKDOWN.decode(await self._get("/api/v1/stats/breakdown", {**params, "by": by}))

    async def calendar(self, params: dict[str, Any]) -> list[CalendarDay]:
        return _CALENDAR.decode(await self._get("/api/v1/stats/calendar", params))

    async def bankroll(self, params: dict[str, Any]) -> dict[str, list[BankrollPoint]]:
        return _BANKROLL.decode(await self._get("/api/v1/stats/bankroll", params))

    async def guidance(self, params: dict[str, Any]) -> BankrollGuidance:
        return _GUIDANCE.decode(await self._get("/api/v1/stats/guidance", params))

    async def drawdown(self, params: dict[str, Any]) -> DrawdownReport:
        return _DRAWDOWN.decode(await self._get("/api/v1/stats/drawdown", params))

    async def until_revoked(self, watching: Callable[[], None] = lambda: None) -> None:
        """Return once this device is revoked (the API's device stream says so).

        Args:
            watching: called once the API watches for the revocation (a revocation from then on is seen).

        Raises:
            Unpaired: the token is already unknown or revoked.
            ApiError: the stream could not be opened, or ended without a revocation.
        """
        async for event, data in self._events("/api/v1/devices/current/stream"):
            if event == "device" and data == "ready":
                watching()
            elif event == "device" and data == "revoked":
                return
        raise ApiError("the device stream ended")

    async def _events(self, path: str) -> AsyncIterator[tuple[str, str]]:
        """The (event, data) pairs of a server-sent event stream."""
        if not self.token:
            raise Unpaired("this device is not paired")
        async with self._client(timeout=None) as client, client.stream("GET", path) as response:
            if response.status_code != 200:
                await response.aread()
                _check(response)
            event, data = "", []
            async for line in response.aiter_lines():
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].removeprefix(" "))
                elif not line:
                    if event and data:
                        yield event, "\n".join(data)
                    event, data = "", []


def _check(response: httpx.Response) -> None:
    if response.status_code == 401:
        raise Unpaired("this device is no longer paired; pair this device again")
    if response.status_code >= 400:
        try:
            detail = json.loads(response.content).get("detail", "")
        except ValueError:
            detail = response.text[:200]
        raise ApiError(
            f"{response.request.method} {response.request.url.path} answered {response.status_code}: {detail}"
        )
