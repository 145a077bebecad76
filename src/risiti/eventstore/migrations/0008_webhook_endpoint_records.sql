-- The endpoints as the API lists them, written in each command's transaction (the dispatcher's
-- `webhook_endpoints` copy follows the log later). A deleted endpoint's row is removed.
CREATE TABLE webhook_endpoint_records (
    id         uuid        PRIMARY KEY,
    account_id uuid        NOT NULL,
    livemode   boolean     NOT NULL,
    created_at timestamptz NOT NULL,
    record     jsonb       NOT NULL
);
CREATE INDEX webhook_endpoint_records_by_account
    ON webhook_endpoint_records (account_id, livemode, created_at DESC, id DESC);

-- A delivery's attempts are read newest delivery first, per endpoint.
CREATE INDEX webhook_deliveries_by_endpoint
    ON webhook_deliveries (endpoint_id, created_at DESC, id DESC);

-- Endpoints registered before this migration: until now they could only be registered, so the
-- Registered event holds all there is to list (the same fields `webhook_endpoint_record` shows).
INSERT INTO webhook_endpoint_records (id, account_id, livemode, created_at, record)
SELECT e.originator_id, e.account_id, e.livemode, (s.state->'timestamp'->>'_data_')::timestamptz,
    jsonb_build_object(
        'id', e.originator_id::text,
        'object', 'webhook_endpoint',
        'url', s.state->>'url',
        'events', s.state->'events',
        'description', s.state->'description',
        'enabled', true,
        'livemode', e.livemode,
        'created_at', s.state->'timestamp'->>'_data_')
FROM events e
CROSS JOIN LATERAL (SELECT convert_from(e.state, 'UTF8')::jsonb AS state) s
WHERE e.topic = 'risiti.domain.webhook_endpoint:WebhookEndpoint.Registered'
    AND e.originator_version = 1
ON CONFLICT (id) DO NOTHING;
