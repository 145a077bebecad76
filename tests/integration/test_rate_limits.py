"""Rate limits per API key (DESIGN.md §6, docs/api.md "Rate limits"): a bucket of
`RISITI_RATE_LIMIT_PER_SECOND` requests per key, in the test run's real Redis, shared by every
api process; 429 `rate_limited` with `Retry-After` once it is empty; served unlimited when
Redis cannot answer. Each test starts api processes of its own (`serving`) with its limit, and
keys of fresh accounts, so that no bucket is shared with another test."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from risiti.api.rate_limits import REDIS_TIMEOUT_SECONDS
from risiti.commands.accounts import OpenedAccount, open_account
from risiti.commands.ledger import Ledger
from risiti.config import Settings

from .conftest import Api, serving
from .http_calls import Answer, call

pytestmark = pytest.mark.asyncio

RATE_LIMIT_HEADERS = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset")


def limited_to(settings: Settings, per_second: int, **changes: Any) -> Settings:
    return settings.model_copy(update={"rate_limit_per_second": per_second, **changes})


async def burst(api: Api, requests: int) -> list[Answer]:
    """`requests` requests of the key, one right after the other."""
    return [await call(api, "GET", "/v1/account") for _ in range(requests)]


async def test_a_burst_past_the_limit_is_refused_until_retry_after_has_passed(
    settings: Settings, account: OpenedAccount
) -> None:
    async with serving(limited_to(settings, 5)) as http:
        api = Api(http, account.test_key)
        loop = asyncio.get_running_loop()
        started = loop.time()
        answers = await burst(api, 40)
        took = loop.time() - started

        assert [a.status for a in answers[:5]] == [200] * 5  # a burst of one second's worth
        assert answers[0].headers["RateLimit-Remaining"] == "4"
        refused = [a for a in answers if a.status == 429]
        # The bucket refills at 5 a second while the 40 are sent: at most 5 more are served
        # for each second they took.
        assert 40 - len(refused) <= 5 + 5 * took + 1, ([a.status for a in answers], took)
        assert refused
        for answer in refused:
            assert answer.body["success"] is False
            assert answer.error["code"] == "rate_limited"
            assert answer.error["request_id"] == answer.headers["Request-Id"]
            assert int(answer.headers["Retry-After"]) >= 1
            assert answer.headers["RateLimit-Limit"] == "5"
            assert answer.headers["RateLimit-Remaining"] == "0"
            assert answer.error["details"] == [
                {"limit": 5, "retry_after": int(answer.headers["Retry-After"])}
            ]
        assert all(set(RATE_LIMIT_HEADERS) <= set(a.headers) for a in answers)

        await asyncio.sleep(int(refused[-1].headers["Retry-After"]))
        again = await call(api, "GET", "/v1/account")
        assert again.status == 200, again.body
        assert "Retry-After" not in again.headers


async def test_errors_of_a_counted_request_carry_the_rate_limit_headers_too(
    settings: Settings, account: OpenedAccount
) -> None:
    async with serving(limited_to(settings, 5)) as http:
        answer = await call(Api(http, account.test_key), "GET", "/v1/invoices/inv_nonexistent")
    assert answer.status == 404
    assert answer.headers["RateLimit-Limit"] == "5"
    assert answer.headers["RateLimit-Remaining"] == "4"
    assert int(answer.headers["RateLimit-Reset"]) >= 1


async def test_a_limit_of_zero_limits_nothing(settings: Settings, account: OpenedAccount) -> None:
    async with serving(limited_to(settings, 0)) as http:
        answers = await burst(Api(http, account.test_key), 40)
    assert [a.status for a in answers] == [200] * 40
    assert not any(name in a.headers for a in answers for name in RATE_LIMIT_HEADERS)


async def test_the_default_is_100_a_second_per_key(
    settings: Settings, account: OpenedAccount
) -> None:
    default = Settings.model_fields["rate_limit_per_second"].default
    assert default == 100
    async with serving(limited_to(settings, default)) as http:
        answers = await burst(Api(http, account.test_key), 3)
    assert [a.status for a in answers] == [200] * 3
    assert [a.headers["RateLimit-Limit"] for a in answers] == ["100"] * 3
    # One token comes back every 10 ms, so a slow machine may see it refilled in between.
    assert answers[0].headers["RateLimit-Remaining"] == "99"
    assert all(97 <= int(a.headers["RateLimit-Remaining"]) <= 99 for a in answers)


async def test_each_key_has_a_bucket_of_its_own(
    settings: Settings, ledger: Ledger, account: OpenedAccount
) -> None:
    other = await open_account(ledger, "Another Business")
    # One a second: a key's second request within the second is refused.
    async with serving(limited_to(settings, 1)) as http:
        exhausted = await burst(Api(http, account.test_key), 2)
        assert [a.status for a in exhausted] == [200, 429]
        # The same account's live key, and another account's key, still have their whole bucket.
        for key in (account.live_key, other.test_key):
            answer = await call(Api(http, key), "GET", "/v1/account")
            assert answer.status == 200, answer.body


async def test_two_api_processes_draw_on_one_bucket(
    settings: Settings, account: OpenedAccount
) -> None:
    async with (
        serving(limited_to(settings, 1)) as first,
        serving(limited_to(settings, 1)) as second,
    ):
        on_first = await call(Api(first, account.test_key), "GET", "/v1/account")
        on_second = await call(Api(second, account.test_key), "GET", "/v1/account")
    assert on_first.status == 200, on_first.body
    assert on_second.status == 429, on_second.body
    assert on_second.headers["RateLimit-Remaining"] == "0"


async def test_public_paths_are_not_limited(settings: Settings) -> None:
    async with serving(limited_to(settings, 1)) as http:
        for path in ("/healthz", "/readyz", "/v1/openapi.json"):
            for _ in range(5):
                response = await http.get(path)
                assert response.status == 200, path
                assert "RateLimit-Limit" not in response.headers


async def test_requests_are_served_when_redis_is_unreachable(
    settings: Settings, account: OpenedAccount, caplog: pytest.LogCaptureFixture
) -> None:
    # The discard port: nothing listens there, so every connection is refused.
    unreachable = limited_to(settings, 5, redis_url="redis://127.0.0.1:9/0")
    with caplog.at_level(logging.WARNING, logger="risiti.api.rate_limits"):
        async with serving(unreachable) as http:
            answers = await burst(Api(http, account.test_key), 40)
    assert [a.status for a in answers] == [200] * 40
    assert not any("RateLimit-Limit" in a.headers for a in answers)
    assert len(_warnings(caplog)) == 1  # said once, not once a request


@pytest.fixture
async def silent_redis() -> AsyncIterator[str]:
    """A Redis URL whose server accepts connections and never answers: a stalled Redis."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"redis://127.0.0.1:{port}/0"
    for writer in held:
        writer.close()
    server.close()
    await server.wait_closed()


