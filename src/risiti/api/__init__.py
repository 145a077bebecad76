"""The HTTP API (aiohttp): routes, pydantic models at the edge, auth, errors, hosted page."""
