"""The Litestar controller for /graphql: HTTP POST/GET for queries and mutations, WebSocket for subscriptions."""

from __future__ import annotations

from datetime import timedelta

from litestar.types import ControllerRouterHandler
from strawberry.litestar import make_graphql_controller
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from api.edge import same_origin_sockets
from api.graphql.context import context_getter
from api.graphql.schema import build_schema

PATH = "/graphql"


def graphql_controller() -> ControllerRouterHandler:
    """The controller, with its schema built now (from ``create_app``)."""
    controller = make_graphql_controller(
        build_schema(),
        path=PATH,
        context_getter=context_getter,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        connection_init_wait_timeout=timedelta(seconds=10),
        keep_alive=True,
        keep_alive_interval=15,
        # GET would let a link or an <img> run a query with the browser's ?token=; POST only.
        allow_queries_via_get=False,
        # GraphiQL loads its scripts from a CDN, which the app's Content-Security-Policy (rightly) refuses; any
        # desktop GraphQL client pointed at /graphql with the token does the same job.
        graphql_ide=None,
    )
    # Subscriptions are streams too: a page of another origin may not open the socket (queries need the token).
    controller.guards = [same_origin_sockets]
    return controller
