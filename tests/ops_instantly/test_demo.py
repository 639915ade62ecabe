"""The README's main command: the demo runs the whole loop and leaves a warehouse to explore."""

from __future__ import annotations

import re
from datetime import date, timedelta

import duckdb
import pytest

from ops_instantly.demo import DEMO_CAMPAIGNS, DEMO_TABLE, EXAMPLE_QUERIES, run_demo
from tests.cli._cli_helpers import run_cli

HOSTILE = "<script>alert(1)</script>"


@pytest.mark.slow  # about 10 s: the whole demo loop
def test_the_demo_runs_the_whole_loop_and_its_example_queries_work(
    prefect_harness, tmp_path, monkeypatch, capsys
):
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

    _check_the_report_after_the_demo(result.warehouse, tmp_path / "report.html", capsys)


def _check_the_report_after_the_demo(warehouse, out, capsys):
    """`ops-instantly report --by industry` after the demo: every part there, hostile values kept as text."""
    con = duckdb.connect(str(warehouse))
    try:  # a lead whose industry (a source column) and a campaign whose name are markup
        con.execute(f'UPDATE ops.{DEMO_TABLE} SET "Industry" = ? WHERE "Industry" = \'SaaS\'', [HOSTILE])
        con.execute("UPDATE instantly.campaigns SET name = name || ' <b>x</b>'")
        variants = con.execute(
            "SELECT campaign_name, step, variant_label, sent, replied, is_winner FROM ops.variant_rates"
            " WHERE step > 0 ORDER BY ALL"
        ).fetchall()
        [(first, last)] = con.execute(
            "SELECT min(date), max(date) FROM instantly.campaign_daily_analytics"
        ).fetchall()
    finally:
        con.close()
    result = run_cli(capsys, "report", "--warehouse", str(warehouse), "--out", str(out), "--by", "industry")
    assert result.code == 0, result.err
    text = out.read_text()

    assert "<script" not in text.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text  # in the segment table and the chart's labels
    assert "Demo: founders, short sequence &lt;b&gt;x&lt;/b&gt;" in text and "<b>x</b>" not in text
    # A time axis over every day of the range: each campaign's day table has every day, none skipped.
    [(start, end)] = re.findall(r"<b>(\d{4}-\d\d-\d\d) to (\d{4}-\d\d-\d\d) \(UTC days", text)
    start, end = date.fromisoformat(start), date.fromisoformat(end)
    assert start <= first and end >= last
    every_day = [str(start + timedelta(days=i)) for i in range((end - start).days + 1)]
    for section in text.split("<section>")[1:]:
        assert re.findall(r"<tr><td class='text'>(\d{4}-\d\d-\d\d)</td>", section) == every_day
        assert "Open rate" in section and "Reply rate" in section and "Positive reply rate" in section
    assert re.search(r"<td>\d+\.\d%</td><td>\d+\.\d%</td><td>\d+\.\d%</td><td>\d+\.\d%</td>", text)
    # Step and variant tables with the warehouse's numbers, the winner marked; the segment breakdown.
    for campaign, step, label, sent, replied, winner in variants:
        row = re.search(
            rf"<tr( class='winner')?><td class='text'>Step {step}</td><td class='text'>{label}( <span"
            rf"[^>]*>winner</span>)?</td><td class='text'><span>[^<]*</span></td><td>{sent:,}</td>"
            rf"<td>{replied:,}</td>",
            text,
        )
        assert row, (campaign, step, label)
        assert bool(row.group(1)) == bool(row.group(2)) == winner
    assert any(v[-1] for v in variants), "the first step's A/B test has a winner"
    assert text.count("Reply rate by Industry") == len(DEMO_CAMPAIGNS)
