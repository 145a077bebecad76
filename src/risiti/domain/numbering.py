"""Document numbers: `INV-2026-0001`, `RCT-2026-0001`, gap-free per account, mode, type and year."""

from __future__ import annotations

import re

from risiti.domain.errors import InvalidInvoiceError

PREFIXES = {"invoice": "INV", "receipt": "RCT"}


def number_prefix(document_type: str) -> str:
    """The prefix of a document type's numbers."""
    return PREFIXES[document_type]


def format_document_number(document_type: str, year: int, sequence: int) -> str:
    """The number a document gets at finalization; four digits at least, more when needed."""
    return f"{number_prefix(document_type)}-{year}-{sequence:04d}"


_SERIES_SHAPE = re.compile(r"^(INV|RCT)-\d{4}-\d+$", re.IGNORECASE)


def check_chosen_number(number: str) -> None:
    """A number a business chooses must not look like one of the series', which a later
    finalization would then find taken."""
    if not number.strip() or len(number) > 64:
        raise InvalidInvoiceError("invoice_number has 1 to 64 characters.", field="invoice_number")
    if _SERIES_SHAPE.match(number):
        raise InvalidInvoiceError(
            "invoice_number may not have the shape of Risiti's own series (INV-YYYY-NNNN).",
            field="invoice_number",
        )
