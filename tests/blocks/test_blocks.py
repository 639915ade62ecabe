"""Blocks: credentials from the environment or a saved block, never leaking the key."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from blocks import (
    DuckDBWarehouse,
    InstantlyCredentials,
    PostgresSource,
    load_postgres_source,
    resolve_credentials,
    resolve_warehouse,
)
from ops_core.errors import OpsError


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


def test_a_missing_key_is_a_one_line_error_naming_the_variable(monkeypatch, no_default_block) -> None:
    # With no key, the block `default` is looked up: in the session's Prefect API, not a second ephemeral one.
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


def test_a_password_in_the_base_url_stays_out_of_the_repr_the_run_parameters_and_the_workspace_key() -> None:
    from flows.push_leads import push_leads

    creds = InstantlyCredentials(api_key=SecretStr("k"), base_url="http://user:SECRETpw@127.0.0.1:9/api/v2")
    recorded = push_leads.serialize_parameters({"credentials": creds})  # what Prefect stores with a run
    assert recorded["credentials"]["base_url"] == "http://user@127.0.0.1:9/api/v2"
    for text in (repr(creds), str(creds), creds.workspace_key):
        assert "SECRETpw" not in text and "user@127.0.0.1:9/api/v2" in text
    with creds.get_client() as client:
        assert client.base_url == creds.base_url  # the client is given the URL as it is


def test_a_saved_block_loads_back_with_its_secret(prefect_harness) -> None:
    # The base URL's password too: only a run's parameters and reprs leave it out, not the saved block.
    base_url = "http://user:SECRETpw@127.0.0.1:9/api/v2"
    InstantlyCredentials(api_key=SecretStr("saved-key"), base_url=base_url).save(
        "test-blocks", overwrite=True
    )
    loaded = resolve_credentials("test-blocks")
    assert loaded.api_key.get_secret_value() == "saved-key"
    assert loaded.base_url == base_url
    with pytest.raises(OpsError, match="No InstantlyCredentials block named 'nope'"):
        resolve_credentials("nope")


def test_every_missing_block_is_one_line_naming_the_closest_and_how_to_save_one(prefect_harness) -> None:
    PostgresSource(url=SecretStr("postgresql://u:pw@127.0.0.1:1/db")).save("crm-main", overwrite=True)
    assert load_postgres_source("crm-main").url.get_secret_value().endswith("/db")
    with pytest.raises(OpsError) as missing:
        load_postgres_source("crm-mian")
    text = str(missing.value)
    assert "No PostgresSource block named 'crm-mian' (did you mean 'crm-main'?)" in text
    assert "Prefect UI" in text and "ops-instantly connect`" not in text and "pw" not in text
    with pytest.raises(OpsError, match="No DuckDBWarehouse block named 'nowhere'"):
        resolve_warehouse(block_name="nowhere")


def test_a_global_rate_limit_takes_prefect_slots_a_small_batch_at_a_time(prefect_harness, sandbox) -> None:
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
            shared = client._global_limiter
            for _ in range(12):
                list(client.campaigns.list())
        taken = prefect.read_global_concurrency_limit_by_name("instantly-test").active_slots
    assert shared.batch == 5  # a tenth of a second of the block's 50 req/s
    assert shared.calls == 3  # 12 requests: 3 calls to the Prefect API, not 12
    assert taken >= 14  # 15 slots taken, decaying at 0.01/s
    assert shared.min_interval == 0  # 100 slots: room for the next batch right away


def test_the_clients_of_a_process_share_its_global_limit_slots_asked_for_when_there_is_room(
    prefect_harness, sandbox
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate

    with get_client(sync_client=True) as prefect:
        prefect.create_global_concurrency_limit(
            GlobalConcurrencyLimitCreate(name="instantly-room", limit=5, slot_decay_per_second=45)
        )
    creds = InstantlyCredentials(
        api_key=SecretStr(sandbox.api_key), base_url=sandbox.base_url, global_rate_limit="instantly-room"
    )
    with creds.get_client() as lookups, creds.get_client() as sends:
        assert lookups._global_limiter is sends._global_limiter  # one set of slots in hand per process
        list(lookups.campaigns.list())
        for _ in range(4):
            list(sends.campaigns.list())
        assert sends._global_limiter.calls == 1  # the 4 slots the lookups' batch left were used
    # A batch of 5 fills the limit of 5: the next has room once 5 slots decayed at 45/s (with a tenth spare)
    assert sends._global_limiter.min_interval == pytest.approx(5 / 45 * 1.1)


def test_a_missing_global_rate_limit_is_one_readable_line(prefect_harness, sandbox) -> None:
    creds = InstantlyCredentials(
        api_key=SecretStr(sandbox.api_key), base_url=sandbox.base_url, global_rate_limit="no-such-limit"
    )
    with pytest.raises(OpsError, match="No Prefect global concurrency limit named 'no-such-limit'") as err:
        creds.get_client()
    assert "\n" not in str(err.value)
    assert "prefect gcl create no-such-limit" in str(err.value)


def test_a_global_limit_without_slot_decay_cannot_limit_a_rate(prefect_harness, sandbox) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate

    with get_client(sync_client=True) as prefect:
        prefect.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name="no-decay-test", limit=5))
    creds = InstantlyCredentials(
        api_key=SecretStr(sandbox.api_key), base_url=sandbox.base_url, global_rate_limit="no-decay-test"
    )
    with pytest.raises(OpsError, match="'no-decay-test' has no slot decay"):
        creds.get_client()


def test_the_push_gets_its_client_from_the_block(sandbox) -> None:
    from tasks.push import _client

    creds = InstantlyCredentials(
        api_key=SecretStr(sandbox.api_key), base_url=sandbox.base_url, rate_per_second=7
    )
    with _client(creds, timeout=12.5) as client:
        assert client.rate_per_second == 7
        assert client._http.timeout.read == 12.5


def test_a_run_using_the_global_limit_says_so_in_its_logs(prefect_harness, sandbox, caplog) -> None:
    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate

    with get_client(sync_client=True) as prefect:
        prefect.create_global_concurrency_limit(
            GlobalConcurrencyLimitCreate(name="instantly-logged", limit=10, slot_decay_per_second=90)
        )
    creds = InstantlyCredentials(
        api_key=SecretStr(sandbox.api_key),
        base_url=sandbox.base_url,
        rate_per_second=100,
        rate_per_minute=6000,
        global_rate_limit="instantly-logged",
    )

    @flow
    def uses_the_limit() -> None:
        with creds.get_client() as client:
            list(client.campaigns.list())

    with caplog.at_level("INFO", logger="prefect"):
        uses_the_limit()
    lines = [r.getMessage() for r in caplog.records if "global concurrency limit" in r.getMessage()]
    assert lines == [
        "Requests share the Prefect global concurrency limit 'instantly-logged' (10 slots, 90/s): "
        "10 slots per call, at most one call per 0.122 s."
    ]
    assert sandbox.api_key not in caplog.text
