"""Amounts as the seed APIs that write major units show them (DESIGN.md §11): Kredo's webhook
body and the dialects' answers. The conversion itself is the domain's (`money.to_major_units`)."""

from __future__ import annotations

import orjson

from risiti.domain.money import to_major_units


def major_units_number(amount: int, currency: str) -> int | orjson.Fragment:
    """An amount in minor units as the JSON number of its major units, exactly: an integer when
    whole (25000000 kobo → 250000), else with the currency's decimal places (25000050 kobo →
    250000.50), written from the Decimal, never through a float. For `orjson.dumps`."""
    major = to_major_units(amount, currency)
    if major == major.to_integral_value():
        return int(major)
    return orjson.Fragment(format(major, "f").encode())
