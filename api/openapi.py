"""Completes the OpenAPI document Litestar generates, in one place, for what it cannot see from the signatures.

- The bodies that handlers read raw (so that one bad event rejects only itself): ``POST /api/v1/events`` and
  ``/api/v1/import/events`` take an ``EventBatch`` of the event union, ``/api/v1/import/csv`` takes CSV text.
- The bearer security scheme, on every operation whose handler needs the caller (the ``principal`` dependency).
- The 4xx answers: 400 and 413 for bodies, 401 where a token is needed, 404 for ids in the path, 429 where limits
  apply; and the real content types of the exports.
"""

from __future__ import annotations

from typing import Any, Final

import msgspec
from litestar import Litestar
from litestar.openapi.spec import (
    Components,
    OpenAPI,
    OpenAPIMediaType,
    OpenAPIResponse,
    Operation,
    Reference,
    RequestBody,
    Schema,
    SecurityScheme,
)

from api.trust import CA_CERT_TYPE, DOWNLOAD, QR, SVG_TYPE
from shared.events import MAX_BATCH, Event

BEARER: Final = "bearer"


class EventBatch(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What ``POST /api/v1/events`` takes: 1 to 500 events (the document's view; the handler splits it itself)."""

    events: list[Event]


_RAW_BODIES: Final = {("/api/v1/events", "post"), ("/api/v1/import/events", "post")}
_CSV_BODY: Final = ("/api/v1/import/csv", "post")
_CONTENT_TYPES: Final = {
    "/api/v1/export/sessions.csv": "text/csv; charset=utf-8",
    "/api/v1/export/transactions.csv": "text/csv; charset=utf-8",
    "/api/v1/export/events.jsonl": "application/x-ndjson",
    "/api/v1/export/backup": "application/x-ndjson",
    "/api/v1/export/events.parquet": "application/vnd.apache.parquet",
    DOWNLOAD: CA_CERT_TYPE,
    QR: SVG_TYPE,
}
# Answers particular to one operation.
_EXTRA: Final[dict[tuple[str, str], dict[str, str]]] = {
    ("/api/v1/devices/pair", "post"): {"401": "the pairing code is unknown, used or expired"},
    ("/api/v1/events", "post"): {"429": "past the user's rate limit or quota; see Retry-After"},
    ("/api/v1/admin/overview", "get"): {"404": "the caller is not an admin (the answer of an unknown route)"},
    **{
        (path, "get"): {"404": "this server offers no local root certificate (BANKROLL_CA_CERT is unset)"}
        for path in ("/api/v1/trust", DOWNLOAD, QR)
    },
}
_ERROR: Final = Schema(
    type=None,
    properties={"status_code": Schema(), "detail": Schema()},
    required=["status_code", "detail"],
)


def _error(description: str) -> OpenAPIResponse:
    return OpenAPIResponse(description=description, content={"application/json": OpenAPIMediaType(schema=_ERROR)})


def _needs_caller(app: Litestar) -> set[tuple[str, str]]:
    """(path, method) of every operation whose handler takes the ``principal`` dependency."""
    found: set[tuple[str, str]] = set()
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if "principal" in handler.parsed_fn_signature.parameters:
                for method in getattr(handler, "http_methods", ()):
                    found.add((route.path_format or "/", method.lower()))
    return found


def _refuse_unknown_fields(app: Litestar, schemas: dict[str, Any]) -> None:
    """Request bodies decoded into Structs that forbid unknown fields say so (``additionalProperties: false``)."""
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            data = handler.parsed_fn_signature.parameters.get("data")
            if data is None:
                continue
            try:
                _, defs = msgspec.json.schema_components([data.annotation])
            except (TypeError, ValueError):
                continue  # not a msgspec type
            for name, definition in defs.items():
                component = schemas.get(name)
                if definition.get("additionalProperties") is False and isinstance(component, Schema):
                    component.additional_properties = False


def complete_openapi(app: Litestar) -> OpenAPI:
    """Fill in the generated document (Litestar caches it, so this runs once, when the app is built)."""
    doc = app.openapi_schema
    components = doc.components if isinstance(doc.components, Components) else Components()
    doc.components = components
    components.security_schemes = {
        **(components.security_schemes or {}),
        BEARER: SecurityScheme(type="http", scheme="bearer", description="a device token: `pbt_…`"),
    }
    (batch,), defs = msgspec.json.schema_components([EventBatch], ref_template="#/components/schemas/{name}")
    defs["EventBatch"]["properties"]["events"].update(minItems=1, maxItems=MAX_BATCH)
    schemas: dict[str, Any] = dict(components.schemas or {})
    for name, schema in defs.items():
        schemas.setdefault(name, schema)  # raw JSON Schema: serialised as it is
    components.schemas = schemas
    _refuse_unknown_fields(app, schemas)
    authed = _needs_caller(app)
    for path, item in (doc.paths or {}).items():
        for method in ("get", "post", "delete", "put", "patch"):
            operation = getattr(item, method, None)
            if operation is not None:
                _complete_operation(operation, path, method, authed=(path, method) in authed, batch_ref=batch["$ref"])
    return doc


def _complete_operation(operation: Operation, path: str, method: str, *, authed: bool, batch_ref: str) -> None:
    responses = operation.responses if operation.responses is not None else {}
    operation.responses = responses
    if authed:
        operation.security = [{BEARER: []}]
        responses.setdefault("401", _error("no valid bearer token"))
    if "{" in path:
        responses.setdefault("404", _error("no such resource for this caller (another user's answers alike)"))
    if method in ("post", "delete"):
        responses.setdefault("400", _error("the body breaks the schema; the detail names field and rule"))
        responses.setdefault("413", _error("the body is larger than MAX_BODY_BYTES"))
    if (path, method) in _RAW_BODIES:
        batch = OpenAPIMediaType(schema=Reference(ref=batch_ref))
        operation.request_body = RequestBody(required=True, content={"application/json": batch})
    for status, description in _EXTRA.get((path, method), {}).items():
        responses.setdefault(status, _error(description))
    if (path, method) == _CSV_BODY:
        csv = OpenAPIMediaType(schema=Schema(type=None, description="CSV text"))
        operation.request_body = RequestBody(required=True, content={"text/csv": csv})
    content_type = _CONTENT_TYPES.get(path)
    ok = responses.get("200")
    if content_type is not None and method == "get" and isinstance(ok, OpenAPIResponse):
        ok.content = {content_type: OpenAPIMediaType(schema=Schema(description="the file"))}
