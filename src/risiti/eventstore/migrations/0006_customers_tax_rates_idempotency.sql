-- Customers and tax rates as commands need them: written in the transaction that appends their
-- Created event, so an invoice can name one the moment it exists, and an inline customer's email
-- finds the customer it belongs to.
CREATE TABLE customers (
    id         uuid        PRIMARY KEY,
    account_id uuid        NOT NULL,
    livemode   boolean     NOT NULL,
    email      text,
    created_at timestamptz NOT NULL,
    record     jsonb       NOT NULL
);
CREATE UNIQUE INDEX customers_by_email ON customers (account_id, livemode, email)
    WHERE email IS NOT NULL;
CREATE INDEX customers_newest ON customers (account_id, livemode, created_at DESC, id DESC);

CREATE TABLE tax_rates (
    id         uuid        PRIMARY KEY,
    account_id uuid        NOT NULL,
    livemode   boolean     NOT NULL,
    created_at timestamptz NOT NULL,
    record     jsonb       NOT NULL
);
CREATE INDEX tax_rates_newest ON tax_rates (account_id, livemode, created_at DESC, id DESC);

-- The first response to each Idempotency-Key, stored in the transaction of the events it made.
CREATE TABLE idempotency_keys (
    account_id  uuid        NOT NULL,
    livemode    boolean     NOT NULL,
    key         text        NOT NULL,
    fingerprint bytea       NOT NULL,
    status      integer     NOT NULL,
    headers     jsonb       NOT NULL,
    body        bytea       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, livemode, key)
);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);

-- Accounts that sign their requests (DESIGN.md §6); the flag is checked on every request.
CREATE TABLE account_settings (
    account_id              uuid    PRIMARY KEY,
    require_signed_requests boolean NOT NULL DEFAULT false
);
