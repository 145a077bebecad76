"""The per-aggregate hash chain that makes an altered event evident (DESIGN.md §3).

hash(n) = SHA-256( hash(n-1) ‖ originator_id (16 bytes) ‖ originator_version (8 bytes, big-endian)
                   ‖ len(topic) (4 bytes, big-endian) ‖ topic (UTF-8) ‖ state )
with hash(0) = 32 zero bytes. The lengths make the encoding unambiguous.
"""

from __future__ import annotations

import hashlib
from uuid import UUID

GENESIS = bytes(32)


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
