"""The HTTP clients that deliver webhooks, one per mode, each refusing to connect to an address
webhooks may not go to (SSRF). The check happens on the very addresses the connection uses, so
a name that resolved to a public address at registration and to a private one now is refused."""

from __future__ import annotations

import socket
from ipaddress import ip_address
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import ResolveResult
from aiohttp.resolver import ThreadedResolver

from risiti.config import Settings
from risiti.domain.webhook_addresses import Address, literal_address, refused_address


class RefusedReceiverError(OSError):
    """Raised when a receiver's host is, or resolves to, an address webhooks may not go to."""


class GuardedResolver(ThreadedResolver):
    """Resolves names as usual, then refuses any that leads to a forbidden address."""

    def __init__(self, *, livemode: bool, allow_loopback_in_test: bool) -> None:
        super().__init__()
        self._livemode = livemode
        self._allow_loopback_in_test = allow_loopback_in_test

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        resolved = await super().resolve(host, port, family)
        for entry in resolved:
            refuse(ip_address(entry["host"]), host, self._livemode, self._allow_loopback_in_test)
        return resolved


def refuse(address: Address, host: str, livemode: bool, allow_loopback_in_test: bool) -> None:
    reason = refused_address(
        address, livemode=livemode, allow_loopback_in_test=allow_loopback_in_test
    )
    if reason:
        raise RefusedReceiverError(f"{host} is {address}, {reason}: not a webhook receiver")


class Receivers:
    """One client session per mode; a context manager."""

    def __init__(self, settings: Settings) -> None:
        self._allow_loopback = settings.webhook_allow_loopback_in_test_mode
        self._sessions = {
            livemode: aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    resolver=GuardedResolver(
                        livemode=livemode, allow_loopback_in_test=self._allow_loopback
                    )
                )
            )
            for livemode in (False, True)
        }

    def session_for(self, url: str, livemode: bool) -> aiohttp.ClientSession:
        """The session for a mode; raises RefusedReceiverError for a forbidden literal address,
        which aiohttp connects to without asking the resolver."""
        host = urlsplit(url).hostname or ""
        literal = literal_address(host)
        if literal is not None:
            refuse(literal, host, livemode, self._allow_loopback)
        return self._sessions[livemode]

    async def close(self) -> None:
        for session in self._sessions.values():
            await session.close()
