-- Signatures of signed requests already accepted (DESIGN.md §6, eventstore/request_signatures.py):
-- a second request with the same signature within its window is `signature_replayed`. The digest
-- is the SHA-256 of the signature's bytes. The worker forgets rows older than the window
-- (workers/housekeeping.py); the index on seen_at keeps that a short range delete.
CREATE TABLE request_signatures (
    digest bytea PRIMARY KEY,
    account_id uuid NOT NULL,
    seen_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX request_signatures_by_seen_at ON request_signatures (seen_at);
