-- The words `q` searches are worked out by PostgreSQL from the row's own columns (the document
-- number, the customer's name and email, the reference), as a generated column: the one home of
-- that rule, the same words as before (to_tsvector counts words, not the blanks between them),
-- and a rebuild can COPY rows into an empty table without computing it first
-- (projections/parallel_replay.py). Replacing the column rewrites the table once.
ALTER TABLE invoice_list DROP COLUMN search;
ALTER TABLE invoice_list ADD COLUMN search tsvector GENERATED ALWAYS AS (
    to_tsvector('simple', coalesce(document_number, '') || ' ' || customer_name || ' '
        || coalesce(customer_email, '') || ' ' || coalesce(reference, ''))
) STORED;
CREATE INDEX invoice_list_search ON invoice_list USING gin (search);
