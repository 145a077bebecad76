"""What every response carries on its way out: gzip for a large JSON body the client can take
(where `RISITI_COMPRESS_RESPONSES` turns it on),
and a `Server` header that names the service but none of the versions under it (aiohttp's own
default, `Python/3.x aiohttp/3.x`, tells a scanner which advisories to try)."""

from __future__ import annotations

from aiohttp import web
from isal import igzip

from risiti.api.errors import Handler
from risiti.api.keys import SETTINGS

SERVER_NAME = "risiti"
# Below this, gzip's header and the CPU time cost more than the bytes it saves.
COMPRESS_ABOVE_BYTES = 1024
# ISA-L's level 0 (python-isal; still gzip, which any client reads): aiohttp's own compression
# (zlib level 6, through a thread) made a 50-invoice page take half as long again under load
# (bench/read.py), zlib's level 1 a quarter as long again; ISA-L's level 0 compresses that page
# (56 kB) in a quarter of zlib level 1's time, to a tenth of its size.
GZIP_LEVEL = 0


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding header takes gzip (RFC 9110 §12.5.3): named, or covered by
    `*`, with a weight above zero. aiohttp's own choice would take deflate first and read
    `gzip;q=0` as a yes."""
    weights: dict[str, float] = {}
    for part in accept_encoding.lower().split(","):
        coding, _, parameters = part.partition(";")
        weights[coding.strip()] = _weight(parameters)
    weight = weights.get("gzip", weights.get("x-gzip", weights.get("*", 0.0)))
    return weight > 0


def _weight(parameters: str) -> float:
    name, _, value = parameters.strip().partition("=")
    if name.strip() != "q":
        return 1.0
    try:
        return float(value)
    except ValueError:
        return 0.0


@web.middleware
async def compress_large_json(request: web.Request, handler: Handler) -> web.StreamResponse:
    """gzip a JSON body over COMPRESS_ABOVE_BYTES when the client accepts it (a 100-invoice
    page, the OpenAPI document), at a level cheap enough for the hot path."""
    response = await handler(request)
    if not request.app[SETTINGS].compress_responses:
        return response
    if not isinstance(response, web.Response) or not _large_json(response):
        return response
    # Caches must keep the compressed and the plain form apart.
    response.headers.add("Vary", "Accept-Encoding")
    if accepts_gzip(request.headers.get("Accept-Encoding", "")):
        body = response.body
        assert isinstance(body, bytes)  # _large_json checked it
        response.body = igzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)
        response.headers["Content-Encoding"] = "gzip"
    return response


def _large_json(response: web.Response) -> bool:
    body = response.body
    return (
        response.content_type == "application/json"
        and isinstance(body, bytes)
        and len(body) > COMPRESS_ABOVE_BYTES
    )


async def name_the_server(_: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: every response the app sends, errors included."""
    response.headers["Server"] = SERVER_NAME
