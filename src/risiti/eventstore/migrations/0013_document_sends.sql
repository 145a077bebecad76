-- Sending invoices and reminders (docs/api.md, "Sending invoices and reminders").

-- Each account's reminder schedule: days relative to an invoice's due date (-3 is three days
-- before it, 0 the day itself, 7 a week after). Its Account event says the same; this copy is
-- what the reminders job reads.
ALTER TABLE account_settings ADD COLUMN reminder_days integer[] NOT NULL DEFAULT '{}';

-- One row per (send request, channel): the source of truth for sending, as webhook_deliveries
-- is for webhooks. The dispatcher inserts it (id derived from the invoice, the request and the
-- channel, so a batch applied again inserts nothing); Redis only wakes the workers.
CREATE TABLE document_sends (
    id              uuid        PRIMARY KEY,
    invoice_id      uuid        NOT NULL,
    account_id      uuid        NOT NULL,
    livemode        boolean     NOT NULL,
    request         integer     NOT NULL,
    channel         text        NOT NULL,
    recipient       text        NOT NULL,
    status          text        NOT NULL DEFAULT 'pending',
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    claimed_until   timestamptz,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX document_sends_due ON document_sends (next_attempt_at) WHERE status = 'pending';

-- The reminders already requested, one per (invoice, due date, schedule day): inserted in the
-- transaction that appends the reminder's request, so no reminder is requested twice, however
-- often (or late) the job runs. A due date moved later re-arms the schedule.
CREATE TABLE invoice_reminders (
    invoice_id    uuid        NOT NULL,
    due_date      date        NOT NULL,
    reminder_days integer     NOT NULL,
    requested_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (invoice_id, due_date, reminder_days)
);
