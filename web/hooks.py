"""Hooks the screens share: load something from the API once."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from reactpy import use_effect, use_state

from web.client import ApiError

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
