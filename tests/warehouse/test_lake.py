"""The DuckLake backend's own rules: offline extensions, the DuckLake form of the migrations, conflicts retried."""

from __future__ import annotations

import threading
from pathlib import Path

import duckdb
import pytest

from blocks.warehouse import open_warehouse, resolve_warehouse
from ops_instantly.errors import OpsError
from tests.warehouse_backends import create_lake_database, drop_lake_database, lake_url
from warehouse.db import Warehouse, migrations
from warehouse.lake import (
    OFFLINE_CONFIG,
    extension_file,
    is_conflict,
    lake_ddl,
    load_extensions,
    parse_lake,
    with_connect_timeout,
)
from warehouse.merge import upsert_row


def test_extensions_load_from_the_installed_wheels_with_downloads_disabled() -> None:
    con = duckdb.connect(config=dict(OFFLINE_CONFIG))
    load_extensions(con)
    loaded = dict(
        con.execute(
            "SELECT extension_name, loaded FROM duckdb_extensions()"
            " WHERE extension_name IN ('ducklake', 'postgres_scanner')"
        ).fetchall()
    )
    assert loaded == {"ducklake": True, "postgres_scanner": True}
    assert f"v{duckdb.__version__}" in str(extension_file("ducklake"))


def test_every_migration_has_a_ducklake_form_without_keys() -> None:
    for _, name, sql in migrations():
        form = lake_ddl(sql)
        assert "PRIMARY KEY" not in form.upper(), name
    assert lake_ddl("CREATE TABLE t (id VARCHAR PRIMARY KEY, v INT)") == (
        "CREATE TABLE t (id VARCHAR NOT NULL, v INT)"
    )
    assert lake_ddl("CREATE TABLE t (a INT NOT NULL,\n b INT NOT NULL,\n PRIMARY KEY (a, b)\n);") == (
        "CREATE TABLE t (a INT NOT NULL,\n b INT NOT NULL\n);"
    )
    with pytest.raises(OpsError, match="UNIQUE"):
        lake_ddl("CREATE UNIQUE INDEX i ON t (a)")


def test_both_backends_get_the_same_tables_and_columns(tmp_path: Path, new_lake: str) -> None:
    query = (
        "SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns"
        " WHERE table_catalog = current_database() ORDER BY ALL"
    )
    with Warehouse(tmp_path / "w.duckdb").connect() as con:
        on_file = con.execute(query).fetchall()
    with resolve_warehouse(path=new_lake).connect() as con:
        on_lake = con.execute(query).fetchall()
    assert on_file == on_lake
    assert ("ops", "push_ledger", "workspace", "VARCHAR") in on_lake


def test_a_bad_lake_setting_is_one_line_and_never_shows_the_password() -> None:
    with pytest.raises(OpsError, match="expected ducklake:postgres:") as err:
        parse_lake("ducklake:sqlite:/tmp/x.db")
    assert "\n" not in str(err.value)
    wh = open_warehouse(
        "ducklake:postgres:dbname=nope_ops_missing host=127.0.0.1 user=postgres password=s3cr3t"
    )
    assert "s3cr3t" not in repr(wh) and "password=***" in wh.display
    with pytest.raises(OpsError) as err, wh.connect():
        pass
    assert "s3cr3t" not in str(err.value) and "\n" not in str(err.value)


def test_reading_a_lake_nobody_has_written_yet_says_there_is_no_warehouse(new_lake: str) -> None:
    with (
        pytest.raises(OpsError, match="No warehouse at"),
        resolve_warehouse(path=new_lake).connect(read_only=True),
    ):
        pass


def test_concurrent_keyed_writes_conflict_are_retried_and_keep_one_row_per_key(new_lake: str) -> None:
    wh = resolve_warehouse(path=new_lake)
    with wh.connect():
        pass  # migrated
    both_in = threading.Barrier(2, timeout=30)
    runs: list[str] = []
    errors: list[BaseException] = []

    def write(name: str) -> None:
        try:
            for attempt in wh.transactions():
                with attempt as con:
                    runs.append(name)
                    upsert_row(con, "ops.connections", ["table_name", "campaign_id"], _connection(name))
                    if len(runs) <= 2:
                        both_in.wait()  # both first attempts are inside their transaction: one must lose
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in ("first", "second")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(runs) == 3  # the loser ran again
    with wh.connect(read_only=True) as con:
        rows = con.execute("SELECT campaign_name FROM ops.connections").fetchall()
    assert len(rows) == 1  # same key: the second writer saw the first's row and replaced it


