"""Kredo's documents (../shared/seeds/kredo-api.txt): an invoice as Kredo answers it, amounts
in major units, Kredo's status words; what Kredo does not document is under `risiti`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import Field

from risiti.presentation.dialects import DialectSchema, MajorAmount, NativeDocument, Reads, major

KredoStatus = Literal["draft", "unpaid", "paid", "void"]

# Kredo's four words for Risiti's five statuses: partly paid is still unpaid to Kredo.
KREDO_STATUS: dict[str, KredoStatus] = {
    "draft": "draft",
    "open": "unpaid",
    "partially_paid": "unpaid",
    "paid": "paid",
    "void": "void",
}


class KredoRisiti(DialectSchema):
    """What Risiti adds to Kredo's document: the native id and the figures behind `total`."""

    id: UUID = Field(description="The invoice's id in Risiti's own API (`/v1/invoices/{id}`).")
    type: Literal["invoice", "receipt"]
    currency: str
    amount_paid: MajorAmount
    amount_due: MajorAmount
    created_at: datetime


def _risiti(document: NativeDocument) -> dict[str, Any]:
    return {
        "id": document["id"],
        "type": document["type"],
        "currency": document["currency"],
        "amount_paid": major(document, "amount_paid"),
        "amount_due": major(document, "amount_due"),
        "created_at": document["created_at"],
    }


class KredoInvoice(DialectSchema):
    """An invoice or receipt as Kredo's create response shows it."""

    public_id: Annotated[str, Reads(lambda d: d["view_token"])] = Field(
        description="The public id `view_url` ends with; `GET /invoices/{public_id}` reads it."
    )
    document_number: Annotated[str | None, Reads(lambda d: d["document_number"])] = Field(
        description="Null while a draft."
    )
    view_url: Annotated[str, Reads(lambda d: d["view_url"])]
    status: Annotated[KredoStatus, Reads(lambda d: KREDO_STATUS[d["status"]])] = Field(
        description="`unpaid` is issued and not fully paid, partly paid included."
    )
    total: Annotated[MajorAmount, Reads(lambda d: major(d, "total"))] = Field(
        description="In major units: 250000 is ₦250,000.00."
    )
    risiti: Annotated[KredoRisiti, Reads(_risiti)]
