"""`PostgresSource`: a Postgres database holding Ops tables (the URL is a secret: it carries the password)."""

from __future__ import annotations

from prefect.blocks.core import Block
from pydantic import Field, SecretStr

from blocks._assets import logo_url
from blocks._load import check_saved, load_block

_CREATE_HINT = (
    "save one in the Prefect UI (Blocks > Postgres Source) or with PostgresSource(url=...).save(NAME)"
)


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
    _code_example = """```python
from blocks import PostgresSource

source = PostgresSource.load("crm")
url = source.url.get_secret_value()  # postgresql://user:password@host:5432/dbname
```"""
    # Prefect types these ClassVar[HttpUrl | None]; a URL string serves (its BlockType model validates it).
    _documentation_url = "https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNSTRING"  # type: ignore[assignment]
    _logo_url = logo_url("postgres-source")  # type: ignore[assignment]

    url: SecretStr = Field(
        ...,
        title="Connection URL",
        description="postgresql://user:password@host:5432/dbname (kept secret: it holds the password).",
    )
    schema_name: str = Field(
        "public", title="Schema", description="Schema of the tables, when a table name has none."
    )


def load_postgres_source(name: str) -> PostgresSource:
    """The saved Postgres Source block `name`.

    Raises:
        OpsError: no such block (one line, with how to create it).
    """
    return load_block(PostgresSource, name, hint=_CREATE_HINT)


def check_postgres_source_saved(name: str) -> None:
    """Fail at once, without starting Prefect's temporary API, when no Postgres Source block `name` is
    certainly saved (blocks/_local.py); when that cannot be known (PREFECT_API_URL set), do nothing.

    Raises:
        OpsError: the error `load_postgres_source(name)` raises for a missing block.
    """
    check_saved(PostgresSource, name, hint=_CREATE_HINT)
