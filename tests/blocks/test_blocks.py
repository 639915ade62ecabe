"""Blocks: credentials from the environment or a saved block, never leaking the key."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from blocks import DuckDBWarehouse, InstantlyCredentials, resolve_credentials, resolve_warehouse
from ops_instantly.errors import OpsError


def test_credentials_come_from_the_environment_when_no_block_is_named(monkeypatch) -> None:
    monkeypatch.setenv("INSTANTLY_API_KEY", "env-key-123")
    monkeypatch.setenv("INSTANTLY_BASE_URL", "http://127.0.0.1:9/api/v2")
    monkeypatch.setenv("INSTANTLY_RATE_PER_SECOND", "7")
    monkeypatch.setenv("INSTANTLY_RATE_PER_MINUTE", "300")
    creds = resolve_credentials(None)
    assert creds.api_key.get_secret_value() == "env-key-123"
    assert creds.base_url == "http://127.0.0.1:9/api/v2"
    assert (creds.rate_per_second, creds.rate_per_minute) == (7, 300)
    assert "env-key-123" not in repr(creds)


def test_a_missing_key_is_a_one_line_error_naming_the_variable(monkeypatch) -> None:
    monkeypatch.delenv("INSTANTLY_API_KEY", raising=False)
    with pytest.raises(OpsError, match="INSTANTLY_API_KEY") as err:
        resolve_credentials(None)
    assert "\n" not in str(err.value)


def test_a_rate_above_the_workspace_ceiling_is_refused(monkeypatch) -> None:
    monkeypatch.setenv("INSTANTLY_API_KEY", "k")
    monkeypatch.setenv("INSTANTLY_RATE_PER_SECOND", "500")
    with pytest.raises(OpsError, match="INSTANTLY_"):
        resolve_credentials(None)


def test_the_client_gets_the_block_settings_and_hides_the_key(sandbox) -> None:
    creds = InstantlyCredentials(api_key=SecretStr(sandbox.api_key), base_url=sandbox.base_url)
    with creds.get_client() as client:
        assert list(client.campaigns.list()) == []
        assert sandbox.api_key not in repr(client)
    assert sandbox.api_key not in creds.workspace_key


def test_the_warehouse_path_follows_ops_warehouse(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("OPS_WAREHOUSE", str(tmp_path / "w.duckdb"))
    assert resolve_warehouse().path == tmp_path / "w.duckdb"
    assert DuckDBWarehouse().get_warehouse().path == tmp_path / "w.duckdb"
    assert resolve_warehouse(path=str(tmp_path / "x.duckdb")).path == tmp_path / "x.duckdb"


def test_a_saved_block_loads_back_with_its_secret(prefect_harness) -> None:
    InstantlyCredentials(api_key=SecretStr("saved-key"), base_url="http://127.0.0.1:9/api/v2").save(
        "test-blocks", overwrite=True
    )
    loaded = resolve_credentials("test-blocks")
    assert loaded.api_key.get_secret_value() == "saved-key"
    with pytest.raises(OpsError, match="No InstantlyCredentials block named 'nope'"):
        resolve_credentials("nope")


def test_a_global_rate_limit_takes_one_prefect_slot_per_request(prefect_harness, sandbox) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate

    with get_client(sync_client=True) as prefect:
        prefect.create_global_concurrency_limit(
            GlobalConcurrencyLimitCreate(name="instantly-test", limit=100, slot_decay_per_second=0.01)
        )
        creds = InstantlyCredentials(
            api_key=SecretStr(sandbox.api_key), base_url=sandbox.base_url, global_rate_limit="instantly-test"
        )
        with creds.get_client() as client:
            for _ in range(5):
                list(client.campaigns.list())
        taken = prefect.read_global_concurrency_limit_by_name("instantly-test").active_slots
    assert taken >= 4  # five requests, slots decaying at 0.01/s


def test_a_missing_global_rate_limit_is_an_error_not_a_silent_pass(prefect_harness, sandbox) -> None:
    creds = InstantlyCredentials(
        api_key=SecretStr(sandbox.api_key), base_url=sandbox.base_url, global_rate_limit="no-such-limit"
    )
    with creds.get_client() as client, pytest.raises(Exception, match="no-such-limit"):
        list(client.campaigns.list())
