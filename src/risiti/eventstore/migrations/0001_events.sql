-- The event log (DESIGN.md §3). It is also the outbox: everything downstream derives from it.
CREATE TABLE events (
    position           bigserial   NOT NULL,
    transaction_id     xid8        NOT NULL DEFAULT pg_current_xact_id(),
    originator_id      uuid        NOT NULL,
    originator_version bigint      NOT NULL,
    topic              text        NOT NULL,
    state              bytea       NOT NULL,
    account_id         uuid,
    livemode           boolean,
    recorded_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    hash               bytea       NOT NULL,
    PRIMARY KEY (originator_id, originator_version)
);

-- Followers of the whole log read in (transaction_id, position) order.
CREATE UNIQUE INDEX events_log_order ON events (transaction_id, position);
CREATE INDEX events_account_log_order ON events (account_id, transaction_id, position);

-- One notification per writing statement wakes every follower; polling covers the rest.
CREATE FUNCTION notify_events_appended() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('risiti_events', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER events_appended AFTER INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION notify_events_appended();

-- Where each follower of the log (projection, dispatcher) has got to.
CREATE TABLE log_positions (
    follower       text   PRIMARY KEY,
    transaction_id xid8   NOT NULL DEFAULT '0',
    position       bigint NOT NULL DEFAULT 0
);
