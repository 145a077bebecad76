"""Managing webhook endpoints over HTTP: list, read, change, delete, rotate the secret, and see
and retry deliveries."""

from __future__ import annotations

import json
import secrets
from typing import Any
from uuid import UUID

import asyncpg
import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from risiti.commands.accounts import OpenedAccount, open_account
from risiti.commands.ledger import Ledger

from .conftest import KREDO_INVOICE, Api, Receiver, wait_until
from .http_calls import call, event_count

pytestmark = pytest.mark.asyncio

ENDPOINTS = "/v1/webhook-endpoints"


async def _register(api: Api, url: str, events: list[str] | None = None) -> dict[str, Any]:
    answer = await call(api, "POST", ENDPOINTS, {"url": url, "events": events or ["*"]})
    assert answer.status == 201, answer.body
    data: dict[str, Any] = answer.data
    return data


async def test_list_pages_endpoints_newest_first_and_never_shows_a_secret(api: Api) -> None:
    created = [await _register(api, f"http://127.0.0.1:9/hooks/{n}") for n in range(3)]

    first = await call(api, "GET", f"{ENDPOINTS}?limit=2")
    second = await call(api, "GET", f"{ENDPOINTS}?limit=2&cursor={first.body['next_cursor']}")
    after = await call(api, "GET", f"{ENDPOINTS}?starting_after={created[2]['id']}")

    assert [e["id"] for e in first.data] == [created[2]["id"], created[1]["id"]]
    assert first.body["has_more"] is True
    assert [e["id"] for e in second.data] == [created[0]["id"]]
    assert second.body["has_more"] is False
    assert second.body["next_cursor"] is None
    assert [e["id"] for e in after.data] == [created[1]["id"], created[0]["id"]]
    assert all("secret" not in e for e in first.data + second.data)


async def test_get_shows_the_endpoint_without_its_secret_and_with_its_version(api: Api) -> None:
    created = await _register(api, "http://127.0.0.1:9/hooks", ["invoice.paid"])

    answer = await call(api, "GET", f"{ENDPOINTS}/{created['id']}")

    assert answer.status == 200
    assert answer.data == {key: value for key, value in created.items() if key != "secret"}
    assert answer.headers["ETag"] == '"1"'


async def test_another_accounts_endpoint_is_not_found(api: Api, ledger: Ledger) -> None:
    created = await _register(api, "http://127.0.0.1:9/hooks")
    other = await open_account(ledger, f"Other Business {secrets.token_hex(3)}")
    stranger = Api(api.http, other.test_key)

    for method in ("GET", "PATCH", "DELETE"):
        answer = await call(stranger, method, f"{ENDPOINTS}/{created['id']}", {})
        assert answer.status == 404, (method, answer.body)
    assert (await call(stranger, "GET", ENDPOINTS)).data == []


async def test_patch_changes_url_events_description_and_enabled(api: Api) -> None:
    created = await _register(api, "http://127.0.0.1:9/hooks")
    changes = {
        "url": "http://127.0.0.1:9/other",
        "events": ["invoice.paid", "invoice.voided"],
        "description": "Accounting",
        "enabled": False,
    }

    answer = await call(api, "PATCH", f"{ENDPOINTS}/{created['id']}", changes, If_Match='"1"')
    read = await call(api, "GET", f"{ENDPOINTS}/{created['id']}")
    listed = await call(api, "GET", ENDPOINTS)

    assert answer.status == 200, answer.body
    assert {key: answer.data[key] for key in changes} == changes
    assert answer.headers["ETag"] == '"2"'
    assert "secret" not in answer.data
    assert read.data == answer.data
    assert listed.data == [answer.data]


async def test_patch_with_a_stale_if_match_is_refused_and_changes_nothing(
    api: Api, account: OpenedAccount, pool: asyncpg.Pool
) -> None:
    created = await _register(api, "http://127.0.0.1:9/hooks")
    await call(api, "PATCH", f"{ENDPOINTS}/{created['id']}", {"description": "one"})
    before = await event_count(pool, account.account_id)

    answer = await call(
        api, "PATCH", f"{ENDPOINTS}/{created['id']}", {"description": "two"}, If_Match='"1"'
    )

    assert answer.status == 412
    assert answer.error["code"] == "version_conflict"
    assert await event_count(pool, account.account_id) == before


