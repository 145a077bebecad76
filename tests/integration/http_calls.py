"""Helpers the API-level integration tests share: any method with any headers, and the count of
events an account has appended (so that every refused request can be shown to change nothing)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg

from .conftest import Api


@dataclass(frozen=True)
class Answer:
    """One HTTP answer: status, decoded JSON body, and headers."""

    status: int
    body: dict[str, Any]
    headers: Mapping[str, str]
    """Case-insensitive, as HTTP header names are."""

    @property
    def data(self) -> Any:
        """An object, or a list's page."""
        return self.body["data"]

    @property
    def error(self) -> dict[str, Any]:
        return self.body["error"]  # type: ignore[no-any-return]


async def call(api: Api, method: str, path: str, body: Any = None, **headers: str) -> Answer:
    """`method path` with the api's key, a JSON body (if any) and extra headers; header names
    are given with underscores (`If_Match`, `Idempotency_Key`)."""
    sent = {"Authorization": f"Bearer {api.key}"} | {
        name.replace("_", "-"): value for name, value in headers.items()
    }
    response = await api.http.request(method, path, json=body, headers=sent)
    return Answer(response.status, await response.json(), response.headers)


async def event_count(pool: asyncpg.Pool, account_id: UUID) -> int:
    """How many events the account has in the log."""
    count: int = await pool.fetchval(
        "SELECT count(*) FROM events WHERE account_id = $1", account_id
    )
    return count


def assert_invalid_state(answer: Answer, current: str, allowed: tuple[str, ...]) -> None:
    """A 409 that names the current status and what it allows instead."""
    assert answer.status == 409, answer.body
    assert answer.error["code"] == "invalid_state"
    assert answer.error["details"] == [{"current": current, "allowed": list(allowed)}]


SEED_EXAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "seeds" / "examples"
"""The seed documents' request bodies exactly as published (../shared/seeds/examples)."""


def seed_example(name: str) -> bytes:
    """A seed example's bytes, as its document prints them: sent as they are, never edited."""
    return (SEED_EXAMPLES / name).read_bytes()


async def send_bytes(api: Api, method: str, path: str, body: bytes, **headers: str) -> Answer:
    """`method path` with the api's key and `body` sent byte for byte as JSON."""
    sent = {"Authorization": f"Bearer {api.key}", "Content-Type": "application/json"} | {
        name.replace("_", "-"): value for name, value in headers.items()
    }
    response = await api.http.request(method, path, data=body, headers=sent)
    return Answer(response.status, await response.json(), response.headers)
