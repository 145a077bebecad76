"""Paycashless' words for Risiti's (no I/O): field paths in errors, and status words."""

from __future__ import annotations

import pytest

from risiti.api.dialects.paycashless import paycashless_field
from risiti.presentation.dialects.paycashless import PAYCASHLESS_STATUS
from risiti.presentation.documents import InvoiceStatus


@pytest.mark.parametrize(
    ("native", "written"),
    [
        ("tax_rate_ids.0", "taxRateIds.0"),
        ("callback_url", "callbackUrl"),
        ("days_until_due", "daysUntilDue"),
        ("customer.email", "customer.email"),
        ("items.2.unit_price", "items.2.price"),
        ("items.0.description", "items.0.name"),
        ("items.0.details", "items.0.description"),
        ("sendEmail", "sendEmail"),
    ],
)
def test_a_native_field_is_named_as_paycashless_writes_it(native: str, written: str) -> None:
    assert paycashless_field(native) == written


def test_every_risiti_status_has_a_paycashless_word_and_void_is_cancelled() -> None:
    assert set(PAYCASHLESS_STATUS) == set(InvoiceStatus.__args__)
    assert PAYCASHLESS_STATUS["void"] == "cancelled"
