"""JSON responses: every answer's body goes through here, written as list pages' stored
records are (presentation/json_text.py), so that all of them read the same way: UTF-8, no
spaces."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from risiti.presentation.json_text import json_bytes


def json_response(
    body: Any, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    """`aiohttp.web.json_response`, with Risiti's JSON text."""
    return web.Response(
        body=json_bytes(body),
        status=status,
        headers=headers,
        content_type="application/json",
        charset="utf-8",
    )
