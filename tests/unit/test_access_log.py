"""The access log and the error log of the api's middlewares (docs/operations.md, "Logs"): an
unexpected error is logged with its traceback and the request id its client received, and the
text format shows the same fields as the JSON one."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from risiti.api.access_log import access_log_middleware
from risiti.api.errors import error_middleware
from risiti.config import Settings
from risiti.logs import chosen_format, log_context, log_handler


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """What risiti's loggers write at INFO and above, as JSON lines."""
    buffer = io.StringIO()
    handler = log_handler(Settings(log_format="json"), buffer)
    logger = logging.getLogger("risiti")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield buffer
    logger.removeHandler(handler)
    logger.setLevel(level)


async def _broken(_: web.Request) -> web.Response:
    raise RuntimeError("a bug in a handler")


@pytest.fixture
async def http() -> AsyncIterator[TestClient[Any, Any]]:
    """The api's outer middlewares around a handler with a bug."""
    app = web.Application(middlewares=[access_log_middleware, error_middleware])
    app.router.add_get("/v1/broken/{id}", _broken)
    client: TestClient[Any, Any] = TestClient(TestServer(app))
    await client.start_server()
    yield client
    await client.close()


def _lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.startswith("{")]


async def test_an_unexpected_error_is_logged_with_its_traceback_and_the_request_id(
    http: TestClient[Any, Any], captured: io.StringIO
) -> None:
    response = await http.get("/v1/broken/42")

    assert response.status == 500
    body = await response.json()
    request_id = response.headers["Request-Id"]
    assert body["error"]["request_id"] == request_id
    [error, access] = [line for line in _lines(captured) if line.get("request_id") == request_id]
    assert error["level"] == "ERROR"
    assert "RuntimeError: a bug in a handler" in error["exc_info"]
    assert "Traceback" in error["exc_info"]
    assert access["logger"] == "risiti.access"
    assert access["level"] == "ERROR"
    assert (access["route"], access["status"]) == ("/v1/broken/{id}", 500)


def test_the_text_format_puts_the_bound_fields_after_the_message() -> None:
    buffer = io.StringIO()
    logger = logging.getLogger("risiti.test_text_format")
    logger.addHandler(log_handler(Settings(log_format="text"), buffer))
    logger.setLevel(logging.INFO)
    logger.propagate = False

    with log_context(job_id="deliveries:1:0", delivery_id=lambda: "d-1"):
        logger.info("webhook attempt %d %s", 1, "delivered", extra={"status_code": 200})

    line = buffer.getvalue().strip()
    assert line.endswith(
        "INFO risiti.test_text_format webhook attempt 1 delivered"
        " status_code=200 job_id=deliveries:1:0 delivery_id=d-1"
    )


def test_the_format_is_text_on_a_terminal_and_json_elsewhere() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert chosen_format(Settings(), Terminal()) == "text"
    assert chosen_format(Settings(), io.StringIO()) == "json"
    assert chosen_format(Settings(log_format="json"), Terminal()) == "json"
    assert Settings(log_level="debug").log_level == "DEBUG"
