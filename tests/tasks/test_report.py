"""The campaign report, built from a small real DuckDB warehouse (tables and views as the migrations create them)."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from blocks.warehouse import open_warehouse
from ops_core.errors import OpsError
from tasks.report import (
    collect_report,
    read_reports,
    render_html,
    render_markdown,
    report_tables,
    write_report,
)
from warehouse.db import Warehouse
from warehouse.views import create_engagement_views

NOW = datetime(2026, 9, 3, 12, tzinfo=UTC)
META = ["h", NOW, "run-1"]  # _hash, _loaded_at, _run_id
HOSTILE = "<script>alert('x')</script>"
SEQUENCES = [{"steps": [{"variants": [{"subject": "Hi {{firstName}}"}, {"subject": "B & <i>bold</i>"}]}]}]


def _leads(con, campaign_id: str, rows: list[tuple[int, int, int, int | None, bool]], start: int) -> None:
    # (status, opens, replies, interest, contacted)
    for i, (status, opens, replies, interest, contacted) in enumerate(rows, start=start):
        con.execute(
            "INSERT INTO instantly.leads (id, campaign_id, email, email_normalized, status, lt_interest_status,"
            " email_open_count, email_reply_count, email_status, timestamp_last_contact, _hash, _loaded_at,"
            " _run_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [f"l{i}", campaign_id, f"p{i}@x.co", f"p{i}@x.co", status, interest, opens, replies,
             "bounced" if status == -1 else "replied" if replies else "opened" if opens else
             "sent" if contacted else "not_contacted",
             datetime(2026, 9, 2, 10, tzinfo=UTC) if contacted else None, *META],
        )  # fmt: skip


@pytest.fixture
def warehouse(warehouse_location: str) -> Warehouse:
    wh = open_warehouse(warehouse_location, os.environ.get("OPS_WAREHOUSE_DATA_PATH"))
    with wh.transaction() as con:
        for cid, name, status, label in [
            ("c1", "Founders", 1, "Active"),
            ("c2", "Agencies <EU>", 2, "Paused"),
        ]:
            con.execute(
                "INSERT INTO instantly.campaigns (id, name, status, status_label, data, _hash, _loaded_at,"
                " _run_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [cid, name, status, label, json.dumps({"sequences": SEQUENCES}), *META],
            )
        # Sends on 1 and 4 September: the 2nd and 3rd had none and must still be on the axis, as zeros.
        for day, sent, uopened, ureplies in [(1, 10, 4, 1), (4, 12, 6, 2)]:
            con.execute(
                "INSERT INTO instantly.campaign_daily_analytics (campaign_id, date, sent, opened,"
                " unique_opened, replies, unique_replies, _hash, _loaded_at, _run_id)"
                " VALUES ('c1', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [date(2026, 9, day), sent, uopened + 3, uopened, ureplies, ureplies, *META],
            )
        # c1: 6 leads; 5 contacted (one bounced), 3 opened, 2 replied, 1 interested + 1 meeting booked.
        _leads(
            con,
            "c1",
            [(1, 2, 1, 1, True), (1, 1, 1, 2, True), (3, 1, 0, None, True), (-1, 0, 0, None, True),
             (1, 0, 0, -1, True), (1, 0, 0, None, False)],
            start=0,
        )  # fmt: skip
        for cid, leads, contacted, sent, opened, replied, positive, bounced in [
            ("c1", 6, 5, 22, 3, 2, 2, 1),
            ("c2", 40, 30, 55, 20, 4, 1, 3),
        ]:
            con.execute(
                "INSERT INTO instantly.campaign_analytics (campaign_id, snapshot_date, campaign_name,"
                " leads_count, contacted_count, new_leads_contacted_count, emails_sent_count, open_count,"
                " open_count_unique, reply_count, reply_count_unique, total_opportunities, bounced_count,"
                " _hash, _loaded_at, _run_id) VALUES (?, DATE '2026-09-04', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [cid, cid, leads, sent, contacted, sent, opened + 2, opened, replied, replied, positive, bounced,
                 *META],
            )  # fmt: skip
        for variant, sent, replied in [(1, 5, 1), (2, 5, 2)]:
            con.execute(
                "INSERT INTO instantly.campaign_step_analytics (campaign_id, step, variant, variant_label, sent,"
                " unique_opened, unique_replies, unique_opportunities, _hash, _loaded_at, _run_id)"
                " VALUES ('c1', 1, ?, ?, ?, 2, ?, 0, ?, ?, ?)",
                [variant, "AB"[variant - 1], sent, replied, *META],
            )
        # A pushed source table whose Industry column holds a hostile value, linked through the ledger.
        con.execute(
            "CREATE TABLE ops.prospects AS SELECT * FROM (VALUES ('p0@x.co', 'SaaS'), ('p1@x.co', ?),"
            " ('p2@x.co', 'SaaS'), ('p3@x.co', 'Retail')) v(email, \"Industry\")",
            [HOSTILE],
        )
        con.execute("ALTER TABLE ops.prospects ADD COLUMN _row_key VARCHAR")
        con.execute("UPDATE ops.prospects SET _row_key = email")
        con.execute(
            "INSERT INTO ops.source_tables (table_name, source, key_column, email_column, row_count, extracted_at, run_id) VALUES ('prospects', 'test.csv', NULL, 'email', 4, ?, 'run-1')",
            [NOW],
        )
        create_engagement_views(con)
    return wh


def test_report_numbers_come_from_the_warehouse_tables(warehouse: Warehouse) -> None:
    report = collect_report.fn(warehouse)
    assert (report.start, report.end) == (date(2026, 9, 1), date(2026, 9, 4))
    c1, c2 = sorted(report.campaigns, key=lambda r: r.id)
    f1 = c1.funnel
    assert (f1.leads, f1.contacted, f1.opened, f1.replied, f1.interested) == (6, 5, 3, 2, 2)
    # Every day of the range, the days without a row as zeros.
    assert [(d.day.day, d.sent, d.opened, d.replied) for d in c1.days] == [
        (1, 10, 4, 1), (2, 0, 0, 0), (3, 0, 0, 0), (4, 12, 6, 2)
    ]  # fmt: skip
    assert [d.bounced for d in c1.days] == [0, 1, 0, 0]  # the bounced lead was last contacted on the 2nd
    h = c1.headline
    assert (h.leads_contacted, h.emails_sent, h.reply_rate, h.positive_reply_rate, h.bounce_rate) == (
        5, 22, 0.4, 0.4, 0.2
    )  # fmt: skip
    assert [(v.label, v.reply_rate, v.is_winner) for v in c1.variants] == [
        ("A", 0.2, False),
        ("B", 0.4, True),
    ]
    assert (c2.funnel.leads, c2.funnel.contacted) == (40, 30) and c2.funnel.interested is None
    assert report.total.leads_contacted == 35 and report.total.replied == 6


def test_html_report_is_self_contained_and_has_every_part(warehouse: Warehouse, tmp_path: Path) -> None:
    report = collect_report.fn(warehouse, by="industry")
    text = write_report(render_html(report), tmp_path / "out" / "report.html").read_text()
    assert "<script" not in text.lower()
    assert not re.findall(r"https?://(?!www\.w3\.org/)", text)  # no network: only SVG namespaces
    assert "2026-09-01 to 2026-09-04 (UTC days, 4 days)" in text
    assert "Agencies &lt;EU&gt; (Paused)" in text
    # The day table under each chart lists every day of the range, the quiet ones as zero.
    agencies, founders = text.split("<section>")[1:]
    for section, sent in [(founders, ["10", "0", "0", "12"]), (agencies, ["0", "0", "0", "0"])]:
        daily = re.findall(r"<tr><td class='text'>(2026-09-0\d)</td><td>(\d+)</td>", section)
        assert daily == list(zip(["2026-09-01", "2026-09-02", "2026-09-03", "2026-09-04"], sent, strict=True))
    # Headline rates, the variant table with its winner, the segment breakdown.
    assert "<td>40.0%</td><td>40.0%</td><td>20.0%</td>" in text  # c1 reply, positive reply, bounce rate
    assert re.search(r"<tr class='winner'><td class='text'>Step 1</td><td class='text'>B <span", text)
    assert "B &amp; &lt;i&gt;bold&lt;/i&gt;" in text
    assert "Reply rate by Industry" in text
    assert (
        "<td class='text'><span>&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;</span></td>" in text
    )  # table
    assert re.search(
        r"<text[^>]*>&lt;script&gt;alert\('x'\)&lt;/script&gt;</text>", text
    )  # the chart's label
    assert text.count("<svg") == 2 * 2 + 1  # daily and funnel per campaign, one segment chart (c1)


def test_report_for_one_campaign_by_name_and_bad_input_errors(warehouse: Warehouse) -> None:
    with warehouse.connect(read_only=True) as con:
        assert [r.id for r in read_reports(con, ["Founders"])] == ["c1"]
        with pytest.raises(OpsError, match="'nope' is not in the warehouse"):
            read_reports(con, ["nope"])
    with pytest.raises(OpsError, match="No source table in the warehouse has a column 'Shoe size'"):
        collect_report.fn(warehouse, by="Shoe size")


def test_markdown_and_tables_carry_the_headline_numbers_and_rates(warehouse: Warehouse) -> None:
    report = collect_report.fn(warehouse, by="Industry")
    md = render_markdown(report, "report.html")
    assert "Range: 2026-09-01 to 2026-09-04 (UTC days, 4 days)." in md
    assert "| Founders | Active | 6 | 5 | 22 | 60.0% | 40.0% | 40.0% | 20.0% | 22 |" in md
    assert "| Agencies &lt;EU&gt; | Paused | 40 | 30 | 55 | 66.7% | 13.3% | 3.3% | 10.0% | 55 |" in md
    assert "| **All campaigns** |  | 46 | 35 | 77 |" in md
    assert "Founders, step 1: variant B (40.0% reply rate over 5 sent)" in md
    tables = report_tables(report)
    assert [r["Reply rate"] for r in tables["headline"]] == ["13.3%", "40.0%"]
    assert [(r["variant"], r["winner"]) for r in tables["variants"]] == [("A", ""), ("B", "yes")]
    assert {r["Industry"] for r in tables["segments"]} == {"SaaS", HOSTILE, "Retail"}


def test_build_report_flow_writes_the_file_and_publishes_artifacts(
    warehouse: Warehouse, tmp_path: Path, prefect_harness: None
) -> None:
    from prefect.client.orchestration import get_client

    from flows.build_report import ARTIFACT_KEY, build_report

    out = build_report(
        campaigns=["c1"], out=str(tmp_path / "r.html"), by="Industry", warehouse=warehouse.location
    )
    assert "Reply rate by Industry" in Path(out).read_text()
    # Its counts and the headline's come from two syncs' worth of freshness: the page says which is which.
    assert "fresher than the headline's campaign analytics" in Path(out).read_text()
    with get_client(sync_client=True) as client:
        artifacts = {a.key: a for a in client.read_latest_artifacts()}
    assert "| Founders | Active | 6 | 5 | 22 | 60.0% | 40.0% |" in str(artifacts[ARTIFACT_KEY].data)
    assert "Founders" in str(artifacts[f"{ARTIFACT_KEY}-headline"].data)
    assert "B &" in str(artifacts[f"{ARTIFACT_KEY}-variants"].data)
    assert "Retail" in str(artifacts[f"{ARTIFACT_KEY}-segments"].data)


def test_report_command_writes_the_file_and_fails_in_one_line(
    warehouse: Warehouse, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.cli._cli_helpers import assert_one_line_error, run_cli

    out = tmp_path / "report.html"
    result = run_cli(
        capsys, "report", "--warehouse", warehouse.location, "--out", str(out), "--campaign", "c2"
    )
    assert result.code == 0, result.err
    assert f"wrote {out} (1 campaign(s))" in result.out
    assert "Agencies &lt;EU&gt;" in out.read_text() and "Founders" not in out.read_text()
    bad = run_cli(capsys, "report", "--warehouse", warehouse.location, "--out", str(out), "--by", "Shoe size")
    # The hint lists the columns that exist (not an example column that may be the one that failed).
    assert_one_line_error(bad, "Shoe size", "pick a column of a pushed table: email, Industry)")
    # Names match exactly, as in every other command; a case variant gets the name it may have meant.
    case = run_cli(
        capsys, "report", "--warehouse", warehouse.location, "--out", str(out), "--campaign", "founders"
    )
    assert_one_line_error(case, "Campaign 'founders' is not in the warehouse (did you mean 'Founders'?).")


def test_an_empty_warehouse_gives_a_report_that_says_so(warehouse_path: Path) -> None:
    wh = Warehouse(warehouse_path)
    with wh.connect():
        pass
    report = collect_report.fn(wh)
    assert report.campaigns == [] and report.days == []
    assert "run <code>ops-instantly sync</code> first" in render_html(report)
    assert render_markdown(report).startswith("# Campaign report\n\nRange: no activity yet.")


def test_a_campaign_without_any_analytics_has_no_empty_daily_chart(warehouse: Warehouse) -> None:
    with warehouse.transaction() as con:  # created, never sent, synced
        con.execute(
            "INSERT INTO instantly.campaigns (id, name, status, status_label, data, _hash, _loaded_at, _run_id)"
            " VALUES ('c3', 'Draft one', 0, 'Draft', '{}', ?, ?, ?)",
            META,
        )
    html = render_html(collect_report.fn(warehouse, ["Draft one"]))
    assert "No daily analytics for this campaign yet." in html
    assert "Daily activity" not in html and "(0 days)" not in html


def test_days_span_the_whole_range(warehouse: Warehouse) -> None:
    report = collect_report.fn(warehouse)
    assert report.days == [date(2026, 9, 1) + timedelta(days=i) for i in range(4)]


def test_an_unknown_by_column_lists_the_columns_of_the_tables_pushed_to_the_reported_campaign(
    warehouse: Warehouse, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.cli._cli_helpers import assert_one_line_error, run_cli

    with warehouse.connect() as con:  # a second pushed table, feeding no campaign of the report
        con.execute(
            "CREATE TABLE ops.fair AS SELECT 'f0@x.co' AS email, 'B12' AS \"Booth\", 'f0@x.co' AS _row_key"
        )
        con.execute(
            "INSERT INTO ops.source_tables (table_name, source, key_column, email_column, row_count, extracted_at,"
            " run_id) VALUES ('fair', 'fair.csv', NULL, 'email', 1, ?, 'run-2')",
            [NOW],
        )
        create_engagement_views(con)
    out = str(tmp_path / "r.html")
    args = ["report", "--warehouse", warehouse.location, "--out", out, "--by", "Shoe size"]
    everything = run_cli(capsys, *args)
    assert_one_line_error(everything, "Shoe size", "pick a column of a pushed table: Booth, email, Industry)")
    founders = run_cli(capsys, *args, "--campaign", "Founders")
    assert_one_line_error(
        founders, "Shoe size", "pick a column of a table pushed to this campaign: email, Industry)"
    )
