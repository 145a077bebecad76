-- Aggregates a follower of the log could not apply (DESIGN.md §8, docs/operations.md): one row
-- per event it set aside, the first with the error that parked the aggregate, the later ones
-- queued behind it. The follower's position moves past them all; `risiti parked --retry`
-- applies them, in version order, after a fix, and deletes the rows.
CREATE TABLE parked_events (
    follower           text        NOT NULL,
    originator_id      uuid        NOT NULL,
    originator_version bigint      NOT NULL,
    account_id         uuid,
    transaction_id     xid8        NOT NULL,
    position           bigint      NOT NULL,
    error              text        NOT NULL,
    parked_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (follower, originator_id, originator_version)
);