def test_migrating_one_new_lake_from_two_connections_at_once_applies_each_version_once(
    tmp_path: Path,
) -> None:
    from tests.services import postgres_available, require_service
    from tests.warehouse_backends import ADMIN_URL

    require_service("Postgres at 127.0.0.1:5432", postgres_available(ADMIN_URL))
    dbname = create_lake_database()
    try:
        url = lake_url(dbname)
        errors: list[BaseException] = []

        def open_and_migrate() -> None:
            try:
                import warehouse.db as db

                lake = parse_lake(url, str(tmp_path / "data"))
                with db._lake_connection(lake, read_only=False):
                    pass
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

        threads = [threading.Thread(target=open_and_migrate) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        with Warehouse(url).connect(read_only=True) as con:
            versions = [
                r[0] for r in con.execute("SELECT version FROM main._migrations ORDER BY 1").fetchall()
            ]
            claims = con.execute("SELECT count(*) FROM ops.write_claim").fetchone()
        assert versions == [v for v, _, _ in migrations()]
        assert claims == (1,)
    finally:
        drop_lake_database(dbname)


def test_a_migrator_that_read_an_empty_lake_while_another_migrated_it_applies_nothing_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race two workers starting at once on a new lake can run into, made certain: while migrator A is
    between reading what is applied and applying the rest, migrator B applies everything."""
    import warehouse.db as db
    from tests.services import postgres_available, require_service
    from tests.warehouse_backends import ADMIN_URL
    from warehouse.lake import CATALOG

    require_service("Postgres at 127.0.0.1:5432", postgres_available(ADMIN_URL))
    dbname = create_lake_database()
    try:
        lake = parse_lake(lake_url(dbname), str(tmp_path / "data"))
        base = db._attach_lake(lake, read_only=False)
        a, b = base.cursor(), base.cursor()
        for con in (a, b):
            con.execute(f"USE {CATALOG}")
        real = db.migrations
        interleaved = []

        def migrations_with_b_first() -> list[tuple[int, str, str]]:
            if not interleaved:
                interleaved.append(True)
                monkeypatch.setattr(db, "migrations", real)
                db.migrate(b, lake=True)
            return real()

        monkeypatch.setattr(db, "migrations", migrations_with_b_first)
        db.migrate(a, lake=True)
        versions = [r[0] for r in a.execute("SELECT version FROM main._migrations ORDER BY 1").fetchall()]
        base.close()
        assert interleaved
        assert versions == [v for v, _, _ in real()]
    finally:
        drop_lake_database(dbname)


def test_a_conflict_is_recognised_by_its_message() -> None:
    assert is_conflict(duckdb.TransactionException("Failed to commit: Transaction conflict - attempting ..."))
    assert not is_conflict(duckdb.TransactionException("cannot start a transaction within a transaction"))
    assert not is_conflict(ValueError("conflict"))


def _connection(name: str) -> dict[str, object]:
    from datetime import UTC, datetime

    return {
        "table_name": "ops.people",
        "campaign_id": "c1",
        "campaign_name": name,
        "source": None,
        "key_column": None,
        "mapping": None,
        "created_at": datetime.now(UTC),
    }


@pytest.mark.parametrize(
    ("conninfo", "expected"),
    [
        ("dbname=ops host=db1", "dbname=ops host=db1 connect_timeout=5"),
        ("dbname=ops connect_timeout=30", "dbname=ops connect_timeout=30"),  # the URL's own wins
        ("postgresql://u@db1/ops", "postgresql://u@db1/ops?connect_timeout=5"),
        ("postgres://u@db1/ops?sslmode=require", "postgres://u@db1/ops?sslmode=require&connect_timeout=5"),
    ],
)
def test_the_catalog_connection_gets_a_connect_timeout_unless_it_sets_one(
    conninfo: str, expected: str
) -> None:
    assert with_connect_timeout(conninfo) == expected
    assert f"'ducklake:postgres:{expected}'" in parse_lake(f"ducklake:postgres:{conninfo}").attach_sql(
        read_only=False
    )


def test_a_catalog_that_never_answers_fails_with_a_timeout_instead_of_waiting() -> None:
    import socket

    # A port that accepts connections (the kernel's backlog) and never says a word, like a hung server.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    port = silent.getsockname()[1]
    try:
        wh = open_warehouse(f"ducklake:postgres:dbname=ops host=127.0.0.1 port={port} user=postgres")
        with pytest.raises(OpsError, match="timeout expired") as err, wh.connect():
            pass
        assert "\n" not in str(err.value)
    finally:
        silent.close()
