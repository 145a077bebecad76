"""The benches' HTTP client: one keep-alive HTTP/1.1 connection per simulated client, sending
prepared request bytes and reading each answer by its Content-Length.

Why not aiohttp's client: on the 2-core machine the load shares the cores with the service and
PostgreSQL, and aiohttp's client spent about 0.25 ms of CPU per request (a response object,
parsed headers, a stream reader), which went into the service's latencies. pgbench, the
reference, is a small C client; this is the closest a Python client comes to it (a few bytes
searched and sliced per answer). It speaks only what the benches need: requests written whole,
answers with a Content-Length (every risiti JSON response has one while gzip is off).
"""

from __future__ import annotations

import asyncio
from typing import cast
from urllib.parse import urlsplit


class ConnectionClosed(ConnectionError):
    """The server closed the connection (or it broke) before the answer was whole."""


class KeepAliveConnection(asyncio.Protocol):
    """One connection: `request` writes a request and waits for its answer; one at a time."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._answer: asyncio.Future[tuple[int, bytes]] | None = None
        self._transport: asyncio.Transport | None = None
        self.closed = False

    @classmethod
    async def open(cls, base_url: str) -> KeepAliveConnection:
        parts = urlsplit(base_url)
        loop = asyncio.get_running_loop()
        _, connection = await loop.create_connection(cls, parts.hostname, parts.port or 80)
        return connection

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        """The status and body of the answer to `raw` (a whole HTTP/1.1 request)."""
        if self.closed or self._transport is None:
            raise ConnectionClosed("the connection is closed")
        self._answer = asyncio.get_running_loop().create_future()
        self._transport.write(raw)
        return await self._answer

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not subclasses of asyncio.Transport, but have its methods.
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        answer = self._answer
        if answer is None or answer.done():
            return
        try:
            whole = _whole_answer(self._buffer)
        except ValueError as error:
            answer.set_exception(error)
            return
        if whole is not None:
            status, body, length = whole
            del self._buffer[:length]
            answer.set_result((status, body))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._answer is not None and not self._answer.done():
            self._answer.set_exception(ConnectionClosed(str(exc or "closed by the server")))


def _whole_answer(buffer: bytearray) -> tuple[int, bytes, int] | None:
    """(status, body, bytes used) once the buffer holds a whole answer; None until then."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = bytes(buffer[:end]).lower()
    status = int(head[9:12])
    marker = head.find(b"\r\ncontent-length:")
    if marker < 0:
        raise ValueError(f"an answer without a Content-Length: {head[:200]!r}")
    line_end = head.find(b"\r\n", marker + 2)
    length = int(head[marker + 17 : line_end if line_end >= 0 else None])
    used = end + 4 + length
    if len(buffer) < used:
        return None
    return status, bytes(buffer[end + 4 : used]), used


def request_bytes(
    method: str,
    base_url: str,
    target: str,
    headers: dict[str, str],
    body: bytes = b"",
) -> bytes:
    """A whole HTTP/1.1 request, written once and sent as often as the load wants."""
    lines = [f"{method} {target} HTTP/1.1", f"Host: {urlsplit(base_url).netloc}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body
