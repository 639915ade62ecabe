"""The README's main command: the demo runs the whole loop and leaves a warehouse to explore."""

from __future__ import annotations

import duckdb

from ops_instantly.demo import DEMO_CAMPAIGNS, DEMO_TABLE, EXAMPLE_QUERIES, run_demo


def test_the_demo_runs_the_whole_loop_and_its_example_queries_work(prefect_harness, tmp_path, monkeypatch):
    for name in ("INSTANTLY_API_KEY", "INSTANTLY_BASE_URL", "OPS_WAREHOUSE"):
        monkeypatch.setenv(name, "restored-after-the-test")
    lines: list[str] = []
    result = run_demo(warehouse=tmp_path / "demo.duckdb", weeks=3, rows=120, say=lines.append)

    assert result.report.read_text().count("<svg") >= len(DEMO_CAMPAIGNS)
    con = duckdb.connect(str(result.warehouse), read_only=True)
    try:
        source_rows = con.execute(f"SELECT count(*) FROM ops.{DEMO_TABLE}").fetchone()[0]
        view_rows = con.execute(f"SELECT count(*) FROM ops.{DEMO_TABLE}_engagement").fetchone()[0]
        assert view_rows == source_rows > 120  # every source row, duplicates included
        contacted = con.execute(
            f"SELECT count(*) FROM ops.{DEMO_TABLE}_engagement WHERE instantly_email_status <> 'not_contacted'"
        ).fetchone()[0]
        assert contacted > 0
        campaigns = {r[0] for r in con.execute("SELECT name FROM instantly.campaigns").fetchall()}
        assert campaigns == set(DEMO_CAMPAIGNS)
        for _title, sql in EXAMPLE_QUERIES:
            assert con.execute(sql).fetchall()
    finally:
        con.close()
    assert any("Pushing" in line for line in lines)
