-- Followers partitioned by account (docs/scaling.md, "Partitions"): partition k of N follows
-- only the events of the accounts with risiti_account_partition(account_id, N) = k, each with
-- its own row here. An aggregate never changes account, so its events stay in one partition,
-- in order. The hash is the first 32 bits of the md5 of the id's text, which Python computes
-- alike (eventstore/subscription.py, `account_partition`); events without an account are in
-- partition 0.
CREATE FUNCTION risiti_account_partition(account_id uuid, partitions integer) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT coalesce(
        (('x' || left(md5(account_id::text), 8))::bit(32)::bigint % partitions)::integer, 0) $$;

-- The partition a row's follower follows; 0 of 1 is the whole log (every row before this).
ALTER TABLE log_positions
    ADD COLUMN partition_index integer NOT NULL DEFAULT 0,
    ADD COLUMN partition_count integer NOT NULL DEFAULT 1;
