-- Paystack inbound (docs/api.md, "Paystack"): each account's Paystack secret keys, one per mode
-- (Paystack's test and live keys differ, and a test charge must never pay a live invoice). They
-- are kept here, beside the log, never in an event: the account's event records only that a key
-- was set.
ALTER TABLE account_settings
    ADD COLUMN paystack_secret_key_test text,
    ADD COLUMN paystack_secret_key_live text;

-- The Paystack charges already recorded, by Paystack's reference: inserted in the transaction
-- that records the payment, so a webhook Paystack sends again records nothing the second time.
CREATE TABLE paystack_payments (
    reference   text        PRIMARY KEY,
    invoice_id  uuid        NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
