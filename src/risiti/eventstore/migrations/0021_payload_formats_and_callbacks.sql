-- Webhook endpoints have a payload format (DESIGN.md §11): `risiti` (§7) or `kredo`. The
-- dispatcher's copy keeps it, and the listed records of endpoints registered before now say so.
ALTER TABLE webhook_endpoints ADD COLUMN payload_format text NOT NULL DEFAULT 'risiti';
UPDATE webhook_endpoint_records SET record = record || '{"payload_format": "risiti"}'
WHERE NOT record ? 'payload_format';

-- An invoice's callback (Paycashless' `callbackUrl`) is delivered like a webhook, to a copy row
-- of its own in webhook_endpoints (subscribed to nothing, so no event finds it), signed by the
-- secrets of the account's callback signer in webhook_secrets: `signed_by` names it. Null for
-- an endpoint, which its own secrets sign.
ALTER TABLE webhook_endpoints ADD COLUMN signed_by uuid;

-- The `webhook-id` of a delivery whose body has no `id` of its own (a Kredo-format body); null
-- for Risiti's payloads, whose `id` is it.
ALTER TABLE webhook_deliveries ADD COLUMN event_id text;
