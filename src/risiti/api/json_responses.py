"""JSON responses, encoded by orjson: every answer's body goes through here, as list pages'
records (stored as orjson wrote them) already do, so that all of them read the same way:
UTF-8, no spaces. orjson encodes an invoice several times faster than the standard library."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import orjson
from aiohttp import web


def json_response(
    body: Any, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    """`aiohttp.web.json_response`, with orjson's encoding (integer keys written as strings,
    as the standard library writes them)."""
    return web.Response(
        body=_encoded(body),
        status=status,
        headers=headers,
        content_type="application/json",
        charset="utf-8",
    )


def _encoded(body: Any) -> bytes:
    """orjson's text, or the standard library's for what orjson refuses: an integer past 64
    bits, which JSON allows and a customer's metadata may hold."""
    try:
        return orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:
        return json.dumps(body).encode()
