"""What one GraphQL operation may ask for: depth, aliases, tokens, complexity, page size.

Depth, aliases and tokens are Strawberry's own limiters. Complexity is counted here, before validation, from the
parsed operation and its variables: every field that has a selection (an object) costs 1, leaves cost nothing,
and a field with a ``first`` or ``limit`` argument multiplies the cost of what it selects by that page size.
Introspection fields (``__schema``, ``__type``) are free of all of these, so tools can read the schema.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Final

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    value_from_ast_untyped,
)
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter, SchemaExtension

from shared.errors import InvalidInput

MAX_DEPTH: Final = 6
MAX_ALIASES: Final = 15
MAX_TOKENS: Final = 2000
MAX_COMPLEXITY: Final = 1000
MAX_PAGE: Final = 100  # the largest `first` / `limit` a list field accepts
PAGE_ARGUMENTS: Final = ("first", "limit")


def _introspection(name: str) -> bool:
    return name.startswith("__")


class _Cost:
    def __init__(self, fragments: dict[str, FragmentDefinitionNode], variables: dict[str, Any]) -> None:
        self.fragments = fragments
        self.variables = variables

    def page(self, field: FieldNode) -> int:
        for argument in field.arguments or ():
            if argument.name.value in PAGE_ARGUMENTS:
                node = argument.value
                value = (
                    self.variables.get(node.name.value)
                    if isinstance(node, VariableNode)
                    else value_from_ast_untyped(node)
                )
                # A missing or malformed size is the resolver's to refuse; here it counts as the largest page.
                return value if isinstance(value, int) and 0 <= value <= MAX_PAGE else MAX_PAGE
        return 1

    def of(self, selections: SelectionSetNode | None, seen: frozenset[str] = frozenset()) -> int:
        total = 0
        for node in selections.selections if selections is not None else ():
            if isinstance(node, FieldNode):
                if node.selection_set is not None and not _introspection(node.name.value):
                    total += 1 + self.page(node) * self.of(node.selection_set, seen)
            elif isinstance(node, InlineFragmentNode):
                total += self.of(node.selection_set, seen)
            elif isinstance(node, FragmentSpreadNode) and node.name.value not in seen:
                fragment = self.fragments.get(node.name.value)
                if fragment is not None:
                    total += self.of(fragment.selection_set, seen | {node.name.value})
        return total


def complexity(document: Any, variables: dict[str, Any] | None, operation_name: str | None = None) -> int:
    """The cost of the operation to run in ``document`` (the named one, or the only one)."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [o for o in operations if operation_name is None or (o.name and o.name.value == operation_name)]
    cost = _Cost(fragments, variables or {})
    return max((cost.of(o.selection_set) for o in chosen), default=0)


class ComplexityLimit(SchemaExtension):
    """Refuses an operation whose complexity is above ``MAX_COMPLEXITY`` before it is validated or run."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.pre_execution_errors is None:
            cost = complexity(document, context.variables, context.operation_name)
            if cost > MAX_COMPLEXITY:
                context.pre_execution_errors = [
                    GraphQLError(
                        f"the operation's complexity is {cost}, above the limit of {MAX_COMPLEXITY}: ask for smaller "
                        "pages (`first`/`limit`) or fewer nested objects",
                        extensions={"code": "BAD_USER_INPUT", "complexity": cost, "limit": MAX_COMPLEXITY},
                    )
                ]
        yield


def limit_extensions() -> list[Callable[[], SchemaExtension]]:
    """The limiters, in the order they run (factories: Strawberry makes fresh ones per operation)."""
    return [
        lambda: MaxTokensLimiter(MAX_TOKENS),
        lambda: QueryDepthLimiter(max_depth=MAX_DEPTH, should_ignore=_ignore_introspection),
        lambda: MaxAliasesLimiter(MAX_ALIASES),
        ComplexityLimit,
    ]


def _ignore_introspection(ignore: Any) -> bool:
    return _introspection(str(ignore.field_name))


def check_page(name: str, value: int) -> int:
    """A page size from 1 to ``MAX_PAGE``; raises InvalidInput naming the argument, the value and the rule."""
    if not 1 <= value <= MAX_PAGE:
        raise InvalidInput(f"`{name}` {value} must be from 1 to {MAX_PAGE} (the maximum page size)")
    return value
