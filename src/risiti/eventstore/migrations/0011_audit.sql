-- Auditing (docs/auditing.md). Who appended each event: an API key id (`key_test_…`), a job
-- (`job:overdue`), an integration (`paystack`) or a command-line tool (`cli:accounts`). Events
-- appended before this column existed have none.
ALTER TABLE events ADD COLUMN actor text;

-- Checkpoints: per account, a root hash over the account's events of one range of the log, in
-- (transaction_id, position) order and below the xid horizon, chained to the account's previous
-- checkpoint. Deleting a whole aggregate, whose own hash chain vanishes with it, changes the
-- root of the checkpoint that covered it. The rule is in risiti.eventstore.hashchain.
-- `account_id` is the nil UUID for events that belong to no account.
CREATE TABLE audit_checkpoints (
    id                   bigserial   PRIMARY KEY,
    account_id           uuid        NOT NULL,
    sequence             bigint      NOT NULL,
    after_transaction_id xid8        NOT NULL,
    after_position       bigint      NOT NULL,
    up_to_transaction_id xid8        NOT NULL,
    up_to_position       bigint      NOT NULL,
    event_count          bigint      NOT NULL,
    previous_root        bytea       NOT NULL,
    root                 bytea       NOT NULL,
    created_at           timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, sequence)
);

-- The last event of each aggregate a checkpoint covered. Not part of the root: it only lets
-- `risiti verify` say which aggregate a broken checkpoint lost, moved or altered.
CREATE TABLE audit_checkpoint_heads (
    checkpoint_id      bigint NOT NULL REFERENCES audit_checkpoints (id),
    originator_id      uuid   NOT NULL,
    originator_version bigint NOT NULL,
    transaction_id     xid8   NOT NULL,
    position           bigint NOT NULL,
    hash               bytea  NOT NULL,
    PRIMARY KEY (checkpoint_id, originator_id)
);
