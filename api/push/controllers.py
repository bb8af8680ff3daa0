"""Push routes: the public VAPID key, and subscribe / unsubscribe for the caller."""

from __future__ import annotations

import msgspec
from litestar import Controller, delete, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody

from adapters.push import PushBook, VapidKeys
from api.accounts import Principal
from api.push.deps import provide_push_book
from shared.push import PushSubscription


class PublicKey(msgspec.Struct, frozen=True):
    public_key: str  # base64url uncompressed P-256 point: pushManager.subscribe({applicationServerKey})


class Subscribed(msgspec.Struct, frozen=True):
    endpoint: str


class Unsubscribe(msgspec.Struct, frozen=True):
    endpoint: str


class PushController(Controller):
    path = "/api/v1/push"
    tags = ["push"]
    dependencies = {
        "book": Provide(provide_push_book, sync_to_thread=False),
    }

    @get("/key", summary="The server's VAPID public key, for pushManager.subscribe")
    async def key(self, vapid: NamedDependency[VapidKeys]) -> PublicKey:
        return PublicKey(vapid.application_server_key)

    @post("/subscriptions", status_code=201, summary="Register this browser's PushSubscription for the caller")
    async def subscribe(
        self, principal: NamedDependency[Principal], book: NamedDependency[PushBook], data: JSONBody[PushSubscription]
    ) -> Subscribed:
        sub = await book.add(principal.user_id, data)  # InvalidInput → 400 with the reason
        return Subscribed(sub.endpoint)

    @delete("/subscriptions", status_code=204, summary="Forget one of the caller's push subscriptions")
    async def unsubscribe(
        self, principal: NamedDependency[Principal], book: NamedDependency[PushBook], data: JSONBody[Unsubscribe]
    ) -> None:
        await book.remove(principal.user_id, data.endpoint)  # idempotent: a missing endpoint is also 204
