"""Hooks the screens share: load something from the API once, and follow a session's live stream."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from reactpy import use_effect, use_state

from shared.reducer import LiveView
from web.client import ApiError, BankrollClient

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Loaded(Generic[T]):
    """A value being loaded: ``value`` once it arrived, or ``error`` when the API said no."""

    value: T | None = None
    error: ApiError | None = None
    loading: bool = True


def use_load(load: Callable[[], Awaitable[T]], key: str) -> Loaded[T]:
    """Run ``load`` once per ``key`` after the first render."""
    state, set_state = use_state(Loaded[T]())

    async def run() -> None:
        try:
            set_state(Loaded(value=await load(), loading=False))
        except ApiError as exc:
            set_state(Loaded(error=exc, loading=False))

    use_effect(run, [key])
    return state


def use_live(client: BankrollClient, session_id: str) -> Loaded[LiveView]:
    """The session's live view, replaced by each state the SSE stream sends; reconnects after a drop."""
    state, set_state = use_state(Loaded[LiveView]())

    async def follow() -> None:
        delay = 1.0
        while True:
            try:
                async for view in client.stream(session_id):
                    set_state(Loaded(value=view, loading=False))
                    delay = 1.0
            except ApiError as exc:
                set_state(Loaded(error=exc, loading=False))
                return
            except Exception as exc:  # a dropped stream: the screen keeps its last state and reconnects
                log.info("live stream of %s dropped: %s", session_id, exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)

    use_effect(follow, [session_id])
    return state
