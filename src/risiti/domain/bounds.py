"""The largest figures Risiti records (docs/api.md, "Bounds").

Every figure in the log is read again by every follower, stored in bigint columns, encoded by
orjson (64-bit integers) and read by clients, many of which hold JSON numbers in doubles (exact up
to 2^53, about 9.007e15). A figure past what any of them holds would be accepted once and then
break every reader of the log on every restart, so commands refuse it before any event exists.
"""

from __future__ import annotations

MAX_AMOUNT = 10**15
"""Minor units (₦10 trillion in kobo): the bound of every price, line amount, discount, fee,
payment and total. Below 2^53, so a double holds it exactly, and 500 lines of it sum well
within bigint."""

MAX_QUANTITY = 10**9
"""Units on one invoice line; quantities have at most `QUANTITY_PLACES` decimal places."""

QUANTITY_PLACES = 4

MAX_STOCK = 10**12
"""Units: the bound of a product's stock (either side of zero), its low-stock threshold and any
one adjustment. Sales and voids, which have already happened, are recorded whatever they do to
stock; at most 500 lines of `MAX_QUANTITY` each, they stay far within bigint."""
