"""The hashes that make an altered, deleted or reordered event evident (DESIGN.md §3,
docs/auditing.md).

Each event, chained to the event before it of the same aggregate:

    hash(n) = SHA-256( hash(n-1) ‖ originator_id (16 bytes) ‖ originator_version (8 bytes,
                       big-endian) ‖ len(topic) (4 bytes, big-endian) ‖ topic (UTF-8) ‖ state )

with hash(0) = 32 zero bytes. The lengths make the encoding unambiguous.

Each checkpoint, per account, chained to the account's checkpoint before it:

    root(k) = SHA-256( root(k-1) ‖ account_id (16 bytes) ‖ after.transaction_id (8)
                       ‖ after.position (8) ‖ up_to.transaction_id (8) ‖ up_to.position (8)
                       ‖ for each of the account's events e with after < (e.transaction_id,
                         e.position) <= up_to, in that order:
                         e.transaction_id (8) ‖ e.position (8) ‖ e.hash (32) )

with root(0) = 32 zero bytes, every integer unsigned big-endian, and the nil UUID as the
account of events that belong to none. A deleted aggregate takes its own chain with it, but
not the checkpoint root that covered its events.
"""

from __future__ import annotations

import hashlib
from uuid import UUID

GENESIS = bytes(32)
NO_ACCOUNT = UUID(int=0)


def chain_hash(
    previous: bytes, originator_id: UUID, originator_version: int, topic: str, state: bytes
) -> bytes:
    """The hash of one event, chained to the hash of the aggregate's event before it."""
    topic_bytes = topic.encode()
    digest = hashlib.sha256(previous)
    digest.update(originator_id.bytes)
    digest.update(originator_version.to_bytes(8, "big"))
    digest.update(len(topic_bytes).to_bytes(4, "big"))
    digest.update(topic_bytes)
    digest.update(state)
    return digest.digest()


class CheckpointRoot:
    """The root of one checkpoint, fed its events one at a time in log order."""

    def __init__(
        self,
        previous_root: bytes,
        account_id: UUID,
        after: tuple[int, int],
        up_to: tuple[int, int],
    ) -> None:
        self._digest = hashlib.sha256(previous_root)
        self._digest.update(account_id.bytes)
        for number in (*after, *up_to):
            self._digest.update(number.to_bytes(8, "big"))
        self.event_count = 0

    def add(self, transaction_id: int, position: int, event_hash: bytes) -> None:
        self._digest.update(
            transaction_id.to_bytes(8, "big") + position.to_bytes(8, "big") + event_hash
        )
        self.event_count += 1

    def root(self) -> bytes:
        return self._digest.digest()
