"""GraphQL at /graphql beside REST: the same tokens, the same services, live subscriptions over graphql-transport-ws."""

from api.graphql.controller import graphql_controller
from api.graphql.schema import build_schema, schema_sdl

__all__ = ["build_schema", "graphql_controller", "schema_sdl"]
