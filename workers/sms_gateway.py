"""Text messages through an HTTP SMS gateway.

The request is the generic shape many African SMS gateways accept, or that a few lines of
glue turn into theirs: `POST <RISITI_SMS_HTTP_URL>` with `Authorization: Bearer
<RISITI_SMS_HTTP_TOKEN>` and the JSON body `{"to": "+2348012345678", "message": "…",
"from": "<RISITI_SMS_SENDER_ID>"}` (`from` only when set). Any 2xx means the gateway took it;
429 and 5xx are retried, any other answer fails the send.
"""

from __future__ import annotations

from typing import Any

import aiohttp

from risiti.workers.channels import SendError


class HttpTextMessageSender:
    """Posts each text message to the gateway; one connection pool per worker process."""

    def __init__(self, url: str, token: str, *, sender_id: str | None, timeout: float) -> None:
        self._url = url
        self._token = token
        self._sender_id = sender_id
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def send(self, to: str, body: str) -> None:
        payload: dict[str, Any] = {"to": to, "message": body}
        if self._sender_id:
            payload["from"] = self._sender_id
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        try:
            async with self._session.post(
                self._url, json=payload, headers={"Authorization": f"Bearer {self._token}"}
            ) as response:
                if 200 <= response.status < 300:
                    return
                excerpt = (await response.text(errors="replace"))[:200]
        except (aiohttp.ClientError, TimeoutError) as error:
            raise SendError(f"SMS gateway: {error!r}"[:500], permanent=False) from None
        passing = response.status == 429 or response.status >= 500
        raise SendError(f"SMS gateway answered {response.status}: {excerpt}", permanent=not passing)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
