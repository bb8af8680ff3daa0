"""What one operation may ask for, and how refusals read: codes, messages naming the rule, never a traceback."""

from __future__ import annotations

from typing import Any

from gql import Client
from gql.transport.httpx import HTTPXAsyncTransport

from api.graphql.limits import MAX_ALIASES, MAX_COMPLEXITY, MAX_PAGE
from tests.conftest import LiveServer, Player
from tests.integration.graphql.client import Answer, GraphQL, request

PAGE = "sessions(first: {n}) {{ edges {{ node {{ sessionId }} }} }}"


def assert_plain(answer: Answer) -> None:
    """Errors carry a message, where and a code: nothing of the server's insides."""
    for error in answer.errors:
        assert set(error) <= {"message", "locations", "path", "extensions"}, error
        assert set(error["extensions"]) <= {"code", "complexity", "limit"}, error
        assert "Traceback" not in error["message"] and ".py" not in error["message"]


async def test_an_operation_above_the_complexity_limit_is_refused_before_it_runs(alice_gql: GraphQL) -> None:
    heavy = "{ " + " ".join(f"p{i}: " + PAGE.format(n=MAX_PAGE) for i in range(5)) + " }"
    answer = await alice_gql.run(heavy)
    assert answer.codes == ["BAD_USER_INPUT"]
    assert f"above the limit of {MAX_COMPLEXITY}" in answer.errors[0]["message"]
    assert answer.errors[0]["extensions"]["complexity"] == 5 * (1 + MAX_PAGE * 2)
    assert answer.data is None
    assert_plain(answer)
    light = "{ " + " ".join(f"p{i}: " + PAGE.format(n=10) for i in range(5)) + " }"
    assert (await alice_gql.run(light)).errors == []


async def test_page_sizes_given_as_variables_count_at_their_value(alice_gql: GraphQL) -> None:
    query = "query($n: Int!) { " + " ".join(f"p{i}: " + PAGE.format(n="$n") for i in range(5)) + " }"
    assert (await alice_gql.run(query, {"n": MAX_PAGE})).codes == ["BAD_USER_INPUT"]
    assert (await alice_gql.run(query, {"n": 20})).errors == []


async def test_too_many_aliases_and_too_many_tokens_are_refused(alice_gql: GraphQL) -> None:
    aliases = await alice_gql.run("{ " + " ".join(f"m{i}: me {{ userId }}" for i in range(MAX_ALIASES + 1)) + " }")
    assert aliases.codes == ["BAD_USER_INPUT"] and "aliases" in aliases.errors[0]["message"]
    tokens = await alice_gql.run("{ me { " + "userId " * 2100 + "} }")
    assert tokens.codes == ["BAD_USER_INPUT"] and "token" in tokens.errors[0]["message"].lower()
    assert_plain(aliases)
    assert_plain(tokens)


async def test_the_deepest_query_the_schema_allows_passes_the_depth_limit(alice_gql: GraphQL) -> None:
    deepest = """{ stats(filter: {currency: "USD"}) { breakdown(by: "stakes") { summary { downswings { deepest } } } }
                   session(id: "none") { live { state { notes { text } } } } }"""
    assert (await alice_gql.run(deepest)).errors == []


async def test_an_off_the_shelf_client_reads_the_schema_by_introspection_and_checks_queries_locally(
    live_server: LiveServer, alice: Player
) -> None:
    transport = HTTPXAsyncTransport(url=f"{live_server.url}/graphql", headers=alice.headers)
    async with Client(transport=transport, fetch_schema_from_transport=True) as session:
        data: dict[str, Any] = await session.execute(request("{ me { userName } }"))
        assert data == {"me": {"userName": "alice"}}
        assert session.client.schema is not None and session.client.schema.get_type("SessionSummary") is not None


async def test_unknown_fields_and_wrong_argument_types_are_bad_user_input(alice_gql: GraphQL) -> None:
    unknown = await alice_gql.run("{ me { password } }")
    assert unknown.codes == ["BAD_USER_INPUT"] and "password" in unknown.errors[0]["message"]
    wrong = await alice_gql.run('{ sessions(first: "ten") { edges { cursor } } }')
    assert wrong.codes == ["BAD_USER_INPUT"]
    assert_plain(unknown)
    assert_plain(wrong)
