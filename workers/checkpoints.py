"""The scheduled job that checkpoints the log (docs/auditing.md): every minute, a root hash per
account over the events that fell below the xid horizon since the last run, chained to the
account's previous checkpoint. Runs that overlap wait for each other; none covers an event twice.
"""

from __future__ import annotations

import logging
from typing import Any

from risiti.eventstore.checkpoints import record_checkpoints

log = logging.getLogger(__name__)


async def checkpoint_log(ctx: dict[str, Any]) -> int:
    """Checkpoint what is new in the log; how many checkpoints it recorded."""
    made = await record_checkpoints(ctx["pool"])
    if made:
        log.info(
            "recorded %d checkpoint(s) over %d event(s)",
            len(made),
            sum(c.event_count for c in made),
        )
    return len(made)
