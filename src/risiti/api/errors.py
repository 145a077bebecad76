"""The error envelope of DESIGN.md §6, and the one middleware that maps every error to it."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import asyncpg
import pydantic
from aiohttp import web

from risiti.commands.errors import (
    CommandError,
    ConcurrentUpdateError,
    NotFoundError,
    NumberTakenError,
    SkuTakenError,
    StaleVersionError,
)
from risiti.domain.errors import (
    DomainError,
    InsufficientStockError,
    InvalidFieldError,
    InvalidStateError,
    PaymentExceedsBalanceError,
)
from risiti.eventstore.errors import VersionConflictError

log = logging.getLogger(__name__)

REQUEST_ID = web.RequestKey("request_id", str)
# What every 401 answers with (RFC 9110 §11.6.1): the scheme and realm a key is sent in.
BEARER_CHALLENGE = 'Bearer realm="risiti"'
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ApiError(Exception):
    """An error answered in the envelope; raised by handlers for what only HTTP knows. `headers`
    go with it (`WWW-Authenticate` on a 401, `Allow` on a 405)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: list[dict[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = dict(headers or {})


def validation_error(details: list[dict[str, Any]], message: str | None = None) -> ApiError:
    first = details[0]
    return ApiError(
        422, "validation_error", message or f"{first['field']}: {first['message']}", details
    )


def from_pydantic(error: pydantic.ValidationError) -> ApiError:
    details = [
        {"field": ".".join(str(part) for part in e["loc"]) or "body", "message": e["msg"]}
        for e in error.errors(include_url=False)
    ]
    return validation_error(details)


def from_domain(error: DomainError) -> ApiError:
    """The HTTP meaning of each rule the domain enforces."""
    if isinstance(error, PaymentExceedsBalanceError):
        return ApiError(
            409,
            "payment_exceeds_balance",
            str(error),
            [{"field": "amount", "amount_due": error.amount_due}],
        )
    if isinstance(error, InsufficientStockError):
        return ApiError(
            409, "insufficient_stock", str(error), [{"field": "delta", "stock": error.stock}]
        )
    if isinstance(error, InvalidStateError):
        return ApiError(
            409,
            "invalid_state",
            str(error),
            [{"current": error.current, "allowed": list(error.allowed)}],
        )
    if isinstance(error, InvalidFieldError):
        return validation_error(
            [{"field": error.field or "body", "message": str(error)}], str(error)
        )
    return ApiError(422, "validation_error", str(error))


def from_command(error: CommandError | VersionConflictError) -> ApiError:
    """The HTTP meaning of the service layer's refusals."""
    if isinstance(error, NotFoundError):
        return ApiError(404, "not_found", str(error))
    if isinstance(error, StaleVersionError):
        return ApiError(
            412,
            "version_conflict",
            str(error),
            [{"expected": error.expected, "current": error.current}],
        )
    if isinstance(error, ConcurrentUpdateError | VersionConflictError):
        return ApiError(412, "version_conflict", str(error))
    if isinstance(error, SkuTakenError):
        return ApiError(409, "duplicate_sku", str(error), [{"field": "sku", "sku": error.sku}])
    if isinstance(error, NumberTakenError):
        return validation_error([{"field": "invoice_number", "message": str(error)}], str(error))
    return ApiError(409, "invalid_state", str(error))


_FIXED: list[tuple[type[BaseException] | tuple[type[BaseException], ...], int, str, str]] = [
    (web.HTTPRequestEntityTooLarge, 413, "payload_too_large", "The request body is too large."),
    (web.HTTPMethodNotAllowed, 405, "method_not_allowed", "This method is not allowed here."),
    (web.HTTPNotFound, 404, "not_found", "No such resource."),
    (
        (OSError, asyncpg.PostgresConnectionError, asyncpg.CannotConnectNowError),
        503,
        "service_unavailable",
        "The service is unavailable; try again soon.",
    ),
]


def _translate(error: Exception) -> ApiError:
    """The envelope's meaning of any error: ours, pydantic's, aiohttp's, or unexpected."""
    if isinstance(error, ApiError):
        return error
    if isinstance(error, pydantic.ValidationError):
        return from_pydantic(error)
    if isinstance(error, DomainError):
        return from_domain(error)
    if isinstance(error, CommandError | VersionConflictError):
        return from_command(error)
    for kinds, status, code, message in _FIXED:
        if isinstance(error, kinds):
            # aiohttp's 405 knows the route's methods; its Allow header must survive the envelope.
            allow = error.headers.get("Allow") if isinstance(error, web.HTTPException) else None
            return ApiError(status, code, message, headers={"Allow": allow} if allow else None)
    if isinstance(error, web.HTTPException):
        return ApiError(error.status, "invalid_request", error.reason)
    log.exception("unexpected error", exc_info=error)
    return ApiError(500, "internal_error", "Something went wrong on our side.")


def error_response(error: ApiError, request_id: str) -> web.Response:
    body: dict[str, Any] = {"code": error.code, "message": error.message, "request_id": request_id}
    if error.details is not None:
        body["details"] = error.details
    headers = {"Request-Id": request_id}
    if error.status == 503:  # a database restart or failover mostly lasts seconds
        headers["Retry-After"] = "5"
    return web.json_response(
        {"success": False, "error": body}, status=error.status, headers=headers
    )


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error leaves in the envelope, with the request's id; never a traceback."""
    request_id = "req_" + secrets.token_hex(8)
    request[REQUEST_ID] = request_id
    try:
        response = await handler(request)
    except web.HTTPException as http_error:
        if http_error.status < 400:
            raise
        return _answer(_translate(http_error), request_id)
    except Exception as error:  # the one place every error is turned into the envelope
        return _answer(_translate(error), request_id)
    response.headers["Request-Id"] = request_id
    return response


def _answer(error: ApiError, request_id: str) -> web.Response:
    response = error_response(error, request_id)
    response.headers.update(error.headers)
    if error.status == 401:
        response.headers.setdefault("WWW-Authenticate", BEARER_CHALLENGE)
    return response
