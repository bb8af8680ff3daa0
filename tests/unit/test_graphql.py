"""The GraphQL layer's own rules, without I/O: the checked-in schema, complexity, the depth limit, error codes."""

from __future__ import annotations

from pathlib import Path

import pytest
import strawberry
from graphql import parse
from litestar.exceptions import TooManyRequestsException

from api.graphql import schema_sdl
from api.graphql.errors import ErrorCodes
from api.graphql.export import main as export
from api.graphql.limits import MAX_DEPTH, complexity, limit_extensions
from shared.errors import InvalidInput, NotAllowed, RetryableError

DOCS = Path(__file__).resolve().parents[2] / "docs" / "schema.graphql"


def test_the_checked_in_schema_is_the_generated_one() -> None:
    assert DOCS.read_text() == schema_sdl(), "run `python -m api.graphql.export` and commit docs/schema.graphql"


def test_the_export_command_checks_and_writes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "schema.graphql"
    assert export(["--check", "--out", str(out)]) == 1
    assert "is not the current schema" in capsys.readouterr().out
    assert export(["--out", str(out)]) == 0
    assert export(["--check", "--out", str(out)]) == 0
    assert out.read_text() == schema_sdl()


def test_objects_cost_one_leaves_nothing_and_pages_multiply() -> None:
    assert complexity(parse("{ me { userId } }"), {}) == 1
    assert complexity(parse("{ sessions(first: 10) { edges { node { sessionId } } } }"), {}) == 1 + 10 * 2
    query = "query($n: Int) { sessions(first: $n) { edges { cursor } } }"
    assert complexity(parse(query), {"n": 3}) == 1 + 3 * 1
    assert complexity(parse(query), {}) == 1 + 100 * 1  # an unknown size counts as the largest page
    fragment = "{ a: me { ...F } b: me { ...F } } fragment F on Me { userId }"
    assert complexity(parse(fragment), {}) == 2
    assert complexity(parse("{ __schema { types { fields { name } } } }"), {}) == 0


@strawberry.type
class Node:
    name: str = "n"

    @strawberry.field
    def child(self) -> Node:
        return Node()


@strawberry.type
class Toy:
    @strawberry.field
    def node(self) -> Node:
        return Node()

    @strawberry.field
    def forbidden(self) -> str:
        raise NotAllowed("this resource is not yours")

    @strawberry.field
    def invalid(self) -> str:
        raise InvalidInput("`x` 3 must be even")

    @strawberry.field
    def down(self) -> str:
        raise RetryableError("ClickHouse is down")

    @strawberry.field
    def crowded(self) -> str:
        raise TooManyRequestsException(detail="too many open streams: at most 8 per user")

    @strawberry.field
    def broken(self) -> str:
        raise KeyError("secret internal detail")


TOY = strawberry.Schema(Toy, extensions=[*limit_extensions(), ErrorCodes])


async def test_a_query_deeper_than_the_limit_is_refused_with_bad_user_input() -> None:
    def nested(depth: int) -> str:
        return "{ node " + "{ child " * depth + "{ name }" + " }" * depth + " }"

    assert (await TOY.execute(nested(MAX_DEPTH - 1))).errors is None
    refused = await TOY.execute(nested(MAX_DEPTH + 1))
    assert refused.errors is not None and refused.data is None
    assert "exceeds maximum operation depth" in refused.errors[0].message
    assert refused.errors[0].extensions == {"code": "BAD_USER_INPUT"}


@pytest.mark.parametrize(
    ("field", "code", "message"),
    [
        ("forbidden", "FORBIDDEN", "this resource is not yours"),
        ("invalid", "BAD_USER_INPUT", "`x` 3 must be even"),
        ("down", "UNAVAILABLE", "ClickHouse is down"),
        ("crowded", "RATE_LIMITED", "too many open streams: at most 8 per user"),
        ("broken", "INTERNAL", "internal error; the server log has the details"),
    ],
)
async def test_each_exception_becomes_its_code_and_an_unexpected_one_says_nothing(
    field: str, code: str, message: str
) -> None:
    result = await TOY.execute(f"{{ {field} }}")
    assert result.errors is not None
    [error] = result.errors
    assert (error.message, error.extensions) == (message, {"code": code})
    assert error.original_error is None  # nothing left to format a traceback from
    assert "secret" not in str(error.formatted)
