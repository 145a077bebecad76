"""Reading request bodies and writing the success envelope (DESIGN.md §6).

A body is checked once, before anything else parses it (the idempotency fingerprint, a
handler's model): JSON only, nested at most `MAX_NESTING` deep. Past that, Python's parser
would raise RecursionError and orjson (which encodes what the log keeps) refuses to encode.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from typing import Any, TypeVar
from uuid import UUID

from aiohttp import web
from aiohttp.typedefs import Middleware
from pydantic import BaseModel

from risiti.api.errors import UNKNOWN_FIELD, ApiError, EdgeCode, Handler, validation_error
from risiti.api.json_responses import json_response
from risiti.api.keys import SETTINGS
from risiti.api.models import ListQuery
from risiti.api.operation import Operation
from risiti.domain import calendar
from risiti.domain.invoice import Invoice
from risiti.eventstore.paging import MAX_POSITION, Place, decode_cursor
from risiti.presentation.documents import invoice_record, present
from risiti.presentation.json_text import json_text

M = TypeVar("M", bound=BaseModel)

JSON_MEDIA_TYPE = "application/json"
MAX_NESTING = 64
"""Objects and arrays inside one another in a body; orjson's own limit is 255."""
# The hosted page's own HTML forms post form data; every other body is JSON.
_FORM_PATHS = "/i/"
_JSON_BODY = web.RequestKey("json_body", object)


@web.middleware
async def json_body_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse a body that is not JSON (415) or not valid, finite, shallow enough JSON (400)
    before any middleware or handler reads it; keep what it parsed for `parse_body`."""
    if request.body_exists and not request.path.startswith(_FORM_PATHS):
        await _json_body(request)
    return await handler(request)


async def _json_body(request: web.Request) -> Any:
    """The body's JSON, parsed once per request; an empty body is `{}`."""
    if _JSON_BODY not in request:
        raw = await request.read()
        if raw:
            _check_media_type(request)
        request[_JSON_BODY] = _parsed_json(raw) if raw else {}
    return request[_JSON_BODY]


def _check_media_type(request: web.Request) -> None:
    if request.content_type != JSON_MEDIA_TYPE:
        sent = request.headers.get("Content-Type") or "none"
        raise ApiError(
            415,
            EdgeCode.UNSUPPORTED_MEDIA_TYPE,
            f"Send the body as JSON, with Content-Type: {JSON_MEDIA_TYPE} (this one: {sent}).",
            [{"field": "Content-Type", "message": f"must be {JSON_MEDIA_TYPE}"}],
        )


def _parsed_json(raw: bytes) -> Any:
    try:
        data = json.loads(raw, parse_float=_finite_float, parse_constant=_no_constant)
    except RecursionError:
        raise _too_deep() from None
    except (ValueError, UnicodeDecodeError):
        raise ApiError(
            400,
            EdgeCode.INVALID_JSON,
            "The request body is not valid JSON (numbers must be finite: no NaN or Infinity).",
        ) from None
    if _nested_too_deep(data):
        raise _too_deep()
    return data


def _nested_too_deep(data: Any) -> bool:
    # A loop, not recursion: the point is to refuse what recursion could not walk.
    containers: list[tuple[Any, int]] = [(data, 1)]
    while containers:
        value, depth = containers.pop()
        if isinstance(value, dict):
            value = list(value.values())
        if not isinstance(value, list):
            continue
        if depth > MAX_NESTING:
            return True
        containers.extend((child, depth + 1) for child in value)
    return False


def _too_deep() -> ApiError:
    return ApiError(
        400,
        EdgeCode.INVALID_JSON,
        f"The request body nests objects and arrays more than {MAX_NESTING} deep.",
    )


async def parse_body(request: web.Request, model: type[M]) -> M:
    """The body as `model`; `invalid_json` if it is not JSON, `validation_error` if it is wrong."""
    data = await _json_body(request)
    if not isinstance(data, dict):
        raise ApiError(400, EdgeCode.INVALID_JSON, "The request body must be a JSON object.")
    _check_text(data, "")
    return model.model_validate(data)


def parse_query(request: web.Request, model: type[M]) -> M:
    """The query string as `model`; a parameter it does not have, or one sent twice (only one
    could be read), is a `validation_error` naming it."""
    query = dict(request.query)
    repeated = sorted({name for name in request.query if len(request.query.getall(name)) > 1})
    if repeated:
        raise validation_error(
            [{"field": name, "message": "is sent more than once"} for name in repeated]
        )
    _check_text(query, "")
    return model.model_validate(query)


