-- Since when every delivery attempt to an endpoint has failed (null after a success): an
-- endpoint failing for 5 days is disabled (DESIGN.md §7).
ALTER TABLE webhook_endpoints ADD COLUMN failing_since timestamptz;
