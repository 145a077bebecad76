"""External ids: the id a business' old system gave a customer or a tax rate (Duplo's
`cus_GnXkWlEOtw`, Paycashless' `txr_1`, Invoice.ng's `606213207287745`), kept so that requests
written for that system can keep naming it. Unique per account and mode; the service layer
guards that (`commands/side_tables.py`)."""

from __future__ import annotations

import unicodedata

from risiti.domain.errors import InvalidFieldError

MAX_EXTERNAL_ID_LENGTH = 100


def checked_external_id(external_id: str | None, *, field: str = "external_id") -> str | None:
    """The external id as kept, without surrounding whitespace; None if none was given. Refused
    if empty, longer than 100 characters, or holding a control character (a line break)."""
    if external_id is None:
        return None
    kept = external_id.strip()
    if not 1 <= len(kept) <= MAX_EXTERNAL_ID_LENGTH:
        raise InvalidFieldError(
            f"{field} must be 1 to {MAX_EXTERNAL_ID_LENGTH} characters.", field=field
        )
    if any(unicodedata.category(character).startswith("C") for character in kept):
        raise InvalidFieldError(f"{field} may not contain control characters.", field=field)
    return kept
