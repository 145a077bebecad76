"""The error envelope of DESIGN.md §6, and the one middleware that maps every error to it."""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from enum import StrEnum
from typing import Any

import asyncpg
import pydantic
from aiohttp import web

from risiti.api.json_responses import json_response
from risiti.commands.errors import (
    CommandError,
    ConcurrentUpdateError,
    ExternalIdTakenError,
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


class EdgeCode(StrEnum):
    """The codes of what only HTTP knows (DESIGN.md §6), each defined here once; the codes of the
    domain's and the service layer's refusals are their error classes' `code`."""

    INVALID_JSON = "invalid_json"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    AUTHENTICATION_REQUIRED = "authentication_required"
    INVALID_API_KEY = "invalid_api_key"
    SIGNATURE_REQUIRED = "signature_required"
    SIGNATURE_REPLAYED = "signature_replayed"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    RATE_LIMITED = "rate_limited"
    SERVICE_UNAVAILABLE = "service_unavailable"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    IDEMPOTENCY_KEY_IN_USE = "idempotency_key_in_use"
    INVALID_REQUEST = "invalid_request"
    INTERNAL_ERROR = "internal_error"


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
        self.code = str(code)  # the plain word, as sent
        self.message = message
        self.details = details
        self.headers = dict(headers or {})


def validation_error(details: list[dict[str, Any]], message: str | None = None) -> ApiError:
    first = details[0]
    return ApiError(
        422, InvalidFieldError.code, message or f"{first['field']}: {first['message']}", details
    )


# What a field the request does not have is told, as Stripe answers "Received unknown
# parameter": pydantic's own words ("Extra inputs are not permitted") do not say which is wrong.
UNKNOWN_FIELD = "is not a field of this request"


def from_pydantic(error: pydantic.ValidationError) -> ApiError:
    details = [
        {
            "field": ".".join(str(part) for part in e["loc"]) or "body",
            "message": UNKNOWN_FIELD if e["type"] == "extra_forbidden" else e["msg"],
        }
        for e in error.errors(include_url=False)
    ]
    return validation_error(details)


# The HTTP status of each error family, first match wins; the code is the error's own. A field
# error is always answered as a validation error naming its field (DESIGN.md §6), whatever finer
# code it has (`partial_payment_not_allowed` is Paystack's word for one).
_STATUSES: tuple[tuple[type[Exception], int], ...] = (
    (PaymentExceedsBalanceError, 409),
    (InsufficientStockError, 409),
    (InvalidStateError, 409),
    (DomainError, 422),
    (NotFoundError, 404),
    (ConcurrentUpdateError, 412),
    (StaleVersionError, 412),
    (VersionConflictError, 412),
    (SkuTakenError, 409),
    (CommandError, 409),
)


def _status(error: Exception) -> int:
    return next(status for kind, status in _STATUSES if isinstance(error, kind))


def _details(error: DomainError | CommandError) -> list[dict[str, Any]] | None:
    """What each error adds for a client to act on."""
    if isinstance(error, PaymentExceedsBalanceError):
        return [{"field": "amount", "amount_due": error.amount_due}]
    if isinstance(error, InsufficientStockError):
        return [{"field": "delta", "stock": error.stock}]
    if isinstance(error, InvalidStateError):
        return [{"current": error.current, "allowed": list(error.allowed)}]
    if isinstance(error, StaleVersionError):
        return [{"expected": error.expected, "current": error.current}]
    if isinstance(error, SkuTakenError):
        return [{"field": "sku", "sku": error.sku}]
    if isinstance(error, ExternalIdTakenError):
        taken = {"external_id": error.external_id, "id": str(error.holder_id)}
        return [{"field": "external_id", **taken}]
    return None


def from_domain(error: DomainError) -> ApiError:
    """The HTTP meaning of each rule the domain enforces."""
    if isinstance(error, InvalidFieldError):
        return validation_error(
            [{"field": error.field or "body", "message": str(error)}], str(error)
        )
    return ApiError(_status(error), error.code, str(error), _details(error))


def from_command(error: CommandError | VersionConflictError) -> ApiError:
    """The HTTP meaning of the service layer's refusals (the store's version conflict is a
    concurrent update to the client)."""
    if isinstance(error, VersionConflictError):
        return ApiError(_status(error), ConcurrentUpdateError.code, str(error))
    if isinstance(error, NumberTakenError):
        return validation_error([{"field": "invoice_number", "message": str(error)}], str(error))
    return ApiError(_status(error), error.code, str(error), _details(error))


_FIXED: list[tuple[type[BaseException] | tuple[type[BaseException], ...], int, str, str]] = [
    (
        web.HTTPRequestEntityTooLarge,
        413,
        EdgeCode.PAYLOAD_TOO_LARGE,
        "The request body is too large.",
    ),
    (
        web.HTTPMethodNotAllowed,
        405,
        EdgeCode.METHOD_NOT_ALLOWED,
        "This method is not allowed here.",
    ),
    (web.HTTPNotFound, 404, NotFoundError.code, "No such resource."),
    (
        (OSError, asyncpg.PostgresConnectionError, asyncpg.CannotConnectNowError),
        503,
        EdgeCode.SERVICE_UNAVAILABLE,
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
        return ApiError(error.status, EdgeCode.INVALID_REQUEST, error.reason)
    log.exception("unexpected error", exc_info=error)
    return ApiError(500, EdgeCode.INTERNAL_ERROR, "Something went wrong on our side.")


ErrorBody = Callable[[ApiError, str], dict[str, Any]]
"""An error's JSON body in some envelope, given the request's id."""


def native_error_body(error: ApiError, request_id: str) -> dict[str, Any]:
    """DESIGN.md §6: `{success: false, error: {code, message, details?, request_id}}`."""
    body: dict[str, Any] = {"code": error.code, "message": error.message, "request_id": request_id}
    if error.details is not None:
        body["details"] = error.details
    return {"success": False, "error": body}


ERROR_BODIES = web.AppKey("error_bodies", tuple[tuple[str, ErrorBody], ...])
"""The envelope errors are answered in under a path prefix (a seed dialect's base path); any
other path answers in `native_error_body`'s."""


def error_response(
    error: ApiError, request_id: str, body_of: ErrorBody = native_error_body
) -> web.Response:
    headers = {"Request-Id": request_id}
    if error.status == 503:  # a database restart or failover mostly lasts seconds
        headers["Retry-After"] = "5"
    return json_response(body_of(error, request_id), status=error.status, headers=headers)


def new_request_id() -> str:
    """`req_` and 16 hex digits. An id names a request in the logs, it grants nothing: the
    process' own generator (seeded from the OS at start) makes it, not `secrets`, whose
    getrandom() system call per request showed in the api's profile."""
    return f"req_{random.getrandbits(64):016x}"


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error leaves in the envelope, with the request's id; never a traceback."""
    request_id = new_request_id()
    request[REQUEST_ID] = request_id
    try:
        response = await handler(request)
    except web.HTTPException as http_error:
        if http_error.status < 400:
            raise
        return _answer(request, _translate(http_error), request_id)
    except Exception as error:  # the one place every error is turned into the envelope
        return _answer(request, _translate(error), request_id)
    response.headers["Request-Id"] = request_id
    return response


def _error_body_for(request: web.Request) -> ErrorBody:
    for prefix, body_of in request.app.get(ERROR_BODIES, ()):
        if request.path.startswith(prefix):
            return body_of
    return native_error_body


def _answer(request: web.Request, error: ApiError, request_id: str) -> web.Response:
    response = error_response(error, request_id, _error_body_for(request))
    response.headers.update(error.headers)
    if error.status == 401:
        response.headers.setdefault("WWW-Authenticate", BEARER_CHALLENGE)
    return response