async def test_patch_to_a_private_or_metadata_address_is_refused_by_the_ssrf_check(
    api: Api, account: OpenedAccount, pool: asyncpg.Pool
) -> None:
    created = await _register(api, "http://127.0.0.1:9/hooks")
    before = await event_count(pool, account.account_id)

    for url in (
        "http://169.254.169.254/latest",
        "http://10.0.0.7/hooks",
        "http://[::ffff:10.1.2.3]/",
    ):
        answer = await call(api, "PATCH", f"{ENDPOINTS}/{created['id']}", {"url": url})
        assert answer.status == 422, (url, answer.body)
        assert answer.error["details"][0]["field"] == "url"
    assert await event_count(pool, account.account_id) == before
    assert (await call(api, "GET", f"{ENDPOINTS}/{created['id']}")).data["url"] == created["url"]


async def test_patch_with_unknown_event_types_or_a_null_url_is_refused(api: Api) -> None:
    created = await _register(api, "http://127.0.0.1:9/hooks")

    unknown = await call(api, "PATCH", f"{ENDPOINTS}/{created['id']}", {"events": ["nope.x"]})
    null_url = await call(api, "PATCH", f"{ENDPOINTS}/{created['id']}", {"url": None})

    assert unknown.status == 422
    assert unknown.error["details"][0]["field"] == "events"
    assert null_url.status == 422


async def test_deleted_endpoint_is_gone_from_reads_but_its_history_stays_in_the_log(
    api: Api, account: OpenedAccount, pool: asyncpg.Pool
) -> None:
    created = await _register(api, "http://127.0.0.1:9/hooks")
    before = await event_count(pool, account.account_id)

    deleted = await call(api, "DELETE", f"{ENDPOINTS}/{created['id']}")

    assert deleted.status == 200
    assert deleted.data == {"id": created["id"], "object": "webhook_endpoint", "deleted": True}
    assert (await call(api, "GET", f"{ENDPOINTS}/{created['id']}")).status == 404
    assert (await call(api, "GET", ENDPOINTS)).data == []
    assert (await call(api, "DELETE", f"{ENDPOINTS}/{created['id']}")).status == 404
    assert await event_count(pool, account.account_id) == before + 1
    topics = await pool.fetch(
        "SELECT topic FROM events WHERE originator_id = $1 ORDER BY originator_version",
        created["id"],
    )
    assert [row["topic"].rsplit(".", 1)[1] for row in topics] == ["Registered", "Deleted"]


async def test_deleted_endpoint_gets_no_new_deliveries(
    api: Api, account: OpenedAccount, receiver: Receiver, pool: asyncpg.Pool, projector: None
) -> None:
    created = await _register(api, receiver.url)
    await call(api, "DELETE", f"{ENDPOINTS}/{created['id']}")

    await _create_invoice_and_wait_for_its_event(api, pool, account.account_id)

    assert await _delivery_count(pool, created["id"]) == 0
    assert await _copy_enabled(pool, created["id"]) is False


async def test_disabled_endpoint_gets_no_new_deliveries_and_enabled_again_it_does(
    api: Api, account: OpenedAccount, receiver: Receiver, pool: asyncpg.Pool, projector: None
) -> None:
    created = await _register(api, receiver.url, ["invoice.created"])
    await call(api, "PATCH", f"{ENDPOINTS}/{created['id']}", {"enabled": False})
    await _create_invoice_and_wait_for_its_event(api, pool, account.account_id)
    assert await _delivery_count(pool, created["id"]) == 0

    await call(api, "PATCH", f"{ENDPOINTS}/{created['id']}", {"enabled": True})
    await _create_invoice_and_wait_for_its_event(api, pool, account.account_id, events=2)
    assert await _delivery_count(pool, created["id"]) == 1


