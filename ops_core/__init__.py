"""The bottom of the tree: rules every layer shares, with no imports from the project or a third party.

- `ops_core.errors`: `OpsError` (a one-line, user-facing problem) and how any exception prints as one line.
- `ops_core.emails`: the one email normaliser, in Python and as a DuckDB/Postgres SQL expression.
- `ops_core.sql`: quoting SQL identifiers and string literals.
- `ops_core.text`: white space as Python's str.strip() sees it, in SQL too (`trim_sql`).
- `ops_core.engagement`: a lead's email status and the rank tables that say which status is most advanced.
- `ops_core.settings`: the INSTANTLY_* environment settings, checked without importing Prefect.
- `ops_core.parsing`: parameter values the Prefect UI's form sends as text (`YYYY-MM-DD` days).
- `ops_core.urls`: a URL or libpq connection string without its password (`redact_url`), and any text
  with the passwords in it starred (`redact_passwords`), for messages and anything stored.

Every other package may import these; these import only the standard library (tests/test_import_rules.py).
"""
