"""The scheduled job that marks invoices overdue and so fires `invoice.overdue` (DESIGN.md §7).

Each run marks every open or partly paid invoice past its due date (UTC, the day reads use) that
has not been marked for that due date yet; runs may overlap and repeat without a second event.
"""

from __future__ import annotations

import logging
from typing import Any

from risiti.commands.ledger import Ledger
from risiti.commands.overdue import mark_overdue_invoices
from risiti.domain import calendar

log = logging.getLogger(__name__)


async def mark_overdue(ctx: dict[str, Any]) -> int:
    """Mark what is newly overdue today; how many invoices it marked."""
    run = await mark_overdue_invoices(Ledger(ctx["pool"], actor="job:overdue"), calendar.today())
    if run.marked:
        log.info("marked %d of %d invoices overdue", run.marked, run.examined)
    return run.marked
