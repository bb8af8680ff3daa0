"""Device routes: POST /api/v1/devices/pair (no auth: the code is the credential), list and revoke."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, delete, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotAuthorizedException, NotFoundException
from litestar.params import FromPath, JSONBody
from litestar.response import ServerSentEvent
from redis.asyncio import Redis

from api.accounts import Principal
from api.devices.deps import provide_devices
from api.devices.service import DeviceService, DeviceView, Paired, PairRequest
from api.edge import is_https, same_origin_only
from api.streams import StreamLimit, revocation_feed, sse_messages
from shared.errors import InvalidInput, NotAllowed
from shared.settings import TOKEN_COOKIE, TOKEN_COOKIE_MAX_AGE_S


class DeviceController(Controller):
    path = "/api/v1/devices"
    tags = ["devices"]
    dependencies = {"devices": Provide(provide_devices, sync_to_thread=False)}

    @post("/pair", status_code=201, summary="Trade a one-time pairing code for a device token")
    async def pair(
        self, request: Request[Any, Any, Any], devices: NamedDependency[DeviceService], data: JSONBody[PairRequest]
    ) -> Response[Paired]:
        """The token comes back in the body (for the offline outbox) and as an HttpOnly cookie for the screens."""
        try:
            paired = await devices.pair(data)
        except NotAllowed as exc:  # an unknown or used code is an authentication failure, not a 403
            raise NotAuthorizedException(detail=str(exc)) from None
        cookie = Cookie(
            key=TOKEN_COOKIE,
            value=paired.token,
            path="/",
            max_age=TOKEN_COOKIE_MAX_AGE_S,
            httponly=True,
            secure=is_https(request.scope),
            samesite="strict",
        )
        return Response(paired, status_code=201, cookies=[cookie])

    @get("/", summary="The caller's devices, oldest first")
    async def list_devices(
        self, devices: NamedDependency[DeviceService], principal: NamedDependency[Principal]
    ) -> list[DeviceView]:
        return await devices.list(principal)

    @get(
        "/current/stream",
        summary="Server-sent events: `event: device` `data: ready`, then `data: revoked` once this device is revoked",
        guards=[same_origin_only],
    )
    async def revocation(
        self,
        redis: NamedDependency[Redis],
        streams: NamedDependency[StreamLimit],
        principal: NamedDependency[Principal],
    ) -> ServerSentEvent:
        feed = revocation_feed(redis, streams, principal)
        first = await feed.__anext__()  # the stream cap is checked before the 200 goes out
        return ServerSentEvent(sse_messages(first, feed, event="device"), headers={"Cache-Control": "no-store"})

    @delete("/{device_id:str}", status_code=200, summary="Revoke a device: its token stops working at once")
    async def revoke(
        self, devices: NamedDependency[DeviceService], principal: NamedDependency[Principal], device_id: FromPath[str]
    ) -> DeviceView:
        try:
            return await devices.revoke(principal, device_id)
        except InvalidInput as exc:  # someone else's device answers like a missing one
            raise NotFoundException(detail=str(exc)) from None
