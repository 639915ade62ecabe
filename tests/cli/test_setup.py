"""`ops-instantly setup` registers the block types with the Prefect API in use."""

from __future__ import annotations

from tests.cli._cli_helpers import run_cli


def test_setup_registers_every_block_type(prefect_harness, capsys) -> None:
    from prefect.client.orchestration import get_client

    result = run_cli(capsys, "setup")
    assert result.code == 0, result.err
    slugs = ("instantly-credentials", "duckdb-warehouse", "postgres-source")
    with get_client(sync_client=True) as client:
        for slug in slugs:
            assert client.read_block_type_by_slug(slug).slug == slug
            assert f"registered block type {slug}" in result.out
        schema = client.get_most_recent_block_schema_for_block_type(
            client.read_block_type_by_slug("instantly-credentials").id
        )
    assert "api_key" in schema.fields["secret_fields"]
