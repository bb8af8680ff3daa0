"""GraphQL errors with a machine-readable ``extensions.code``, and the one translation from the exception tree.

Codes (``extensions.code``):

    UNAUTHENTICATED   no token, or an unknown or revoked one
    FORBIDDEN         the caller may not touch this resource (``NotAllowed``)
    BAD_USER_INPUT    the query, a filter, an argument or an event breaks a rule (the message names it),
                      including the depth, complexity and page-size limits and GraphQL validation
    NOT_FOUND         no such session or device of the caller's (another user's answers exactly the same)
    RATE_LIMITED      one subscription too many for the user (MAX_STREAMS_PER_USER); close another first
    UNAVAILABLE       a dependency is down for now; try again (``RetryableError``)
    INTERNAL          anything else: logged with its traceback, answered with no detail

A stack trace never reaches the client: the message of an unexpected error is replaced.
"""

from __future__ import annotations

import logging
from typing import Final

from graphql import GraphQLError
from litestar.exceptions import ClientException, NotAuthorizedException, NotFoundException, TooManyRequestsException
from strawberry.extensions import MaskErrors

from shared.errors import NotAllowed, PermanentError, RetryableError

log = logging.getLogger(__name__)

UNAUTHENTICATED: Final = "UNAUTHENTICATED"
FORBIDDEN: Final = "FORBIDDEN"
BAD_USER_INPUT: Final = "BAD_USER_INPUT"
NOT_FOUND: Final = "NOT_FOUND"
RATE_LIMITED: Final = "RATE_LIMITED"
UNAVAILABLE: Final = "UNAVAILABLE"
INTERNAL: Final = "INTERNAL"


class Unauthenticated(Exception):
    """No valid token came with the operation."""


def code_of(error: Exception | None) -> str:
    """The code for an exception raised in a resolver (``None``: a parse or validation error of the query)."""
    match error:
        case None:
            return BAD_USER_INPUT
        case Unauthenticated() | NotAuthorizedException():
            return UNAUTHENTICATED
        case NotAllowed():
            return FORBIDDEN
        case NotFoundException():
            return NOT_FOUND
        case TooManyRequestsException():
            return RATE_LIMITED
        case PermanentError() | ClientException():
            return BAD_USER_INPUT
        case RetryableError():
            return UNAVAILABLE
        case GraphQLError() if error.extensions and "code" in error.extensions:
            return str(error.extensions["code"])
        case _:
            return INTERNAL


def _message(error: GraphQLError, code: str) -> str:
    if code == INTERNAL:
        return "internal error; the server log has the details"
    original = error.original_error
    if isinstance(original, NotAuthorizedException | NotFoundException | ClientException):
        return str(original.detail)
    return error.message


def with_code(error: GraphQLError) -> GraphQLError:
    """The error as the client sees it: a readable message and ``extensions.code``; never a traceback."""
    original = error.original_error
    if isinstance(original, GraphQLError) and original.original_error is not None:
        original = original.original_error
    code = code_of(original)
    if code == INTERNAL:
        log.error("GraphQL resolver failed at %s", error.path, exc_info=original)
    return GraphQLError(
        _message(error, code),
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions={**(error.extensions or {}), "code": code},
    )


class ErrorCodes(MaskErrors):
    """Rewrites every error of a result with ``with_code``: queries, mutations and each subscription frame alike.

    Built on Strawberry's ``MaskErrors``, which already visits every result an operation produces.
    """

    def __init__(self) -> None:
        super().__init__(should_mask_error=lambda _: True)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        return with_code(error)


__all__ = [
    "BAD_USER_INPUT",
    "FORBIDDEN",
    "INTERNAL",
    "NOT_FOUND",
    "RATE_LIMITED",
    "UNAUTHENTICATED",
    "UNAVAILABLE",
    "ErrorCodes",
    "Unauthenticated",
    "code_of",
    "with_code",
]
