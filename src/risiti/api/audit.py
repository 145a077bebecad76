"""Auditors' endpoints (docs/auditing.md): an invoice's history, and the account's checkpoints
to keep copies of. `GET /v1/invoices/{id}?as_of=…|version=…` is in `invoices`."""

from __future__ import annotations

from aiohttp import web

from risiti.api.envelope import ok, page, parse_query
from risiti.api.keys import CALLER, ledger_for
from risiti.api.models import CheckpointsQuery
from risiti.queries import audit


async def invoice_history(request: web.Request) -> web.Response:
    history = await audit.invoice_history(
        ledger_for(request), request[CALLER], request.match_info["id"]
    )
    return ok(
        {
            "object": "invoice_history",
            "invoice_id": str(history.invoice_id),
            "document_number": history.document_number,
            "events": [entry.as_json() for entry in history.entries],
        }
    )


async def list_checkpoints(request: web.Request) -> web.Response:
    query = parse_query(request, CheckpointsQuery)
    found = await audit.account_checkpoints(
        ledger_for(request),
        request[CALLER],
        after_sequence=query.cursor or 0,
        limit=query.limit + 1,
    )
    shown = found[: query.limit]
    has_more = len(found) > query.limit
    return page(
        [audit.checkpoint_json(checkpoint) for checkpoint in shown],
        has_more=has_more,
        next_cursor=str(shown[-1].sequence) if has_more else None,
    )
