"""`PostgresSource`: a Postgres database holding Ops tables (the URL is a secret: it carries the password)."""

from __future__ import annotations

from prefect.blocks.core import Block
from pydantic import Field, SecretStr


class PostgresSource(Block):
    """A Postgres connection for reading Ops tables (and optional engagement write-back).

    Example:
        ```python
        from blocks import PostgresSource

        src = PostgresSource.load("crm")
        url = src.url.get_secret_value()
        ```
    """

    _block_type_name = "Postgres Source"
    _block_type_slug = "postgres-source"
    _description = "A Postgres database with Ops tables, as a postgresql:// URL held as a secret."
    _code_example = 'src = PostgresSource.load("crm")'

    url: SecretStr = Field(..., description="postgresql://user:password@host:5432/dbname")
    schema_name: str = Field("public", description="Schema of the tables (when --table is unqualified).")
