"""Document numbers: `INV-2026-0001`, `RCT-2026-0001`, gap-free per account, mode, type and year."""

from __future__ import annotations

PREFIXES = {"invoice": "INV", "receipt": "RCT"}


def number_prefix(document_type: str) -> str:
    """The prefix of a document type's numbers."""
    return PREFIXES[document_type]


def format_document_number(document_type: str, year: int, sequence: int) -> str:
    """The number a document gets at finalization; four digits at least, more when needed."""
    return f"{number_prefix(document_type)}-{year}-{sequence:04d}"
