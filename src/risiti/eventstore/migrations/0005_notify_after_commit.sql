-- A NOTIFY inside the writing transaction makes PostgreSQL serialise commits (one database-wide
-- lock held through the WAL flush), so concurrent writers could not share flushes. Writers now
-- notify after their commit instead (risiti.eventstore.recorder.notify_appended).
DROP TRIGGER events_appended ON events;
DROP FUNCTION notify_events_appended();
