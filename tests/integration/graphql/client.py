"""A GraphQL client for the tests: the `gql` library over HTTP (httpx) and graphql-transport-ws (websockets)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from gql import Client, GraphQLRequest
from gql.client import AsyncClientSession
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport

from tests.conftest import LiveServer


def request(query: str, variables: dict[str, Any] | None = None) -> GraphQLRequest:
    return GraphQLRequest(query, variable_values=variables)


def transaction(seq: int, kind: str = "deposit", amount: int = 100, **extra: Any) -> dict[str, Any]:
    """A ``TransactionInput`` in USD with a new id, recorded now."""
    return {
        "id": str(uuid.uuid4()),
        "seq": seq,
        "at": datetime.now(UTC).isoformat(),
        "kind": kind,
        "amount": amount,
        "currency": "USD",
        **extra,
    }


class Answer:
    """What one operation returned: its data and its errors (each with ``extensions.code``)."""

    def __init__(self, data: Any, errors: list[dict[str, Any]]) -> None:
        self.data = data
        self.errors = errors

    @property
    def codes(self) -> list[str]:
        return [e.get("extensions", {}).get("code") for e in self.errors]


class GraphQL:
    """One caller's view of /graphql."""

    def __init__(self, server: LiveServer, token: str | None) -> None:
        self.server = server
        self.token = token

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    async def run(self, query: str, variables: dict[str, Any] | None = None) -> Answer:
        transport = HTTPXAsyncTransport(url=f"{self.server.url}/graphql", headers=self.headers, timeout=30)
        async with Client(transport=transport) as session:
            try:
                data = await session.execute(request(query, variables))
            except TransportQueryError as exc:
                return Answer(exc.data, list(exc.errors or []))
        return Answer(data, [])

    async def data(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        answer = await self.run(query, variables)
        assert not answer.errors, answer.errors
        return answer.data

    @asynccontextmanager
    async def socket(
        self, *, init_payload: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> AsyncIterator[AsyncClientSession]:
        """A graphql-transport-ws connection; by default the token rides in the connection_init payload, as
        browsers send it (they cannot set headers on a WebSocket)."""
        payload = init_payload if init_payload is not None else self.headers
        transport = WebsocketsTransport(
            url=self.server.url.replace("http://", "ws://") + "/graphql",
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
            init_payload=payload,
            headers=headers,
        )
        async with Client(transport=transport) as session:
            yield session
