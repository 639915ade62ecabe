-- A connected table read from one sheet of a workbook, or through a Postgres query (`connect-table --sheet /
-- --query`): a scheduled push read a workbook's first sheet only, and a query could not be connected.
-- NULL: the first sheet; the table named by table_name.
ALTER TABLE ops.connections ADD COLUMN IF NOT EXISTS sheet VARCHAR;  -- the workbook's sheet (--sheet)
ALTER TABLE ops.connections ADD COLUMN IF NOT EXISTS query VARCHAR;  -- the Postgres query read (--query)