async def test_requests_are_served_when_redis_is_too_slow(
    settings: Settings,
    account: OpenedAccount,
    silent_redis: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    loop = asyncio.get_running_loop()
    with caplog.at_level(logging.WARNING, logger="risiti.api.rate_limits"):
        async with serving(limited_to(settings, 5, redis_url=silent_redis)) as http:
            started = loop.time()
            answers = await burst(Api(http, account.test_key), 20)
            took = loop.time() - started
    assert [a.status for a in answers] == [200] * 20
    # One request waited for the timeout; the others skipped Redis while it was stalled.
    assert took < 20 * REDIS_TIMEOUT_SECONDS, took
    assert len(_warnings(caplog)) == 1


async def test_an_unavailable_service_says_when_to_retry(
    settings: Settings, account: OpenedAccount
) -> None:
    # The discard port again: the database cannot be reached, and the pool opens no connection
    # until a request needs one.
    no_database = settings.model_copy(
        update={"database_url": "postgresql://postgres@127.0.0.1:9/risiti", "pool_min_size": 0}
    )
    async with serving(no_database) as http:
        response = await http.get("/readyz")
        readiness = Answer(response.status, await response.json(), response.headers)
        keyed = await call(Api(http, account.test_key), "GET", "/v1/account")
    assert readiness.status == 503
    assert readiness.error["code"] == "service_unavailable"
    assert int(readiness.headers["Retry-After"]) >= 1
    assert keyed.status == 503
    assert keyed.error["code"] == "service_unavailable"
    assert int(keyed.headers["Retry-After"]) >= 1


def _warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        record
        for record in caplog.records
        if record.name == "risiti.api.rate_limits" and record.levelno == logging.WARNING
    ]
