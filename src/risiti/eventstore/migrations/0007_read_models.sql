-- invoice_list gains the columns its filters need; its position is reset so that the projector
-- rebuilds it from the log with them (a read model is only ever a function of the log).
TRUNCATE invoice_list;
DELETE FROM log_positions WHERE follower = 'projection:invoice_list';
-- The document is kept as the JSON text it was written as (key order included), so that a list
-- answers it without decoding and encoding it again.
ALTER TABLE invoice_list ALTER COLUMN document TYPE json USING document::json;
ALTER TABLE invoice_list
    ADD COLUMN view_token     text     NOT NULL DEFAULT '',
    ADD COLUMN customer_id    uuid,
    ADD COLUMN customer_email text,
    ADD COLUMN reference      text,
    ADD COLUMN amount_paid    bigint   NOT NULL DEFAULT 0,
    ADD COLUMN search         tsvector NOT NULL DEFAULT ''::tsvector;
CREATE INDEX invoice_list_by_customer
    ON invoice_list (account_id, livemode, customer_id, created_at DESC, id DESC);
CREATE INDEX invoice_list_by_type
    ON invoice_list (account_id, livemode, type, created_at DESC, id DESC);
CREATE INDEX invoice_list_by_currency
    ON invoice_list (account_id, livemode, currency, created_at DESC, id DESC);
CREATE INDEX invoice_list_by_due_date ON invoice_list (account_id, livemode, due_date);
CREATE INDEX invoice_list_search ON invoice_list USING gin (search);

-- The balances projection: each invoice's contribution, and their sums per customer and per
-- account (customer_id NULL) in each currency. Overdue amounts and aging depend on the day they
-- are read, so they are summed at read time from the outstanding invoices alone.
CREATE TABLE invoice_balances (
    invoice_id  uuid    PRIMARY KEY,
    account_id  uuid    NOT NULL,
    livemode    boolean NOT NULL,
    customer_id uuid,
    currency    text    NOT NULL,
    due_date    date,
    invoiced    bigint  NOT NULL,
    paid        bigint  NOT NULL,
    outstanding bigint  NOT NULL
);
CREATE INDEX invoice_balances_outstanding
    ON invoice_balances (account_id, livemode, currency, due_date) WHERE outstanding > 0;
CREATE INDEX invoice_balances_by_customer
    ON invoice_balances (account_id, livemode, customer_id) WHERE outstanding > 0;

CREATE TABLE balances (
    account_id  uuid    NOT NULL,
    livemode    boolean NOT NULL,
    customer_id uuid,
    currency    text    NOT NULL,
    invoiced    bigint  NOT NULL,
    paid        bigint  NOT NULL,
    outstanding bigint  NOT NULL
);
CREATE UNIQUE INDEX balances_key
    ON balances (account_id, livemode, currency, customer_id) NULLS NOT DISTINCT;

-- The account's event feed (`GET /v1/events`): every public event the dispatcher derives, in
-- log order, with the very payload its webhooks carry.
CREATE TABLE account_events (
    seq        bigserial   PRIMARY KEY,
    id         text        NOT NULL UNIQUE,
    account_id uuid        NOT NULL,
    livemode   boolean     NOT NULL,
    type       text        NOT NULL,
    created_at timestamptz NOT NULL,
    payload    json        NOT NULL
);
CREATE INDEX account_events_feed ON account_events (account_id, livemode, seq);
CREATE INDEX account_events_by_type ON account_events (account_id, livemode, type, seq);
