-- Which table or query of a database source `ops.<table_name>` was read from. `source` holds only the URL, so
-- two tables of one database with the same name in different schemas (sales.contacts, crm.contacts) were
-- taken for one source (the second push silently replaced the first's rows), and the Postgres write-back
-- guessed `<schema>.<table_name>` (public.contacts for crm."Contacts"; a --query's name for a table).
-- NULL for files, and for rows extracted before this migration (then the old rules apply).
ALTER TABLE ops.source_tables ADD COLUMN IF NOT EXISTS source_table VARCHAR;  -- schema.table as read (case kept)
ALTER TABLE ops.source_tables ADD COLUMN IF NOT EXISTS source_query VARCHAR;  -- the --query SQL
