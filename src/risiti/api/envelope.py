"""Reading request bodies and writing the success envelope (DESIGN.md §6)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel

from risiti.api.errors import ApiError
from risiti.api.keys import SETTINGS
from risiti.commands.documents import invoice_record, present
from risiti.domain.invoice import Invoice

M = TypeVar("M", bound=BaseModel)


async def parse_body(request: web.Request, model: type[M]) -> M:
    """The body as `model`; `invalid_json` if it is not JSON, `validation_error` if it is wrong."""
    raw = await request.read()
    try:
        data = json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "invalid_json", "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "The request body must be a JSON object.")
    return model.model_validate(data)


def parse_query(request: web.Request, model: type[M]) -> M:
    return model.model_validate(dict(request.query))


def ok(data: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"success": True, "data": data}, status=status, headers=headers)


def page(data: list[Any], *, has_more: bool, next_cursor: str | None) -> web.Response:
    return web.json_response(
        {"success": True, "data": data, "has_more": has_more, "next_cursor": next_cursor}
    )


def presented(request: web.Request, record: dict[str, Any]) -> dict[str, Any]:
    return present(record, base_url=request.app[SETTINGS].base_url, today=datetime.now(UTC).date())


def invoice_response(request: web.Request, invoice: Invoice, *, status: int = 200) -> web.Response:
    """An invoice in the envelope, with its version as the ETag."""
    return ok(
        presented(request, invoice_record(invoice)),
        status=status,
        headers={"ETag": f'"{invoice.version}"'},
    )
