"""When receivers go wrong: a test event on demand, recovering failed deliveries since a time,
and an endpoint that fails for too long disabled with an event that says so."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from arq import Worker
from standardwebhooks.webhooks import Webhook

from risiti.config import Settings
from risiti.workers.settings import worker_settings

from .conftest import KREDO_INVOICE, Api, Receiver, running, wait_until
from .http_calls import call

pytestmark = pytest.mark.asyncio

ENDPOINTS = "/v1/webhook-endpoints"


async def _register(api: Api, url: str, events: list[str]) -> dict[str, Any]:
    answer = await call(api, "POST", ENDPOINTS, {"url": url, "events": events})
    assert answer.status == 201, answer.body
    data: dict[str, Any] = answer.data
    return data


async def _deliveries(api: Api, endpoint_id: str, status: str) -> list[dict[str, Any]]:
    answer = await call(api, "GET", f"{ENDPOINTS}/{endpoint_id}/deliveries")
    assert answer.status == 200, answer.body
    return [d for d in answer.data if d["status"] == status]


async def _enable_once_disabled(api: Api, endpoint_id: str) -> None:
    async def disabled() -> bool:
        answer = await call(api, "GET", f"{ENDPOINTS}/{endpoint_id}")
        return answer.data["enabled"] is False

    await wait_until(disabled)
    answer = await call(api, "PATCH", f"{ENDPOINTS}/{endpoint_id}", {"enabled": True})
    assert answer.status == 200, answer.body


async def test_test_event_arrives_signed_whatever_the_endpoint_subscribed_to(
    api: Api, receiver: Receiver, projector: None, worker: None
) -> None:
    endpoint = await _register(api, receiver.url, ["invoice.paid"])

    answer = await call(api, "POST", f"{ENDPOINTS}/{endpoint['id']}/test")

    assert answer.status == 202, answer.body
    assert answer.data["event_type"] == "webhook_endpoint.test"
    await wait_until(lambda: _received(receiver, 1), timeout=15)
    headers, body = receiver.received[0]
    payload = Webhook(endpoint["secret"]).verify(body, headers)
    assert payload["event"] == "webhook_endpoint.test"
    assert payload["data"]["id"] == endpoint["id"]
    succeeded = await wait_until(lambda: _deliveries(api, endpoint["id"], "succeeded"))
    assert [d["id"] for d in succeeded] == [answer.data["id"]]


async def test_test_event_for_an_unknown_endpoint_is_not_found(api: Api) -> None:
    answer = await call(api, "POST", f"{ENDPOINTS}/00000000-0000-4000-8000-000000000000/test")

    assert answer.status == 404
    assert answer.error["code"] == "not_found"


async def test_recover_sends_again_the_failures_since_a_time_and_no_older_ones(
    api: Api, receiver: Receiver, projector: None, worker: None
) -> None:
    # 410 is the quickest way to a failed delivery; it disables the endpoint, enabled again.
    receiver.statuses = [410, 410]
    endpoint = await _register(api, receiver.url, ["invoice.created"])
    await call(api, "POST", "/v1/invoices", KREDO_INVOICE)
    await wait_until(lambda: _failed_count(api, endpoint["id"], 1))
    await _enable_once_disabled(api, endpoint["id"])
    since = datetime.now(UTC)
    await call(api, "POST", "/v1/invoices", KREDO_INVOICE)
    await wait_until(lambda: _failed_count(api, endpoint["id"], 2))
    await _enable_once_disabled(api, endpoint["id"])

    answer = await call(
        api, "POST", f"{ENDPOINTS}/{endpoint['id']}/recover?since={since:%Y-%m-%dT%H:%M:%S.%fZ}"
    )

    assert answer.status == 202, answer.body
    assert answer.data["recovered"] == 1
    succeeded = await wait_until(lambda: _deliveries(api, endpoint["id"], "succeeded"), 20)
    assert [a["status_code"] for a in succeeded[0]["attempts"]] == [410, 200]
    assert len(await _deliveries(api, endpoint["id"], "failed")) == 1


async def test_recover_needs_a_since_that_is_not_in_the_future(api: Api) -> None:
    endpoint = await _register(api, "http://127.0.0.1:9/hooks", ["*"])

    missing = await call(api, "POST", f"{ENDPOINTS}/{endpoint['id']}/recover")
    future = await call(
        api, "POST", f"{ENDPOINTS}/{endpoint['id']}/recover?since=2999-01-01T00:00:00Z"
    )

    assert missing.status == 422
    assert future.status == 422
    assert future.error["code"] == "validation_error"
    assert future.error["details"][0]["field"] == "since"


@pytest.fixture
async def impatient_worker(settings: Settings) -> AsyncIterator[None]:
    """A worker that disables an endpoint after half a second of failures, not five days."""
    impatient = settings.model_copy(update={"webhook_disable_after_seconds": 0.5})
    arq_worker = Worker(**worker_settings(impatient), handle_signals=False)
    async with running(arq_worker.async_run()):
        yield
    await arq_worker.close()


async def test_endpoint_failing_for_too_long_is_disabled_and_an_event_says_so(
    api: Api, receiver: Receiver, projector: None, impatient_worker: None
) -> None:
    receiver.statuses = [500] * 20
    endpoint = await _register(api, receiver.url, ["invoice.created"])
    await call(api, "POST", "/v1/invoices", KREDO_INVOICE)

    async def disabled() -> dict[str, Any] | None:
        answer = await call(api, "GET", f"{ENDPOINTS}/{endpoint['id']}")
        return answer.data if answer.data["enabled"] is False else None

    read = await wait_until(disabled, timeout=30)
    assert read["disabled_reason"] == "failing"
    feed = await wait_until(lambda: _feed(api, "webhook_endpoint.disabled"), timeout=10)
    assert feed[0]["data"]["id"] == endpoint["id"]
    assert feed[0]["data"]["disabled_reason"] == "failing"
    # Its delivery is not tried again on its own: it failed, and recover can send it later.
    failed = await wait_until(lambda: _deliveries(api, endpoint["id"], "failed"), timeout=10)
    attempts = len(failed[0]["attempts"])
    await asyncio.sleep(1)
    assert len(receiver.received) == attempts


async def _feed(api: Api, event_type: str) -> list[dict[str, Any]]:
    answer = await call(api, "GET", f"/v1/events?type={event_type}")
    assert answer.status == 200, answer.body
    return answer.data  # type: ignore[no-any-return]


async def _failed_count(api: Api, endpoint_id: str, count: int) -> bool:
    return len(await _deliveries(api, endpoint_id, "failed")) >= count


async def _received(receiver: Receiver, count: int) -> bool:
    return len(receiver.received) >= count