async def test_dispatcher_delivers_to_the_url_an_update_set(
    api: Api, receiver: Receiver, pool: asyncpg.Pool, projector: None, worker: None
) -> None:
    created = await _register(api, "http://127.0.0.1:9/nowhere", ["invoice.created"])
    await call(api, "PATCH", f"{ENDPOINTS}/{created['id']}", {"url": receiver.url})

    await call(api, "POST", "/v1/invoices", KREDO_INVOICE)

    await wait_until(lambda: _received(receiver, 1))
    assert json.loads(receiver.received[0][1])["event"] == "invoice.created"


async def test_during_a_rotation_overlap_a_webhook_verifies_with_both_old_and_new_secret(
    api: Api, receiver: Receiver, projector: None, worker: None
) -> None:
    created = await _register(api, receiver.url, ["invoice.created"])
    rotated = await call(api, "POST", f"{ENDPOINTS}/{created['id']}/rotate-secret", {})
    new_secret = rotated.data["secret"]

    await call(api, "POST", "/v1/invoices", KREDO_INVOICE)
    await wait_until(lambda: _received(receiver, 1))
    headers, body = receiver.received[0]

    assert rotated.status == 200, rotated.body
    assert new_secret.startswith("whsec_")
    assert new_secret != created["secret"]
    assert Webhook(created["secret"]).verify(body, headers)["event"] == "invoice.created"
    assert Webhook(new_secret).verify(body, headers)["event"] == "invoice.created"


async def test_after_the_overlap_only_the_new_secret_signs(
    api: Api, receiver: Receiver, projector: None, worker: None
) -> None:
    created = await _register(api, receiver.url, ["invoice.created"])
    rotated = await call(
        api,
        "POST",
        f"{ENDPOINTS}/{created['id']}/rotate-secret",
        {"expire_current_after_seconds": 0},
    )

    await call(api, "POST", "/v1/invoices", KREDO_INVOICE)
    await wait_until(lambda: _received(receiver, 1))
    headers, body = receiver.received[0]

    assert Webhook(rotated.data["secret"]).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(created["secret"]).verify(body, headers)


async def test_rotation_is_recorded_as_an_event_without_the_secret(
    api: Api, pool: asyncpg.Pool
) -> None:
    created = await _register(api, "http://127.0.0.1:9/hooks")

    rotated = await call(
        api,
        "POST",
        f"{ENDPOINTS}/{created['id']}/rotate-secret",
        {"expire_current_after_seconds": 3600},
    )

    rows = await pool.fetch(
        "SELECT topic, state FROM events WHERE originator_id = $1 ORDER BY originator_version",
        created["id"],
    )
    assert rows[-1]["topic"].endswith(".SecretRotated")
    for row in rows:
        assert rotated.data["secret"].encode() not in bytes(row["state"])
        assert created["secret"].encode() not in bytes(row["state"])
    assert "secret" not in (await call(api, "GET", f"{ENDPOINTS}/{created['id']}")).data


async def test_rotation_overlap_longer_than_seven_days_is_refused(
    api: Api, account: OpenedAccount, pool: asyncpg.Pool
) -> None:
    created = await _register(api, "http://127.0.0.1:9/hooks")
    before = await event_count(pool, account.account_id)

    answer = await call(
        api,
        "POST",
        f"{ENDPOINTS}/{created['id']}/rotate-secret",
        {"expire_current_after_seconds": 7 * 24 * 3600 + 1},
    )

    assert answer.status == 422
    assert await event_count(pool, account.account_id) == before


