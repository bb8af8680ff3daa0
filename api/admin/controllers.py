"""Admin routes: GET /api/v1/admin/overview, 404 for anyone not an admin (the route does not reveal itself)."""

from __future__ import annotations

from litestar import Controller, get
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from redis.asyncio import Redis

from adapters.sessions import SessionStore
from api.accounts import Accounts, Principal
from api.admin.service import AdminService, Overview
from api.deps import FanoutReader


def provide_admin(
    redis: NamedDependency[Redis],
    sessions: NamedDependency[SessionStore],
    fanout_figures: NamedDependency[FanoutReader | None],
) -> AdminService:
    return AdminService(redis, sessions, fanout_figures)


class AdminController(Controller):
    path = "/api/v1/admin"
    tags = ["admin"]
    dependencies = {"admin": Provide(provide_admin, sync_to_thread=False)}

    @get("/overview", summary="The owner's overview (admins only; 404 for anyone else)")
    async def overview(
        self, admin: NamedDependency[AdminService], principal: NamedDependency[Principal], redis: NamedDependency[Redis]
    ) -> Overview:
        if not await Accounts(redis).is_admin(principal.user_id):
            raise NotFoundException()
        return await admin.overview()
