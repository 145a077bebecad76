-- `q=<an email address>` finds that customer's invoices newest first straight from this index
-- (projections/invoice_list.py, customer_email_in), instead of fetching and sorting every match
-- of the word search.
CREATE INDEX invoice_list_by_customer_email
    ON invoice_list (account_id, livemode, lower(customer_email), created_at DESC, id DESC);
