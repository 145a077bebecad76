"""The seed dialects (DESIGN.md §11, docs/migrating.md): every seed API Risiti answers for,
each at its own base path under `/compat/`, with its own OpenAPI document there."""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

from aiohttp import web

from risiti.api import openapi
from risiti.api.dialect import Dialect
from risiti.api.dialects import duplo, invoice_ng, kredo, paycashless
from risiti.api.keys import SETTINGS
from risiti.api.operation import Operation, Raw

DIALECTS: tuple[Dialect, ...] = (
    kredo.DIALECT,
    duplo.DIALECT,
    paycashless.DIALECT,
    invoice_ng.DIALECT,
)
_BY_NAME = {dialect.name: dialect for dialect in DIALECTS}


def dialect_operations() -> tuple[Operation, ...]:
    """Every dialect's operations, its OpenAPI document's among them: what the router adds to
    the native API's."""
    return tuple(operation for dialect in DIALECTS for operation in _documented(dialect))


def dialect_document(name: str, base_url: str | None = None) -> dict[str, Any]:
    """The OpenAPI document of the dialect `name` (a copy to change at will)."""
    return copy.deepcopy(_document(name, base_url))


def _documented(dialect: Dialect) -> tuple[Operation, ...]:
    return (
        *dialect.operations,
        Operation(
            "GET",
            dialect.openapi_path,
            f"{dialect.name.replace('-', '_')}OpenApi",
            "This document",
            dialect.title,
            {200: Raw("application/json", {"type": "object"}, "The OpenAPI 3.1 document.")},
            handler=_serve_document,
            public=True,
        ),
    )


async def _serve_document(request: web.Request) -> web.Response:
    name = request.path.removeprefix("/compat/").split("/", 1)[0]
    body = _document_bytes(name, request.app[SETTINGS].base_url)
    return web.Response(body=body, content_type="application/json")


@cache
def _document(name: str, base_url: str | None) -> dict[str, Any]:
    dialect = _BY_NAME[name]
    edition = openapi.Edition(
        title=f"Risiti: {dialect.title}'s API",
        description=dialect.description,
        tags=[{"name": dialect.title, "description": f"{dialect.title}'s documented endpoints."}],
        error_model=dialect.error_model,
        base_path=dialect.base_path,
        webhooks=False,
    )
    return openapi.document(_documented(dialect), base_url, edition)


@cache
def _document_bytes(name: str, base_url: str | None) -> bytes:
    return json.dumps(_document(name, base_url)).encode()
