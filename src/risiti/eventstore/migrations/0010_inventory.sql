-- Inventory (docs/api.md, "Inventory").

-- Products as the API lists them, written in the transaction of each of their events (so `stock`
-- is always the log's); the sku is unique per account and mode.
CREATE TABLE products (
    id         uuid        PRIMARY KEY,
    account_id uuid        NOT NULL,
    livemode   boolean     NOT NULL,
    sku        text        NOT NULL,
    created_at timestamptz NOT NULL,
    record     jsonb       NOT NULL
);
CREATE UNIQUE INDEX products_by_sku ON products (account_id, livemode, sku);
CREATE INDEX products_newest ON products (account_id, livemode, created_at DESC, id DESC);

-- Adjustments posted with a reference, written with their StockAdjusted event: the same
-- reference posted again finds its row and changes nothing.
CREATE TABLE stock_adjustments (
    product_id  uuid        NOT NULL,
    reference   text        NOT NULL,
    delta       integer     NOT NULL,
    reason      text        NOT NULL,
    stock_after integer     NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (product_id, reference)
);

-- Work the dispatcher found in the log: take an issued invoice's units from stock ('deduct'),
-- or give a voided invoice's back ('restore'). Inserted with the dispatcher's position; a job
-- claims its row by marking it done in the transaction that changes the stock.
CREATE TABLE inventory_jobs (
    id              uuid        PRIMARY KEY,
    invoice_id      uuid        NOT NULL,
    kind            text        NOT NULL CHECK (kind IN ('deduct', 'restore')),
    status          text        NOT NULL DEFAULT 'pending',
    attempts        integer     NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX inventory_jobs_pending ON inventory_jobs (created_at) WHERE status = 'pending';

-- What each invoice line did to stock, once: written with the product's StockAdjusted event, so
-- a job that runs twice finds its line done. `quantity` is what was actually taken (or given
-- back), which is what a void restores.
CREATE TABLE stock_movements (
    invoice_id uuid        NOT NULL,
    line       integer     NOT NULL,
    kind       text        NOT NULL CHECK (kind IN ('deduct', 'restore')),
    product_id uuid        NOT NULL,
    quantity   integer     NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (invoice_id, line, kind)
);

-- Whether stock may go below zero (PATCH /v1/account); by default it may not.
ALTER TABLE account_settings ADD COLUMN allow_negative_stock boolean NOT NULL DEFAULT false;
