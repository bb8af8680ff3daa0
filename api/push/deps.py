"""Push dependencies from ``app.state``: the VAPID keys (``state.vapid``) and the subscription book.

``state.push_allow_insecure_endpoints`` (default False) lets tests register http://127.0.0.1 endpoints.
"""

from __future__ import annotations

from litestar.datastructures import State

from adapters.push import PushBook, VapidKeys


def provide_vapid(state: State) -> VapidKeys:
    vapid: VapidKeys = state.vapid
    return vapid


def provide_push_book(state: State) -> PushBook:
    return PushBook(state.redis, allow_insecure_endpoints=bool(state.get("push_allow_insecure_endpoints", False)))
