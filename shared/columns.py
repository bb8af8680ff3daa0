"""Warehouse integer columns and their ranges: the intake bounds and the ClickHouse column types come from here.

A number the API accepts must fit the column it lands in, or the insert fails and the fan-out stops. So every
bounded field says its ClickHouse type in its own ``msgspec.Meta`` (``bounded("UInt32", ge=1)``), the bound is
checked against that type's range when the module loads, and the DDL reads the type back (``clickhouse_type``).
Totals that the reducer adds up (invested, profit, played seconds) are bounded by the caps in ``shared.events``;
``tests/unit/test_columns.py`` checks their worst case against these ranges.
"""

from __future__ import annotations

from typing import Annotated, Any, Final, get_args, get_origin, get_type_hints

import msgspec

INTEGER_RANGES: Final[dict[str, tuple[int, int]]] = {
    "UInt8": (0, 2**8 - 1),
    "UInt16": (0, 2**16 - 1),
    "UInt32": (0, 2**32 - 1),
    "Int16": (-(2**15), 2**15 - 1),
    "Int32": (-(2**31), 2**31 - 1),
    "Int64": (-(2**63), 2**63 - 1),
}


def bounded(
    column: str, *, ge: int | None = None, le: int | None = None, description: str | None = None
) -> msgspec.Meta:
    """The ``msgspec.Meta`` of an integer stored in a ClickHouse ``column`` type, within ``[ge, le]``.

    Raises:
        ValueError: the bounds reach outside the column's range (caught when the schema module is imported).
    """
    low, high = INTEGER_RANGES[column]
    ge = low if ge is None else ge
    le = high if le is None else le
    if not low <= ge <= le <= high:
        raise ValueError(f"bounds [{ge}, {le}] do not fit ClickHouse {column} [{low}, {high}]")
    return msgspec.Meta(ge=ge, le=le, description=description, extra={"clickhouse": column})


def _meta(annotation: Any) -> msgspec.Meta | None:
    if get_origin(annotation) is Annotated:
        return next((m for m in get_args(annotation)[1:] if isinstance(m, msgspec.Meta)), None)
    for arg in get_args(annotation):  # `X | None`
        found = _meta(arg)
        if found is not None:
            return found
    return None


def clickhouse_type(struct: type[msgspec.Struct], field: str) -> str:
    """The ClickHouse type a bounded field of ``struct`` is stored as (``Nullable(...)`` when it may be None)."""
    annotation = get_type_hints(struct, include_extras=True)[field]
    meta = _meta(annotation)
    extra = (meta.extra if meta is not None else None) or {}
    if "clickhouse" not in extra:
        raise KeyError(f"{struct.__name__}.{field} names no ClickHouse column type")
    column = str(extra["clickhouse"])
    nullable = type(None) in get_args(annotation)
    return f"Nullable({column})" if nullable else column


def bounds(struct: type[msgspec.Struct], field: str) -> tuple[int, int]:
    """The ``(ge, le)`` a bounded field accepts."""
    meta = _meta(get_type_hints(struct, include_extras=True)[field])
    if meta is None or not isinstance(meta.ge, int) or not isinstance(meta.le, int):
        raise KeyError(f"{struct.__name__}.{field} is not bounded")
    return meta.ge, meta.le
