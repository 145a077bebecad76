-- Secret keys, stored hashed, written in the same transaction as the Account event that made them.
CREATE TABLE api_keys (
    key_hash   bytea       PRIMARY KEY,
    key_id     text        NOT NULL UNIQUE,
    account_id uuid        NOT NULL,
    livemode   boolean     NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);

-- Gap-free document numbers: the counter moves in the transaction that appends `Finalized`,
-- so a rolled-back finalization gives its number back.
CREATE TABLE document_numbers (
    account_id  uuid    NOT NULL,
    livemode    boolean NOT NULL,
    prefix      text    NOT NULL,
    year        integer NOT NULL,
    last_number integer NOT NULL,
    PRIMARY KEY (account_id, livemode, prefix, year)
);

-- Invoices are addressable by their hosted-page token; the token never leaves this table and
-- the invoice's own events.
CREATE TABLE invoice_tokens (
    token      text PRIMARY KEY,
    invoice_id uuid NOT NULL UNIQUE
);

-- Document numbers resolve to invoice ids for `GET /v1/invoices/INV-2026-0001`.
CREATE TABLE invoice_numbers (
    account_id      uuid    NOT NULL,
    livemode        boolean NOT NULL,
    document_number text    NOT NULL,
    invoice_id      uuid    NOT NULL,
    PRIMARY KEY (account_id, livemode, document_number)
);
