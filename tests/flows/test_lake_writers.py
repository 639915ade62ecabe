"""Three writers on one DuckLake at once (two pushes to different campaigns and a sync), and a reader.

Each writer is the `ops-instantly` command a worker would run, in its own process, against one real Prefect
server, the sandbox over real HTTP (with latency, so their transactions overlap) and one DuckLake whose
catalog is in the local Postgres. A fourth process, plain DuckDB with the extensions LOADed from the wheels
(as docs/warehouse.md shows analysts), reads an engagement view the whole time. On a DuckLake nothing
queues: the writers' transactions commit side by side, and the ones that conflict run again.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from blocks import resolve_warehouse
from tests.prefect_server import prefect_server

PUSHED = 1500
SYNCED = 300

READER = textwrap.dedent(
    """
    import os, sys, time
    from importlib.resources import files
    import duckdb

    def extension(package, name):
        return str(files(package) / "extensions" / f"v{duckdb.__version__}" / f"{name}.duckdb_extension")

    con = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    con.execute(f"LOAD '{extension('duckdb_extension_ducklake', 'ducklake')}'")
    con.execute(f"LOAD '{extension('duckdb_extension_postgres_scanner', 'postgres_scanner')}'")
    con.execute(f"ATTACH '{os.environ['OPS_WAREHOUSE']}' AS lake (READ_ONLY)")
    con.execute("USE lake")
    con.execute("SET enable_progress_bar = false")  # a read over 2 s drew DuckDB's bar among the lines
    stop = sys.argv[1]
    while not os.path.exists(stop):
        try:
            rows, linked = con.execute(
                "SELECT count(*), count(instantly_lead_id) FROM ops.alpha_leads_engagement"
            ).fetchone()
            print(f"read {rows} {linked}", flush=True)
        except duckdb.CatalogException:
            print("no view yet", flush=True)  # before the first push's extract commits
        time.sleep(0.2)
    """
)


def _campaign(client, name: str) -> str:
    from tests.instantly_sandbox.helpers import schedule, sequence

    return str(
        client.campaigns.create(
            {"name": name, "campaign_schedule": schedule(), "sequences": sequence(1, 1)}
        ).id
    )


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-c", "from ops_instantly.cli import main; main()", *args]


def _finish(proc: subprocess.Popen[str], timeout: float = 900) -> str:
    out, _ = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(proc.args[3:])} failed:\n{out[-3000:]}"  # type: ignore[index]
    return out


@pytest.mark.slow
def test_two_pushes_and_a_sync_write_one_lake_at_once_while_duckdb_reads_it(
    sandbox, new_lake: str, tmp_path: Path
) -> None:
    from instantly_client import InstantlyClient

    with InstantlyClient(api_key=sandbox.api_key, base_url=sandbox.base_url) as client:
        synced_id = _campaign(client, "Synced")
        for start in range(0, SYNCED, 100):
            client.leads.add(
                campaign_id=synced_id,
                leads=[{"email": f"synced{i}@example.com"} for i in range(start, start + 100)],
            )
        client.campaigns.activate(synced_id)
        alpha_id, beta_id = _campaign(client, "Alpha"), _campaign(client, "Beta")
    sandbox.admin("POST", "advance", json={"days": 5})
    sources = {}
    for name in ("alpha", "beta"):
        sources[name] = tmp_path / f"{name}_leads.csv"
        sources[name].write_text(
            "email,first_name\n" + "".join(f"{name}{i}@example.com,P{i}\n" for i in range(PUSHED))
        )
    lake = resolve_warehouse(path=new_lake)
    with lake.connect():
        pass  # the lake exists (racing migrations are tests/warehouse/test_lake.py's)
    stop = tmp_path / "stop-reading"

    with prefect_server(tmp_path / "prefect-home") as server_env:
        env = {
            **server_env,
            "INSTANTLY_API_KEY": sandbox.api_key,
            "INSTANTLY_BASE_URL": sandbox.base_url,
            "OPS_WAREHOUSE": new_lake,
        }

        def start(command: list[str]) -> subprocess.Popen[str]:
            return subprocess.Popen(
                command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
            )

        reader = start([sys.executable, "-c", READER, str(stop)])
        # Every request now takes 20-50 ms: the three runs' transactions overlap.
        sandbox.admin("POST", "faults", json={"latency_ms": 20, "latency_jitter_ms": 30})
        runs = [
            start(
                _cli("push", "--source", str(sources["alpha"]), "--campaign", alpha_id, "--batch-size", "100")
            ),
            start(
                _cli("push", "--source", str(sources["beta"]), "--campaign", beta_id, "--batch-size", "100")
            ),
            start(_cli("sync", "--campaign", synced_id)),
        ]
        outputs = [_finish(proc) for proc in runs]
        stop.touch()
        read = _finish(reader, timeout=60)

    reads = [line.split() for line in read.splitlines() if line.startswith("read ")]
    assert reads, read[-2000:]  # the view was read while the writers ran (no lock, no error)
    assert all(line in ("no view yet",) or line.startswith("read ") for line in read.splitlines()), read[
        -2000:
    ]
    assert int(reads[-1][1]) == PUSHED  # every row of the table, before or after its leads were linked
    with lake.connect(read_only=True) as con:
        for campaign_id in (alpha_id, beta_id):
            assert con.execute(
                "SELECT count(*), count(DISTINCT row_key), count(lead_id), count(*) FILTER (state = 'done')"
                " FROM ops.push_ledger WHERE campaign_id = ?",
                [campaign_id],
            ).fetchone() == (PUSHED, PUSHED, PUSHED, PUSHED), outputs
            assert con.execute(
                "SELECT outcome, count(*) FROM ops.push_results WHERE campaign_id = ? GROUP BY ALL",
                [campaign_id],
            ).fetchall() == [("created", PUSHED)]
        assert con.execute(
            "SELECT count(*), count(DISTINCT id) FROM instantly.leads WHERE campaign_id = ?", [synced_id]
        ).fetchone() == (SYNCED, SYNCED)
        runs_done = con.execute("SELECT flow, status FROM ops.sync_runs ORDER BY flow").fetchall()
        assert runs_done == [
            ("push-leads", "completed"),
            ("push-leads", "completed"),
            ("sync-engagement", "completed"),
        ], outputs
        assert con.execute(
            "SELECT count(*), count(instantly_lead_id) FROM ops.beta_leads_engagement"
        ).fetchone() == (PUSHED, PUSHED)
    for campaign_id in (alpha_id, beta_id):
        in_sandbox = sandbox.admin("GET", "leads", params={"campaign_id": campaign_id})["items"]
        assert len(in_sandbox) == PUSHED  # each lead sent once
