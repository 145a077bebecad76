-- The invoice_list read model (projections/invoice_list.py).
CREATE TABLE invoice_list (
    id              uuid        PRIMARY KEY,
    account_id      uuid        NOT NULL,
    livemode        boolean     NOT NULL,
    type            text        NOT NULL,
    status          text        NOT NULL,
    currency        text        NOT NULL,
    document_number text,
    customer_name   text        NOT NULL,
    total           bigint      NOT NULL,
    amount_due      bigint      NOT NULL,
    due_date        date,
    created_at      timestamptz NOT NULL,
    version         bigint      NOT NULL,
    document        jsonb       NOT NULL
);
-- Newest first, with the id as the tie-breaker that makes the cursor stable.
CREATE INDEX invoice_list_newest ON invoice_list (account_id, livemode, created_at DESC, id DESC);
CREATE INDEX invoice_list_by_status
    ON invoice_list (account_id, livemode, status, created_at DESC, id DESC);
