"""What of the ledger is a caller's, and which rows each event writes beside the log."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import Aggregate

from risiti.commands.caller import Caller, get_owned
from risiti.commands.errors import NotFoundError
from risiti.commands.side_tables import SIDE_TABLE_WRITERS, keep_product, write_side_tables
from risiti.domain.customer import Customer
from risiti.domain.webhook_endpoint import WebhookEndpoint

ACCOUNT = UUID("00000000-0000-4000-8000-000000000001")
OTHER = UUID("00000000-0000-4000-8000-000000000002")
CALLER = Caller(ACCOUNT, livemode=False, key_id="key_test_1")


class _Held:
    """Gets aggregates from a dict, as a ledger gets them from the log."""

    def __init__(self, *aggregates: Aggregate) -> None:
        self.aggregates = {aggregate.id: aggregate for aggregate in aggregates}

    async def get(self, cls: type[Any], aggregate_id: UUID) -> Any:
        if aggregate_id not in self.aggregates:
            raise NotFoundError(cls.__name__.lower(), aggregate_id)
        return self.aggregates[aggregate_id]


def _customer(account_id: UUID = ACCOUNT, livemode: bool = False) -> Customer:
    return Customer.create(account_id=account_id, livemode=livemode, name="Adaeze", email=None)


def _endpoint() -> WebhookEndpoint:
    return WebhookEndpoint.register(
        account_id=ACCOUNT,
        livemode=False,
        url="https://example.com/hooks",
        events=["*"],
        description=None,
    )


async def test_a_caller_gets_its_own_customer() -> None:
    customer = _customer()

    assert await get_owned(_Held(customer), Customer, customer.id, CALLER) is customer


@pytest.mark.parametrize(("account_id", "livemode"), [(OTHER, False), (ACCOUNT, True)])
async def test_another_accounts_or_modes_customer_does_not_exist(
    account_id: UUID, livemode: bool
) -> None:
    customer = _customer(account_id, livemode)

    with pytest.raises(NotFoundError, match=f"No customer with id '{customer.id}'"):
        await get_owned(_Held(customer), Customer, customer.id, CALLER)


async def test_a_deleted_endpoint_does_not_exist_and_is_named_in_words() -> None:
    endpoint = _endpoint()
    endpoint.delete()

    with pytest.raises(NotFoundError, match=f"No webhook endpoint with id '{endpoint.id}'"):
        await get_owned(_Held(endpoint), WebhookEndpoint, endpoint.id, CALLER)


async def test_an_unknown_endpoint_is_named_as_an_other_accounts_is() -> None:
    missing = uuid4()

    with pytest.raises(NotFoundError, match=f"No webhook endpoint with id '{missing}'"):
        await get_owned(_Held(), WebhookEndpoint, missing, CALLER)


def test_every_side_table_is_keyed_by_an_event_class() -> None:
    assert all(issubclass(cls, Aggregate.Event) for cls in SIDE_TABLE_WRITERS)


async def test_a_product_created_updated_and_adjusted_in_one_save_is_listed_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    written: list[object] = []

    async def note(conn: Any, aggregate: Any) -> None:
        written.append(aggregate)

    product_events = [cls for cls, writer in SIDE_TABLE_WRITERS.items() if writer is keep_product]
    for cls in product_events:
        monkeypatch.setitem(SIDE_TABLE_WRITERS, cls, note)

    await write_side_tables(None, "the product", [object.__new__(cls) for cls in product_events])

    assert [cls.__name__ for cls in product_events] == ["Created", "Updated", "StockAdjusted"]
    assert written == ["the product"]
