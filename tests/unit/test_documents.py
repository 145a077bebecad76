"""How an invoice reads: the same document whether presented from the aggregate or from the
JSON text a list stores."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import NamedTuple
from uuid import uuid4

import orjson
import pytest

from risiti.domain.invoice import Invoice, InvoiceDraft
from risiti.presentation.documents import Invoice as InvoiceDocument
from risiti.presentation.documents import (
    invoice_record,
    present,
    present_json,
    record_json,
    recorded_fields,
)

TODAY = date(2026, 5, 1)


def _invoice(due: date | None, view_token: str = "tok_abc-123") -> Invoice:
    draft = InvoiceDraft(
        account_id=uuid4(),
        livemode=False,
        document_type="invoice",
        currency="NGN",
        customer={"name": 'Ada "Quotes" Obi', "email": "ada@example.com"},
        items=[{"description": "Naïve café", "quantity": Decimal("1.5"), "unit_price": 1000}],
        issue_date=date(2026, 4, 1),
        due_date=due,
    )
    invoice = Invoice.create(draft, view_token=view_token)
    invoice.finalize(document_number="INV-2026-0001", finalized_at=datetime.now(UTC))
    return invoice


class _Stored(NamedTuple):
    document: str
    view_token: str
    status: str
    due_date: date | None


@pytest.mark.parametrize("due", [None, date(2026, 4, 15), date(2026, 5, 15)])
@pytest.mark.parametrize("view_token", ["tok_abc-123", 'tok "quoted" \\ naïve'])
@pytest.mark.parametrize("base_url", ["https://risiti.example", 'https://x.example/"Ω"'])
def test_listed_text_reads_exactly_as_the_presented_invoice(
    due: date | None, view_token: str, base_url: str
) -> None:
    records = [invoice_record(_invoice(due, view_token)), invoice_record(_invoice(None))]
    expected = [present(record, base_url=base_url, today=TODAY) for record in records]

    text = present_json(
        [
            _Stored(record_json(r), r["view_token"], r["status"], _day(r["due_date"]))
            for r in records
        ],
        base_url=base_url,
        today=TODAY,
    )

    assert json.loads(text) == expected
    assert [list(document) for document in json.loads(text)] == [list(e) for e in expected]
    assert text == "[" + ", ".join(orjson.dumps(e).decode() for e in expected) + "]"


def test_an_empty_list_is_an_empty_array() -> None:
    assert present_json([], base_url="https://risiti.example", today=TODAY) == "[]"


def _day(iso: str | None) -> date | None:
    return date.fromisoformat(iso) if iso else None


def test_an_open_invoice_past_its_due_date_is_overdue() -> None:
    record = invoice_record(_invoice(date(2026, 4, 15)))
    assert present(record, base_url="", today=TODAY)["overdue"] is True


def test_the_presented_invoice_has_exactly_its_models_fields_in_their_order() -> None:
    document = present(invoice_record(_invoice(None)), base_url="", today=TODAY)
    assert list(document) == list(InvoiceDocument.model_fields)
    InvoiceDocument.model_validate(document)


def test_a_document_field_that_says_not_where_it_comes_from_stops_the_import() -> None:
    class Drifted(InvoiceDocument):
        amount_overdue: int

    with pytest.raises(TypeError, match=r"Drifted\.amount_overdue"):
        recorded_fields(Drifted)
