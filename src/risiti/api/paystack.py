"""Paystack inbound: `POST /v1/integrations/paystack/webhook` (docs/api.md, "Paystack").

Public (Paystack sends no API key): the signature, checked against the Paystack secret key of the
account and mode of the invoice the charge names, is the only credential. Paystack resends any
answer but a 2xx, so a charge the invoice refuses is answered 200 with `recorded: false` and the
reason: sending it again would be refused again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from risiti.api.envelope import ok, parse_body
from risiti.api.errors import ApiError, validation_error
from risiti.api.keys import LEDGER
from risiti.api.models import PaystackChargeEvent, PaystackWebhookRequest
from risiti.commands.paystack import (
    PAYSTACK_KEY_ID,
    PaystackCharge,
    PaystackSignatureError,
    record_paystack_charge,
)
from risiti.domain.invoice import Invoice

SIGNATURE_HEADER = "x-paystack-signature"


async def paystack_webhook(request: web.Request) -> web.Response:
    signature = request.headers.get(SIGNATURE_HEADER, "").strip()
    if not signature:
        raise ApiError(
            401, "signature_required", "Paystack webhooks carry an x-paystack-signature header."
        )
    event = await parse_body(request, PaystackWebhookRequest)
    if event.event != "charge.success":
        return ok(_result(event.event, recorded=False, reason="event_ignored"))
    data = (await parse_body(request, PaystackChargeEvent)).data
    metadata = data.metadata
    if metadata is None or (metadata.invoice_id is None and metadata.invoice_number is None):
        # A charge of the business's Paystack account that no Risiti invoice asked for.
        return ok(_result(event.event, recorded=False, reason="no_invoice_named"))
    if metadata.invoice_id is None and metadata.account_id is None:
        raise validation_error(
            [
                {
                    "field": "data.metadata.account_id",
                    "message": "an invoice_number needs the account_id whose number it is",
                }
            ]
        )
    if metadata.invoice_id is None and data.domain is None:
        raise validation_error(
            [{"field": "data.domain", "message": "an invoice_number needs the mode: test or live"}]
        )
    charge = PaystackCharge(
        reference=data.reference,
        amount=data.amount,
        currency=data.currency,
        paid_at=data.paid_at or datetime.now(UTC),
        invoice_id=metadata.invoice_id,
        invoice_number=metadata.invoice_number,
        account_id=metadata.account_id,
        livemode=data.domain == "live",
    )
    try:
        outcome = await record_paystack_charge(
            request.app[LEDGER].acting_as(PAYSTACK_KEY_ID), charge, await request.read(), signature
        )
    except PaystackSignatureError as error:
        raise ApiError(401, error.code, str(error)) from None
    return ok(
        _result(event.event, recorded=outcome.recorded, reason=outcome.reason, on=outcome.invoice)
    )


def _result(
    event: str, *, recorded: bool, reason: str | None, on: Invoice | None = None
) -> dict[str, Any]:
    return {
        "object": "paystack_webhook",
        "event": event,
        "recorded": recorded,
        "reason": reason,
        "invoice_id": str(on.id) if on is not None else None,
        "invoice_status": on.status if on is not None else None,
    }
