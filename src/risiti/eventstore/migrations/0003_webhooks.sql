-- Endpoint secrets live beside the log, not in it, so that an export of the log leaks none.
CREATE TABLE webhook_secrets (
    endpoint_id uuid        NOT NULL,
    secret      text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz,
    PRIMARY KEY (endpoint_id, secret)
);

-- The dispatcher's view of the endpoints, maintained from the log in log order.
CREATE TABLE webhook_endpoints (
    id         uuid    PRIMARY KEY,
    account_id uuid    NOT NULL,
    livemode   boolean NOT NULL,
    url        text    NOT NULL,
    events     text[]  NOT NULL,
    enabled    boolean NOT NULL DEFAULT true
);
CREATE INDEX webhook_endpoints_by_account ON webhook_endpoints (account_id, livemode);

-- One row per (event, endpoint): the source of truth for delivery; Redis only wakes workers.
CREATE TABLE webhook_deliveries (
    id              uuid        PRIMARY KEY,
    endpoint_id     uuid        NOT NULL,
    account_id      uuid        NOT NULL,
    livemode        boolean     NOT NULL,
    event_type      text        NOT NULL,
    payload         text        NOT NULL,
    status          text        NOT NULL DEFAULT 'pending',
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    claimed_until   timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';

CREATE TABLE webhook_attempts (
    delivery_id      uuid        NOT NULL,
    attempt          integer     NOT NULL,
    attempted_at     timestamptz NOT NULL DEFAULT now(),
    status_code      integer,
    latency_ms       integer     NOT NULL,
    response_excerpt text,
    error            text,
    PRIMARY KEY (delivery_id, attempt)
);
