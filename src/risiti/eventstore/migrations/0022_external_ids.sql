-- External ids (docs/api.md, "External ids"): the id a business' old system gave a customer or a
-- tax rate, unique per account, mode and kind, written with the Created event that carries it
-- (commands/side_tables.py) and read to resolve a reference that is not one of our ids.
CREATE TABLE external_ids (
    account_id  uuid    NOT NULL,
    livemode    boolean NOT NULL,
    kind        text    NOT NULL,
    external_id text    NOT NULL,
    holder_id   uuid    NOT NULL UNIQUE,
    PRIMARY KEY (account_id, livemode, kind, external_id)
);

-- Customers and tax rates listed before they had an external_id read with it null.
UPDATE customers SET record = record || '{"external_id": null}' WHERE NOT record ? 'external_id';
UPDATE tax_rates SET record = record || '{"external_id": null}' WHERE NOT record ? 'external_id';
