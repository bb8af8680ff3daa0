"""The GraphQL schema: queries, mutations and subscriptions over the REST services, with its limits and error codes."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from api.graphql.errors import ErrorCodes
from api.graphql.limits import limit_extensions
from api.graphql.mutation import Mutation
from api.graphql.query import Query
from api.graphql.subscription import Subscription
from api.graphql.types import LONG_SCALAR, Long


class BankrollSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """Expected errors are answers, not log lines; ``ErrorCodes`` logs the unexpected ones with their traceback."""


def build_schema() -> BankrollSchema:
    """The schema (built on demand: nothing at import time)."""
    extensions: list[Any] = [*limit_extensions(), ErrorCodes]
    return BankrollSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        config=StrawberryConfig(scalar_map={Long: LONG_SCALAR}),
    )


def schema_sdl() -> str:
    """The schema in GraphQL SDL, as checked in at docs/schema.graphql."""
    return build_schema().as_str() + "\n"
