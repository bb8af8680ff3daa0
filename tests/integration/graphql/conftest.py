"""GraphQL test setup: the app on a real socket, a `gql` client per player, and a complete selection per type."""

from __future__ import annotations

from functools import cache

import pytest
from graphql import GraphQLList, GraphQLNonNull, GraphQLObjectType, GraphQLOutputType

from api.graphql import build_schema
from tests.conftest import LiveServer, Player
from tests.integration.graphql.client import GraphQL


@pytest.fixture
def alice_gql(live_server: LiveServer, alice: Player) -> GraphQL:
    return GraphQL(live_server, alice.token)


@pytest.fixture
def bob_gql(live_server: LiveServer, bob: Player) -> GraphQL:
    return GraphQL(live_server, bob.token)


@pytest.fixture
def anonymous_gql(live_server: LiveServer) -> GraphQL:
    return GraphQL(live_server, None)


def _named(kind: GraphQLOutputType) -> GraphQLOutputType:
    while isinstance(kind, GraphQLNonNull | GraphQLList):
        kind = kind.of_type
    return kind


@cache
def everything(type_name: str) -> str:
    """A selection of every field of an object type, nested objects included (the schema has no cycles)."""
    kind = build_schema()._schema.get_type(type_name)
    assert isinstance(kind, GraphQLObjectType), type_name
    parts = []
    for name, field in kind.fields.items():
        if field.args and any(isinstance(a.type, GraphQLNonNull) for a in field.args.values()):
            continue  # fields with required arguments are asked for explicitly
        inner = _named(field.type)
        parts.append(f"{name} {everything(inner.name)}" if isinstance(inner, GraphQLObjectType) else name)
    return "{ " + " ".join(parts) + " }"


def root_fields(operation: str) -> set[str]:
    """The names of the root fields of ``query``, ``mutation`` or ``subscription``."""
    schema = build_schema()._schema
    root = {"query": schema.query_type, "mutation": schema.mutation_type, "subscription": schema.subscription_type}
    kind = root[operation]
    assert kind is not None
    return set(kind.fields)
