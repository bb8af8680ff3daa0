"""Computed figures per user, kept while that user's data in ClickHouse is unchanged.

A player opening the stats screens asks for the same figures again and again; recomputing ten years of
sessions each time costs 50–400 ms, a stamp query a few. The stamp (session rows, newest update, transaction rows,
the sum of the transactions' revisions) changes with every write the worker makes for the user, so a cached figure
is never stale.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from litestar.datastructures import State

from adapters.clickhouse import Warehouse

T = TypeVar("T")

_STAMP = """
SELECT
    (SELECT count() FROM sessions WHERE user_id = {u:String}),
    (SELECT max(updated_at) FROM sessions WHERE user_id = {u:String}),
    (SELECT count() FROM transactions WHERE user_id = {u:String}),
    -- a void or correction raises one transaction's revision: the sum over the current rows always grows
    (SELECT sum(revision) FROM transactions FINAL WHERE user_id = {u:String})
"""


class FigureCache:
    """A small LRU of computed figures keyed by user, question and data stamp."""

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, bytes], tuple[tuple[Any, ...], Any]] = OrderedDict()

    async def get(self, rows: Warehouse, user_id: str, question: bytes, compute: Callable[[], Awaitable[T]]) -> T:
        [stamp] = await rows.query(_STAMP, {"u": user_id})
        key = (user_id, question)
        hit = self._items.get(key)
        if hit is not None and hit[0] == stamp:
            self._items.move_to_end(key)
            value: T = hit[1]
            return value
        value = await compute()
        self._items[key] = (stamp, value)
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)
        return value


def figure_cache(state: State) -> FigureCache:
    """The app's one cache, made on first use."""
    cache = state.get("figure_cache")
    if cache is None:
        cache = state.figure_cache = FigureCache()
    assert isinstance(cache, FigureCache)
    return cache