async def test_deliveries_list_every_attempt_and_a_retried_failure_is_sent_again(
    api: Api, receiver: Receiver, pool: asyncpg.Pool, projector: None, worker: None
) -> None:
    receiver.statuses = [410]
    created = await _register(api, receiver.url, ["invoice.created"])
    await call(api, "POST", "/v1/invoices", KREDO_INVOICE)
    failed = await wait_until(lambda: _deliveries_with(api, created["id"], "failed"))
    delivery = failed[0]
    assert [a["status_code"] for a in delivery["attempts"]] == [410]
    assert delivery["attempts"][0]["response_excerpt"] == "ok"
    assert delivery["attempts"][0]["latency_ms"] >= 0
    assert delivery["event_type"] == "invoice.created"

    async def disabled_by_the_410() -> bool:
        answer = await call(api, "GET", f"{ENDPOINTS}/{created['id']}")
        return answer.data["enabled"] is False

    await wait_until(disabled_by_the_410)

    retried = await call(api, "POST", f"/v1/webhook-deliveries/{delivery['id']}/retry")
    assert retried.status == 202, retried.body
    assert retried.data["previous_status"] == "failed"

    succeeded = await wait_until(
        lambda: _deliveries_with(api, created["id"], "succeeded"), timeout=20
    )
    assert [a["status_code"] for a in succeeded[0]["attempts"]] == [410, 200]
    ids = {headers["webhook-id"] for headers, _ in receiver.received}
    assert ids == {delivery["event_id"]}


async def test_retrying_a_succeeded_delivery_is_refused(
    api: Api, receiver: Receiver, projector: None, worker: None
) -> None:
    created = await _register(api, receiver.url, ["invoice.created"])
    await call(api, "POST", "/v1/invoices", KREDO_INVOICE)
    succeeded = await wait_until(lambda: _deliveries_with(api, created["id"], "succeeded"))

    answer = await call(api, "POST", f"/v1/webhook-deliveries/{succeeded[0]['id']}/retry")

    assert answer.status == 409
    assert answer.error["code"] == "invalid_state"


async def test_deliveries_page_newest_first(
    api: Api, receiver: Receiver, pool: asyncpg.Pool, projector: None
) -> None:
    created = await _register(api, receiver.url, ["invoice.created"])
    for _ in range(3):
        await call(api, "POST", "/v1/invoices", KREDO_INVOICE)
    await wait_until(lambda: _delivery_count_is(pool, created["id"], 3))
    path = f"{ENDPOINTS}/{created['id']}/deliveries"

    first = await call(api, "GET", f"{path}?limit=2")
    second = await call(api, "GET", f"{path}?limit=2&cursor={first.body['next_cursor']}")

    everything = first.data + second.data
    assert first.body["has_more"] is True
    assert second.body["has_more"] is False
    assert len({d["id"] for d in everything}) == 3
    created_at = [d["created_at"] for d in everything]
    assert created_at == sorted(created_at, reverse=True)


async def test_an_unknown_delivery_cannot_be_retried(api: Api) -> None:
    answer = await call(
        api, "POST", "/v1/webhook-deliveries/00000000-0000-0000-0000-000000000000/retry"
    )

    assert answer.status == 404


async def _create_invoice_and_wait_for_its_event(
    api: Api, pool: asyncpg.Pool, account_id: UUID, events: int = 1
) -> None:
    """Create an invoice; return once the dispatcher has published `events` invoice.created
    events of the account (it inserts deliveries in the same transaction)."""
    await call(api, "POST", "/v1/invoices", KREDO_INVOICE)

    async def published() -> bool:
        count: int = await pool.fetchval(
            "SELECT count(*) FROM account_events WHERE account_id = $1"
            " AND type = 'invoice.created'",
            account_id,
        )
        return count >= events

    await wait_until(published)


async def _delivery_count(pool: asyncpg.Pool, endpoint_id: str) -> int:
    count: int = await pool.fetchval(
        "SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = $1", endpoint_id
    )
    return count


async def _delivery_count_is(pool: asyncpg.Pool, endpoint_id: str, count: int) -> bool:
    return await _delivery_count(pool, endpoint_id) == count


async def _copy_enabled(pool: asyncpg.Pool, endpoint_id: str) -> bool | None:
    enabled: bool | None = await pool.fetchval(
        "SELECT enabled FROM webhook_endpoints WHERE id = $1", endpoint_id
    )
    return enabled


async def _deliveries_with(api: Api, endpoint_id: str, status: str) -> list[dict[str, Any]]:
    answer = await call(api, "GET", f"{ENDPOINTS}/{endpoint_id}/deliveries")
    assert answer.status == 200, answer.body
    return [d for d in answer.data if d["status"] == status]


async def _received(receiver: Receiver, count: int) -> bool:
    return len(receiver.received) >= count