def no_query_middleware(operations: Iterable[Operation]) -> Middleware:
    """Refuse a query string on a GET of the API that takes none, naming each parameter, as
    `parse_query` does on one that takes some: nothing sent is silently ignored. Public pages
    are left alone: Paystack sends the customer back to the hosted page with its own query."""
    takes_none = {
        (operation.method, operation.path)
        for operation in operations
        if operation.method == "GET" and operation.query is None and not operation.public
    }

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        resource = request.match_info.route.resource
        method = "GET" if request.method == "HEAD" else request.method
        if request.query and resource is not None and (method, resource.canonical) in takes_none:
            raise validation_error(
                [{"field": name, "message": UNKNOWN_FIELD} for name in dict(request.query)],
                "This endpoint takes no query parameters.",
            )
        return await handler(request)

    return middleware


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError("not a finite number")
    return number


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _check_text(value: Any, path: str) -> None:
    """Refuse text PostgreSQL cannot store (NUL characters, lone surrogates) before it reaches
    the log, where every reader would stumble on it forever."""
    if isinstance(value, dict):
        for key, item in value.items():
            _check_text(key, path or "body")
            _check_text(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_text(item, f"{path}.{index}")
    elif isinstance(value, str) and not _storable(value):
        raise validation_error(
            [{"field": path or "body", "message": "contains a NUL character or a lone surrogate"}]
        )


def _storable(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def ok(data: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return json_response({"success": True, "data": data}, status=status, headers=headers)


def page(data: list[Any], *, has_more: bool, next_cursor: str | None) -> web.Response:
    return json_response(
        {"success": True, "data": data, "has_more": has_more, "next_cursor": next_cursor}
    )


def page_of_json(data: str, *, has_more: bool, next_cursor: str | None) -> web.Response:
    """A list envelope around its data, a JSON array's text already."""
    body = (
        f'{{"success": true, "data": {data}, '
        f'"has_more": {_json_text(has_more)}, "next_cursor": {_json_text(next_cursor)}}}'
    )
    return web.Response(text=body, content_type="application/json")


def _json_text(value: bool | str | None) -> str:
    return json_text(value)


def presented(request: web.Request, record: dict[str, Any]) -> dict[str, Any]:
    return present(record, base_url=request.app[SETTINGS].base_url, today=calendar.today())


def invoice_response(request: web.Request, invoice: Invoice, *, status: int = 200) -> web.Response:
    """An invoice in the envelope, with its version as the ETag; a 201 (the invoice, or a payment
    on it) says where the invoice is read."""
    headers = {"ETag": f'"{invoice.version}"'}
    if status == 201:
        headers["Location"] = f"/v1/invoices/{invoice.id}"
    return ok(presented(request, invoice_record(invoice)), status=status, headers=headers)


# Digits bounded so that int() never reads a megabyte of them; past MAX_POSITION names no version.
_ETAG = re.compile(r'^(?:W/)?"?(\d{1,30})"?$')


def if_match(request: web.Request) -> int | None:
    """The version an If-Match header names (`"3"`, `W/"3"`, `3`); None without one or for `*`."""
    header = request.headers.get("If-Match", "").strip()
    if header in ("", "*"):
        return None
    matched = _ETAG.match(header)
    if matched is None or int(matched.group(1)) > MAX_POSITION:
        raise validation_error(
            [{"field": "If-Match", "message": "not an ETag of a version"}],
            'If-Match must be an ETag this API sent, such as "3".',
        )
    return int(matched.group(1))


def decoded_cursor(cursor: str) -> Place:
    try:
        return decode_cursor(cursor)
    except ValueError:
        raise validation_error([{"field": "cursor", "message": "not a cursor we issued"}]) from None


def list_place(query: ListQuery) -> Place | UUID | None:
    """Where a list page starts: after a cursor's place, after the row `starting_after`, or
    (`query.backward`) just before the row `ending_before`."""
    if query.ending_before is not None:
        if query.cursor or query.starting_after:
            raise validation_error(
                [
                    {
                        "field": "ending_before",
                        "message": "pages backward: send it alone, without"
                        " cursor or starting_after",
                    }
                ]
            )
        return query.ending_before
    if query.cursor:
        return decoded_cursor(query.cursor)
    return query.starting_after
