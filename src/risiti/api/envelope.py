"""Reading request bodies and writing the success envelope (DESIGN.md §6)."""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

from aiohttp import web
from pydantic import BaseModel

from risiti.api.errors import ApiError, validation_error
from risiti.api.keys import SETTINGS
from risiti.api.models import ListQuery
from risiti.commands.documents import invoice_record, present
from risiti.domain.invoice import Invoice
from risiti.eventstore.paging import Place, decode_cursor

M = TypeVar("M", bound=BaseModel)


async def parse_body(request: web.Request, model: type[M]) -> M:
    """The body as `model`; `invalid_json` if it is not JSON, `validation_error` if it is wrong."""
    raw = await request.read()
    try:
        data = json.loads(raw or b"{}", parse_float=_finite_float, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(
            400,
            "invalid_json",
            "The request body is not valid JSON (numbers must be finite: no NaN or Infinity).",
        ) from None
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "The request body must be a JSON object.")
    _check_text(data, "")
    return model.model_validate(data)


def parse_query(request: web.Request, model: type[M]) -> M:
    query = dict(request.query)
    _check_text(query, "")
    return model.model_validate(query)


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
    return web.json_response({"success": True, "data": data}, status=status, headers=headers)


def page(data: list[Any], *, has_more: bool, next_cursor: str | None) -> web.Response:
    return web.json_response(
        {"success": True, "data": data, "has_more": has_more, "next_cursor": next_cursor}
    )


def page_of_json(documents: list[str], *, has_more: bool, next_cursor: str | None) -> web.Response:
    """A list envelope around documents that are JSON text already."""
    body = (
        f'{{"success": true, "data": [{", ".join(documents)}], '
        f'"has_more": {json.dumps(has_more)}, "next_cursor": {json.dumps(next_cursor)}}}'
    )
    return web.Response(text=body, content_type="application/json")


def presented(request: web.Request, record: dict[str, Any]) -> dict[str, Any]:
    return present(record, base_url=request.app[SETTINGS].base_url, today=datetime.now(UTC).date())


def invoice_response(request: web.Request, invoice: Invoice, *, status: int = 200) -> web.Response:
    """An invoice in the envelope, with its version as the ETag."""
    return ok(
        presented(request, invoice_record(invoice)),
        status=status,
        headers={"ETag": f'"{invoice.version}"'},
    )


_ETAG = re.compile(r'^(?:W/)?"?(\d+)"?$')


def if_match(request: web.Request) -> int | None:
    """The version an If-Match header names (`"3"`, `W/"3"`, `3`); None without one or for `*`."""
    header = request.headers.get("If-Match", "").strip()
    if header in ("", "*"):
        return None
    matched = _ETAG.match(header)
    if matched is None:
        raise ApiError(
            422,
            "validation_error",
            'If-Match must be an ETag this API sent, such as "3".',
            [{"field": "If-Match", "message": "not an ETag of a version"}],
        )
    return int(matched.group(1))


def decoded_cursor(cursor: str) -> Place:
    try:
        return decode_cursor(cursor)
    except ValueError:
        raise validation_error([{"field": "cursor", "message": "not a cursor we issued"}]) from None


def list_place(query: ListQuery) -> Place | UUID | None:
    """Where a list page starts: after a cursor's place, or after the row `starting_after`."""
    if query.cursor:
        return decoded_cursor(query.cursor)
    return query.starting_after
