"""The seed APIs' own documents (DESIGN.md §11): how an invoice reads to a client of Kredo,
Duplo, Paycashless or Invoice.ng that changed only its base URL.

Each dialect's document is a model whose fields say, with `Reads`, how their value is read off
Risiti's own invoice document (`risiti.presentation.documents.Invoice`, as presented, plus its
`view_token`). One source for every dialect keeps their figures Risiti's figures: a dialect
renames, converts units and words, and never computes an amount of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, PlainSerializer

from risiti.domain.money import major_units
from risiti.presentation.documents import present

NativeDocument = dict[str, Any]
"""Risiti's invoice document as a client reads it (`present(record)`), with the record's
`view_token` kept: what every dialect's document is read from."""


class DialectSchema(BaseModel):
    """A dialect's document: unknown keys are refused, so a field sent without a line in its
    model fails the OpenAPI tests."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


@dataclass(frozen=True)
class Reads:
    """Where a field of a dialect's document takes its value: a function of the native
    document returning a JSON-ready value."""

    read: Callable[[NativeDocument], Any]


def json_number(amount: Decimal) -> int | float:
    """A major-unit amount as a JSON number (the dialects' answers, Kredo-format webhooks): an
    integer when whole (`250000`), else its decimal (`2500.5`). The float is only the JSON
    text's carrier: every amount within the bounds has at most 16 significant digits when whole
    and 15 otherwise, which the float's shortest representation writes back digit for digit."""
    if amount == amount.to_integral_value():
        return int(amount)
    return float(amount)


MajorAmount = Annotated[Decimal, PlainSerializer(json_number, return_type=float)]
"""An amount in the currency's major units (naira, not kobo), exact."""


def major(document: NativeDocument, field: str) -> Decimal:
    """One of the native document's amounts (minor units) in its currency's major units."""
    return major_units(document[field], document["currency"])


@cache
def _readers(model: type[DialectSchema]) -> tuple[tuple[str, Callable[[NativeDocument], Any]], ...]:
    readers = []
    for name, info in model.model_fields.items():
        sources = [meta for meta in info.metadata if isinstance(meta, Reads)]
        if not sources:
            raise TypeError(f"{model.__name__}.{name} does not say where it Reads from")
        readers.append((info.serialization_alias or name, sources[0].read))
    return tuple(readers)


def translated(model: type[DialectSchema], document: NativeDocument) -> dict[str, Any]:
    """`document` as `model` reads it, JSON-ready: each field in the model's order, under the
    name it is sent by; amounts through the model's serializers (major units as numbers)."""
    values = {name: read(document) for name, read in _readers(model)}
    return model.model_validate(values).model_dump(mode="json", by_alias=True)


def native_document(record: dict[str, Any], *, base_url: str, today: date) -> NativeDocument:
    """The invoice record (`invoice_record`, or a read model's stored copy) as every dialect
    reads it: presented, its `view_token` kept."""
    return present(record, base_url=base_url, today=today) | {"view_token": record["view_token"]}
