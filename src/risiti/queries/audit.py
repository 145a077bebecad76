"""What auditors read (docs/auditing.md): an invoice's history event by event, the invoice as
it stood at an instant or a version, and the account's checkpoints.

Reads only: everything here is folded from the log as it is stored, with the same mapper and
the same `invoice_record` as today's read, so a past state reads exactly like a present one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper

from risiti.commands.caller import Caller
from risiti.commands.errors import CommandError, NotFoundError
from risiti.commands.ledger import Ledger, apply_recorded, rebuild
from risiti.domain.invoice import DELETED, Invoice
from risiti.eventstore import invoice_keys
from risiti.eventstore.checkpoints import Checkpoint, read_checkpoints
from risiti.eventstore.export import checkpoint_fields
from risiti.eventstore.recorder import RecordedEvent, read_aggregate
from risiti.queries.invoices import resolve_invoice_id

# What every event carries besides what it changed.
_ENVELOPE_FIELDS = frozenset(
    {"originator_id", "originator_version", "timestamp", "originator_topic", "class_version"}
)


class NoSuchVersionError(NotFoundError):
    """Raised when an invoice is asked for as of a version or an instant at which it did not
    exist (before its creation, past its latest version) or had been deleted."""

    def __init__(self, invoice_id: UUID, why: str) -> None:
        super().__init__("invoice", invoice_id)
        self.args = (f"Invoice {invoice_id} {why}.",)  # says more than "no invoice with id"


@dataclass(frozen=True)
class HistoryEntry:
    """One event of an invoice's history, as auditors read it."""

    version: int
    type: str
    recorded_at: datetime
    actor: str | None
    position: int
    hash: bytes
    changes: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "type": self.type,
            "recorded_at": self.recorded_at.isoformat(),
            "actor": self.actor,
            "position": self.position,
            "hash": self.hash.hex(),
            "changes": self.changes,
        }


@dataclass(frozen=True)
class InvoiceHistory:
    invoice_id: UUID
    document_number: str | None
    entries: list[HistoryEntry]


async def invoice_history(ledger: Ledger, caller: Caller, id_or_number: str) -> InvoiceHistory:
    """Every event of one of the caller's invoices, oldest first (deleted drafts too)."""
    invoice_id, records = await _owned_records(ledger, caller, id_or_number)
    invoice = rebuild(ledger.mapper, Invoice, invoice_id, records)
    return InvoiceHistory(
        invoice_id, invoice.document_number, [history_entry(ledger.mapper, r) for r in records]
    )


def history_entry(mapper: Mapper[UUID], record: RecordedEvent) -> HistoryEntry:
    """A recorded event as a history entry: its past-tense name and what it changed."""
    event: Any = mapper.to_domain_event(record.as_stored_event())
    fields = {k: v for k, v in vars(event).items() if k not in _ENVELOPE_FIELDS}
    # An event whose one field is `changes` (Updated) lists them directly.
    changes = fields["changes"] if set(fields) == {"changes"} else fields
    return HistoryEntry(
        version=record.originator_version,
        type=record.topic.rpartition(".")[2],
        recorded_at=record.recorded_at,
        actor=record.actor,
        position=record.position,
        hash=record.hash,
        changes=json_ready(changes),
    )


async def invoice_at(
    ledger: Ledger,
    caller: Caller,
    id_or_number: str,
    *,
    as_of: datetime | None = None,
    version: int | None = None,
) -> Invoice:
    """One of the caller's invoices folded from its events up to an instant (inclusive) or a
    version; NoSuchVersionError where it did not exist then or had been deleted."""
    invoice_id, records = await _owned_records(ledger, caller, id_or_number)
    latest = records[-1].originator_version
    if version is not None:
        if version > latest:
            raise NoSuchVersionError(
                invoice_id, f"has no version {version}; its latest is {latest}"
            )
        records = [r for r in records if r.originator_version <= version]
    if as_of is not None:
        records = [r for r in records if r.recorded_at <= as_of]
        if not records:
            raise NoSuchVersionError(invoice_id, f"did not exist yet at {as_of.isoformat()}")
    invoice = rebuild(ledger.mapper, Invoice, invoice_id, records)
    if invoice.status == DELETED:
        raise NoSuchVersionError(invoice_id, f"was deleted at version {invoice.version}")
    return invoice


