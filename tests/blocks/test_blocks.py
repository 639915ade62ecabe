"""Blocks: credentials from the environment or a saved block, never leaking the key."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from blocks import (
    DuckDBWarehouse,
    InstantlyCredentials,
    PostgresSource,
    load_postgres_source,
    resolve_credentials,
    resolve_warehouse,
)
from blocks._load import validation_problems
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


@pytest.mark.parametrize(
    "base_url",
    [
        "http://user:SECRETpw@127.0.0.1:9/api/v2",
        "https://:SECRETpw@gw.example/api/v2",
        "https://gw/api/v2?password=SECRETpw",
    ],
)
def test_a_block_refuses_a_base_url_with_a_password_saying_why_and_what_instead(base_url: str) -> None:
    # The Prefect UI shows a saved block's base_url in plain text (only secret fields are masked).
    with pytest.raises(ValidationError) as refused:
        InstantlyCredentials(api_key=SecretStr("k"), base_url=base_url)
    text = str(refused.value)
    assert "SECRETpw" not in text
    assert "the Prefect UI shows base_url in plain text" in text and "HTTPS_PROXY=" in text
    assert "base_url: expected a base URL without a password: the Prefect UI" in validation_problems(
        refused.value
    )
    assert InstantlyCredentials(api_key=SecretStr("k"), base_url="http://user@127.0.0.1:9/api/v2").base_url


def test_the_block_schema_refuses_a_password_in_base_url_without_quoting_it() -> None:
    # What the server's /ui/schemas/validate applies to the block's fields (the schema the UI's form is built
    # from); Prefect 3.8.8's block forms do not call it with this schema, so the block itself refuses too.
    from prefect.utilities.schema_tools.validation import validate

    schema = InstantlyCredentials.model_json_schema()
    ok = {"api_key": "k", "base_url": "http://127.0.0.1:8765/api/v2"}
    assert validate(ok, schema, raise_on_error=False) == []
    errors = validate(ok | {"base_url": "https://u:SECRETpw@gw/api/v2"}, schema, raise_on_error=False)
    assert errors and all("SECRETpw" not in str(error.message) for error in errors)
    assert any("the Prefect UI shows base_url in plain text" in str(error.message) for error in errors)


def test_a_password_in_instantly_base_url_stays_out_of_the_repr_the_run_parameters_and_the_workspace_key(
    monkeypatch,
) -> None:
    from flows.push_leads import push_leads

    # The environment may hold one: it never reaches a saved block or the UI.
    monkeypatch.setenv("INSTANTLY_API_KEY", "k")
    monkeypatch.setenv("INSTANTLY_BASE_URL", "http://user:SECRETpw@127.0.0.1:9/api/v2")
    creds = InstantlyCredentials.from_env()
    recorded = push_leads.serialize_parameters({"credentials": creds})  # what Prefect stores with a run
    assert recorded["credentials"]["base_url"] == "http://user:***@127.0.0.1:9/api/v2"
    for text in (repr(creds), str(creds)):
        assert "SECRETpw" not in text and "user:***@127.0.0.1:9/api/v2" in text
    assert creds.workspace_key.startswith("http://user@127.0.0.1:9/api/v2#")  # as ledgers recorded it before
    with creds.get_client() as client:
        assert (
            client.base_url == "http://user:SECRETpw@127.0.0.1:9/api/v2"
        )  # the client is given the URL as it is


def test_a_saved_block_loads_back_with_its_secret(prefect_harness) -> None:
    InstantlyCredentials(api_key=SecretStr("saved-key"), base_url="http://user@127.0.0.1:9/api/v2").save(
        "test-blocks", overwrite=True
    )
    loaded = resolve_credentials("test-blocks")
    assert loaded.api_key.get_secret_value() == "saved-key"
    assert loaded.base_url == "http://user@127.0.0.1:9/api/v2"
    with pytest.raises(OpsError, match="No InstantlyCredentials block named 'nope'"):
        resolve_credentials("nope")


def test_credentials_from_the_environment_with_a_password_are_never_saved(
    prefect_harness, monkeypatch
) -> None:
    from prefect.client.orchestration import get_client

    monkeypatch.setenv("INSTANTLY_API_KEY", "k")
    monkeypatch.setenv("INSTANTLY_BASE_URL", "http://user:SECRETpw@127.0.0.1:9/api/v2")
    with pytest.raises(
        ValueError, match="Not saved: base_url must be a base URL without a password"
    ) as refused:
        InstantlyCredentials.from_env().save("test-env-password", overwrite=True)
    assert "SECRETpw" not in str(refused.value)
    with get_client(sync_client=True) as client:
        names = [d.name for d in client.read_block_documents_by_type("instantly-credentials")]
    assert "test-env-password" not in names


@pytest.mark.parametrize("name", ["test-ui-password", "default"])
def test_a_block_saved_with_a_password_elsewhere_is_refused_in_one_line_saying_how_to_mend_it(
    prefect_harness, monkeypatch, name: str
) -> None:
    # The Prefect UI's block forms save what they are given (3.8.8 checks no block schema): the block refuses
    # to load it, by name or as the default, never quoting the password.
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import BlockDocumentUpdate

    monkeypatch.delenv("INSTANTLY_API_KEY", raising=False)
    monkeypatch.delenv("OPS_CREDENTIALS_BLOCK", raising=False)
    document_id = InstantlyCredentials(api_key=SecretStr("k"), base_url="http://127.0.0.1:9/api/v2").save(
        name, overwrite=True
    )
    with get_client(sync_client=True) as client:
        client.update_block_document(
            document_id, BlockDocumentUpdate(data={"base_url": "https://user:SECRETpw@gw.example/api/v2"})
        )
        try:
            with pytest.raises(OpsError) as refused:
                resolve_credentials(name if name != "default" else None)
        finally:
            client.delete_block_document(document_id)
    text = str(refused.value)
    assert "SECRETpw" not in text and "\n" not in text
    assert (
        f"The InstantlyCredentials block '{name}' cannot be used: base_url: expected a base URL without"
        in text
    )
    assert f"edit it in the Prefect UI (Blocks > {name} > Edit)" in text


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
