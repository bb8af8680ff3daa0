"""GraphQL object types made from the msgspec Structs the REST API already answers with.

The figures (``Summary``, ``LiveView``, ``BankrollGuidance`` …) are defined once, as Structs in ``shared`` and the
services; ``object_type`` reads a Struct's fields with ``msgspec.inspect`` and builds the matching Strawberry type,
so a field added to a Struct appears in GraphQL (and in ``docs/schema.graphql``) without a second declaration.

Mapping: ``int`` → ``Long`` (money in minor units outgrows GraphQL's 32-bit ``Int``), ``float`` → ``Float``,
``str``/``Literal``/``UUID`` → ``String``, ``datetime`` → ``DateTime``, ``date`` → ``Date``, lists and tuples → lists,
``X | None`` → nullable, a nested Struct → its own type. Dicts have no GraphQL form; the resolvers that return one
turn it into a list of entries.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any, NewType

import msgspec
import msgspec.inspect as mi
import strawberry
from strawberry.scalars import JSON

from shared.errors import InvalidInput

Long = NewType("Long", int)

LONG_SCALAR = strawberry.scalar(
    name="Long",
    description="A signed 64-bit integer as a JSON number; money is an amount of minor units (cents) of a currency.",
    serialize=int,
    parse_value=lambda value: _parse_long(value),
)

MAX_LONG = 2**63 - 1


def _parse_long(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not -MAX_LONG - 1 <= value <= MAX_LONG:
        raise InvalidInput(f"{value!r} is not a Long: a whole number that fits in 64 bits")
    return value


def _graphql_type(info: mi.Type) -> Any:
    """The Python annotation Strawberry reads for one msgspec type."""
    if isinstance(info, mi.UnionType):
        others = [t for t in info.types if not isinstance(t, mi.NoneType)]
        if len(others) != 1:
            raise TypeError(f"a union of {info.types} has no GraphQL field type; give it one member and None")
        inner = _graphql_type(others[0])
        return inner | None if len(others) < len(info.types) else inner
    if isinstance(info, mi.StructType):
        return object_type(info.cls)
    if isinstance(info, mi.ListType | mi.VarTupleType):
        return list[_graphql_type(info.item_type)]  # type: ignore[misc]
    if isinstance(info, mi.TupleType):
        items = {type(t) for t in info.item_types}
        if len(items) != 1:
            raise TypeError(f"a tuple of {info.item_types} has no GraphQL list type; use one item type")
        return list[_graphql_type(info.item_types[0])]  # type: ignore[misc]
    scalar = _SCALARS.get(type(info))
    if scalar is None:
        raise TypeError(f"{info} has no GraphQL type here; map it in api/graphql/types.py")
    return scalar


_SCALARS: dict[type[mi.Type], Any] = {
    mi.IntType: Long,
    mi.FloatType: float,
    mi.StrType: str,
    mi.BoolType: bool,
    mi.LiteralType: str,
    mi.UUIDType: str,
    mi.DateTimeType: dt.datetime,
    mi.DateType: dt.date,
    mi.AnyType: JSON,
}


@cache
def object_type(cls: type[msgspec.Struct]) -> type[Any]:
    """The Strawberry output type of a Struct (built once per Struct; same name, same fields, same order)."""
    info = mi.type_info(cls)
    assert isinstance(info, mi.StructType)
    annotations = {field.name: _graphql_type(field.type) for field in info.fields}
    doc = (cls.__doc__ or "").strip().splitlines()
    namespace: dict[str, Any] = {"__annotations__": annotations, "__module__": __name__}
    made = type(cls.__name__, (), namespace)
    made_type: type[Any] = strawberry.type(made, name=cls.__name__, description=doc[0] if doc else None)
    return made_type


__all__ = ["JSON", "LONG_SCALAR", "Long", "object_type"]