async def _owned_records(
    ledger: Ledger, caller: Caller, id_or_number: str
) -> tuple[UUID, list[RecordedEvent]]:
    """An invoice's recorded events, if it is the caller's (account and mode)."""
    invoice_id = await resolve_invoice_id(ledger, caller, id_or_number)
    async with ledger.connection() as conn:
        records = await read_aggregate(conn, invoice_id)
    first = records[0] if records else None
    if (
        first is None
        or not first.topic.startswith("risiti.domain.invoice:")
        or first.account_id != caller.account_id
        or first.livemode != caller.livemode
    ):
        raise NotFoundError("invoice", id_or_number)
    return invoice_id, records


async def account_checkpoints(
    ledger: Ledger, caller: Caller, *, after_sequence: int, limit: int
) -> list[Checkpoint]:
    """The caller's account's checkpoints, oldest first (both modes share them)."""
    async with ledger.connection() as conn:
        return await read_checkpoints(
            conn, caller.account_id, after_sequence=after_sequence, limit=limit
        )


def checkpoint_json(checkpoint: Checkpoint) -> dict[str, Any]:
    """A checkpoint as the API shows it: the fields an export gives it."""
    return {"object": "checkpoint", **checkpoint_fields(checkpoint)}


def json_ready(value: Any) -> Any:
    """An event's values as JSON: ids and decimals as strings, moments in ISO 8601."""
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    if isinstance(value, UUID | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


class AmbiguousNumberError(CommandError):
    """Raised when a document number names invoices of several accounts or modes and the
    operator did not say which."""

    def __init__(self, number: str, found: list[invoice_keys.NumberedInvoice]) -> None:
        where = ", ".join(f"{f.account_id} ({'live' if f.livemode else 'test'})" for f in found)
        super().__init__(f"{number} is the number of invoices in {where}; name the account.")


async def invoice_story(
    ledger: Ledger,
    id_or_number: str,
    *,
    account_id: UUID | None = None,
    livemode: bool | None = None,
) -> list[str]:
    """The story of one invoice for a terminal: each event, who and when, and where it left the
    invoice (operators' `risiti history`; any account, since they run it on the server)."""
    invoice_id = await _any_invoice_id(ledger, id_or_number, account_id, livemode)
    async with ledger.connection() as conn:
        records = await read_aggregate(conn, invoice_id)
    if not records or not records[0].topic.startswith("risiti.domain.invoice:"):
        raise NotFoundError("invoice", id_or_number)
    lines = []
    invoice: Any = None
    for record in records:
        entry = history_entry(ledger.mapper, record)
        invoice = apply_recorded(ledger.mapper, record, invoice)
        lines.append(
            f"v{entry.version:<3} {entry.recorded_at:%Y-%m-%d %H:%M:%S.%f %Z}  {entry.type:<16}"
            f" by {entry.actor or '(not recorded)'}"
        )
        lines.append(f"     {_standing(invoice)}")
        lines.append(f"     {_abridged(entry.changes)}")
    number = invoice.document_number or "(draft)"
    mode = "live" if invoice.livemode else "test"
    head = f"{number}  invoice {invoice_id}  account {invoice.account_id} ({mode})"
    return [head, *lines]


async def _any_invoice_id(
    ledger: Ledger, id_or_number: str, account_id: UUID | None, livemode: bool | None
) -> UUID:
    try:
        return UUID(id_or_number)
    except ValueError:
        pass
    async with ledger.connection() as conn:
        found = await invoice_keys.find_invoices_numbered(conn, id_or_number, account_id, livemode)
    if not found:
        raise NotFoundError("invoice", id_or_number)
    if len(found) > 1:
        raise AmbiguousNumberError(id_or_number, found)
    return found[0].invoice_id


def _standing(invoice: Invoice) -> str:
    if invoice.status == DELETED:
        return "status deleted"
    return (
        f"status {invoice.status}, paid {invoice.amount_paid} of {invoice.totals.total}"
        f" {invoice.currency}, due {invoice.amount_due}"
    )


def _abridged(changes: dict[str, Any], width: int = 160) -> str:
    text = json.dumps(changes, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= width else text[: width - 1] + "…"
