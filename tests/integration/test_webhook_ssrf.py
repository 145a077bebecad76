"""The SSRF guard: webhook endpoints may not point at private, loopback (in live mode),
link-local or metadata addresses, neither at registration nor at delivery."""

from __future__ import annotations

from uuid import uuid4

import asyncpg
import pytest

from risiti.commands.accounts import OpenedAccount
from risiti.commands.webhook_endpoints import new_webhook_secret
from risiti.config import Settings
from risiti.workers.jobs import ClaimedDelivery, send_attempt
from risiti.workers.receivers import Receivers

from .conftest import Api, Receiver
from .http_calls import call, event_count

SECRET = new_webhook_secret()


def _live(api: Api, account: OpenedAccount) -> Api:
    return Api(api.http, account.live_key)


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hooks",
        "https://[::1]/hooks",
        "https://localhost/hooks",
        "https://10.0.0.5/hooks",
        "https://192.168.1.10/hooks",
        "https://169.254.169.254/latest/meta-data",
    ],
)
async def test_a_live_endpoint_at_a_private_address_is_refused_and_nothing_is_recorded(
    api: Api, account: OpenedAccount, pool: asyncpg.Pool, url: str
) -> None:
    before = await event_count(pool, account.account_id)
    answer = await call(
        _live(api, account), "POST", "/v1/webhook-endpoints", {"url": url, "events": ["*"]}
    )
    assert answer.status == 422, answer.body
    assert answer.error["details"][0]["field"] == "url"
    assert "public addresses only" in answer.error["message"]
    assert await event_count(pool, account.account_id) == before


@pytest.mark.parametrize(
    "url", ["http://10.0.0.5/hooks", "http://169.254.169.254/latest", "http://[fe80::1]/h"]
)
async def test_a_test_endpoint_may_not_point_at_private_or_metadata_addresses(
    api: Api, url: str
) -> None:
    answer = await call(api, "POST", "/v1/webhook-endpoints", {"url": url, "events": ["*"]})
    assert answer.status == 422, answer.body
    assert answer.error["details"][0]["field"] == "url"


async def test_a_test_endpoint_may_point_at_this_machine(api: Api, receiver: Receiver) -> None:
    answer = await call(
        api, "POST", "/v1/webhook-endpoints", {"url": receiver.url, "events": ["*"]}
    )
    assert answer.status == 201, answer.body


def _delivery(url: str, *, livemode: bool) -> ClaimedDelivery:
    payload = '{"id": "evt_1", "event": "invoice.paid", "data": {}}'
    return ClaimedDelivery(uuid4(), uuid4(), url, livemode, payload, 1, [SECRET])


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_a_live_delivery_to_this_machine_is_refused_before_connecting(
    settings: Settings, receiver: Receiver, host: str
) -> None:
    receivers = Receivers(settings)
    url = receiver.url.replace("127.0.0.1", host)
    try:
        result = await send_attempt(receivers, _delivery(url, livemode=True), 5)
    finally:
        await receivers.close()

    assert result.status_code is None
    assert result.error is not None and "not a webhook receiver" in result.error
    assert receiver.received == []


async def test_a_test_delivery_to_this_machine_is_refused_when_the_setting_forbids_it(
    settings: Settings, receiver: Receiver
) -> None:
    strict = settings.model_copy(update={"webhook_allow_loopback_in_test_mode": False})
    receivers = Receivers(strict)
    url = receiver.url.replace("127.0.0.1", "localhost")
    try:
        result = await send_attempt(receivers, _delivery(url, livemode=False), 5)
    finally:
        await receivers.close()

    assert result.status_code is None
    assert receiver.received == []


async def test_a_test_delivery_to_this_machine_arrives_when_allowed(
    settings: Settings, receiver: Receiver
) -> None:
    receivers = Receivers(settings)
    try:
        result = await send_attempt(receivers, _delivery(receiver.url, livemode=False), 5)
    finally:
        await receivers.close()

    assert result.status_code == 200
    assert len(receiver.received) == 1
