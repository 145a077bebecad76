"""The Product aggregate: what a business sells, at what price, and how many it has in stock.

Stock counts whole units. It changes only by `StockAdjusted` events: an adjustment a client
posts (a restock, a sale on another channel), a deduction when an invoice or receipt is issued,
and a restoration when that invoice is voided.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from risiti.domain.bounds import MAX_AMOUNT, MAX_STOCK
from risiti.domain.errors import InsufficientStockError, InvalidFieldError
from risiti.domain.money import currency_exponent

MAX_SKU_LENGTH = 100
UPDATABLE_FIELDS = frozenset(
    {"sku", "name", "unit_price", "currency", "low_stock_threshold", "track_stock", "metadata"}
)


class Product(Aggregate):
    """A product of one account, in one mode (test or live)."""

    @classmethod
    def create(
        cls,
        *,
        account_id: UUID,
        livemode: bool,
        sku: str,
        name: str,
        unit_price: int,
        currency: str,
        stock: int = 0,
        low_stock_threshold: int | None = None,
        track_stock: bool = True,
        metadata: dict[str, Any] | None = None,
    ) -> Product:
        """Record a new product; its stock starts at `stock` (which may be 0)."""
        fields: dict[str, Any] = {
            "sku": sku.strip(),
            "name": name.strip(),
            "unit_price": unit_price,
            "currency": currency.upper(),
            "low_stock_threshold": low_stock_threshold,
            "track_stock": track_stock,
            "metadata": metadata or {},
        }
        check_fields(fields)
        if not _is_count(stock) or not 0 <= stock <= MAX_STOCK:
            raise InvalidFieldError(f"stock starts at 0 to {MAX_STOCK}.", field="stock")
        return cls(account_id=account_id, livemode=livemode, stock=stock, **fields)

    @event("Created")
    def __init__(
        self,
        *,
        account_id: UUID,
        livemode: bool,
        sku: str,
        name: str,
        unit_price: int,
        currency: str,
        stock: int,
        low_stock_threshold: int | None,
        track_stock: bool,
        metadata: dict[str, Any],
    ) -> None:
        self.account_id = account_id
        self.livemode = livemode
        self.sku = sku
        self.name = name
        self.unit_price = unit_price
        self.currency = currency
        self.stock = stock
        self.low_stock_threshold = low_stock_threshold
        self.track_stock = track_stock
        self.metadata = metadata

    def update(self, changes: dict[str, Any]) -> None:
        """Change the catalogue fields; stock changes only by adjustments."""
        refused = sorted(set(changes) - UPDATABLE_FIELDS)
        if refused:
            raise InvalidFieldError(
                f"Cannot change {', '.join(refused)}; stock changes by adjustments.",
                field=refused[0],
            )
        if "currency" in changes:
            changes = {**changes, "currency": str(changes["currency"]).upper()}
        check_fields({name: getattr(self, name) for name in UPDATABLE_FIELDS} | changes)
        changed = {name: value for name, value in changes.items() if getattr(self, name) != value}
        if changed:
            self._updated(changes=changed)

    class Updated(Aggregate.Event):
        changes: dict[str, Any]

    @event(Updated)
    def _updated(self, changes: dict[str, Any]) -> None:
        for name, value in changes.items():
            setattr(self, name, value)

    def adjust(
        self, delta: int, *, reason: str, reference: str | None, allow_negative: bool
    ) -> None:
        """Add (or, negative, remove) units: refused if stock would go below zero and the
        account does not allow negative stock."""
        if not _is_count(delta) or delta == 0:
            raise InvalidFieldError("delta must be a whole number other than 0.", field="delta")
        if abs(self.stock + delta) > MAX_STOCK:
            raise InvalidFieldError(
                f"An adjustment of {delta} would take stock from {self.stock} to "
                f"{self.stock + delta}; stock stays within ±{MAX_STOCK}.",
                field="delta",
            )
        if self.stock + delta < 0 and not allow_negative:
            raise InsufficientStockError(self.stock, delta)
        self._stock_adjusted(delta=delta, reason=reason, reference=reference)

    def deduct_sold(self, quantity: int, *, reference: str, allow_negative: bool) -> int:
        """Take units sold on an issued invoice; returns how many were taken. The sale has
        happened already, so it is never refused: without negative stock, stock stops at 0."""
        taken = quantity if allow_negative else max(0, min(quantity, self.stock))
        if taken:
            self._stock_adjusted(delta=-taken, reason="invoice_issued", reference=reference)
        return taken

    def amend_sold(self, units: int, *, taken: int, reference: str, allow_negative: bool) -> int:
        """Take (positive) or give back (negative) the units an amended invoice's lines differ
        by; returns the units moved. More is taken as `deduct_sold` takes it; no more is given
        back than the invoice has `taken` of this product so far."""
        moved = -min(-units, max(taken, 0)) if units < 0 else units
        if moved > 0 and not allow_negative:
            moved = max(0, min(moved, self.stock))
        if moved:
            self._stock_adjusted(delta=-moved, reason="invoice_amended", reference=reference)
        return moved

    def restore_sold(self, quantity: int, *, reference: str) -> None:
        """Give back the units an invoice took, when it is voided."""
        if quantity:
            self._stock_adjusted(delta=quantity, reason="invoice_voided", reference=reference)

    class StockAdjusted(Aggregate.Event):
        delta: int
        reason: str
        reference: str | None

    @event(StockAdjusted)
    def _stock_adjusted(self, delta: int, reason: str, reference: str | None) -> None:
        self.stock += delta

    def crossings(self, delta: int) -> list[str]:
        """The thresholds the last change of `delta` crossed downward: `stock_low` when stock
        fell to the low-stock threshold or below it, `out_of_stock` when it fell to 0 or below."""
        if delta >= 0 or not self.track_stock:
            return []
        before, after = self.stock - delta, self.stock
        crossed = []
        threshold = self.low_stock_threshold
        if threshold is not None and before > threshold >= after:
            crossed.append("stock_low")
        if before > 0 >= after:
            crossed.append("out_of_stock")
        return crossed


def check_fields(fields: dict[str, Any]) -> None:
    """Refuse catalogue fields that break a rule."""
    sku = fields["sku"]
    if not isinstance(sku, str) or not sku.strip() or len(sku) > MAX_SKU_LENGTH:
        raise InvalidFieldError(f"sku is 1 to {MAX_SKU_LENGTH} characters.", field="sku")
    if not isinstance(fields["name"], str) or not fields["name"].strip():
        raise InvalidFieldError("A product needs a name.", field="name")
    price = fields["unit_price"]
    if not _is_count(price) or not 0 <= price <= MAX_AMOUNT:
        raise InvalidFieldError(f"unit_price is 0 to {MAX_AMOUNT} minor units.", field="unit_price")
    currency_exponent(fields["currency"])
    threshold = fields["low_stock_threshold"]
    if threshold is not None and (not _is_count(threshold) or not 0 <= threshold <= MAX_STOCK):
        raise InvalidFieldError(
            f"low_stock_threshold is 0 to {MAX_STOCK}.", field="low_stock_threshold"
        )


def _is_count(value: object) -> bool:
    """A whole number: an int that is not a bool (True would count as 1)."""
    return isinstance(value, int) and not isinstance(value, bool)
