-- An amended invoice moves stock by the difference (docs/api.md, "Amending an issued invoice"):
-- one inventory job per `Amended` event ('amend'), and what each amendment did to each product's
-- stock, once: written with the product's StockAdjusted event, so an amendment applied finds its
-- rows. `quantity` is the units taken (positive) or given back (negative); a void gives back the
-- sum, and notes it as a row of its own version, so that the sum is then 0.
ALTER TABLE inventory_jobs DROP CONSTRAINT inventory_jobs_kind_check;
ALTER TABLE inventory_jobs
    ADD CONSTRAINT inventory_jobs_kind_check CHECK (kind IN ('deduct', 'restore', 'amend'));

CREATE TABLE stock_amendments (
    invoice_id      uuid        NOT NULL,
    invoice_version integer     NOT NULL,
    product_id      uuid        NOT NULL,
    quantity        bigint      NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (invoice_id, invoice_version, product_id)
);
