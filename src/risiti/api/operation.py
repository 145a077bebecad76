"""What an endpoint is: one `Operation` says its route, its handler, what it takes and what it
answers. The table of them (`risiti.api.routes.OPERATIONS`) is both the app's router and the
source of the OpenAPI document, so a route cannot exist undocumented, nor a documented one
unrouted.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel

Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# A token is URL-safe base64 (never a dot), so `/i/{token}.pdf` cannot be read as a page.
PATH_PATTERNS = {"token": "[A-Za-z0-9_-]+"}


@dataclass(frozen=True)
class Raw:
    """A response that is not a JSON model: the hosted page, the document itself."""

    media_type: str
    schema: dict[str, Any]
    description: str


Answer = type[BaseModel] | Raw


@dataclass(frozen=True)
class Operation:
    """One endpoint. Besides `errors`, the statuses its shape implies are added when the
    document is built (`risiti.api.openapi`)."""

    method: Method
    path: str
    operation_id: str
    summary: str
    tag: str
    responses: dict[int, Answer]
    handler: Handler
    errors: tuple[int, ...] = ()
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    if_match: bool = False
    public: bool = False
    etag: bool = False
    """The success response carries the resource's version as `ETag`."""
    links: dict[str, str] = field(default_factory=dict)
    """Link name → operationId of an operation whose `id` is this response's `data.id`."""
    example: dict[str, Any] | None = None
    """A request body that works, shown in the document (and sent first by schemathesis)."""
    form: type[BaseModel] | None = None
    """The fields of an HTML form the operation takes (application/x-www-form-urlencoded)."""

    @property
    def path_names(self) -> list[str]:
        return re.findall(r"\{(\w+)\}", self.path)

    @property
    def route(self) -> web.RouteDef:
        """The aiohttp route: the documented path, each parameter with its pattern if it has
        one; a GET answers HEAD too, as aiohttp's own `routes.get` does."""
        path = self.path
        for name in self.path_names:
            if name in PATH_PATTERNS:
                path = path.replace(f"{{{name}}}", f"{{{name}:{PATH_PATTERNS[name]}}}")
        if self.method == "GET":
            return web.get(path, self.handler)
        return web.route(self.method, path, self.handler)


def route_table(operations: Iterable[Operation]) -> list[web.RouteDef]:
    return [operation.route for operation in operations]
