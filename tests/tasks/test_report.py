"""The campaign report, built from a small real DuckDB warehouse (tables as migration 0003 creates them)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from ops_instantly.errors import OpsError
from tasks.report import collect_report, read_reports, render_html, render_markdown, write_report
from warehouse.db import Warehouse

NOW = datetime(2026, 9, 3, 12, tzinfo=UTC)
META = ["h", NOW, "run-1"]  # _hash, _loaded_at, _run_id


def _leads(con, campaign_id: str, rows: list[tuple[int, int, int, int | None, bool]], start: int) -> None:
    # (status, opens, replies, interest, contacted)
    for i, (status, opens, replies, interest, contacted) in enumerate(rows, start=start):
        con.execute(
            "INSERT INTO instantly.leads (id, campaign_id, email, status, lt_interest_status,"
            " email_open_count, email_reply_count, timestamp_last_contact, _hash, _loaded_at, _run_id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [f"l{i}", campaign_id, f"p{i}@x.co", status, interest, opens, replies,
             datetime(2026, 9, 2, 10, tzinfo=UTC) if contacted else None, *META],
        )  # fmt: skip


@pytest.fixture
def warehouse(warehouse_path: Path) -> Warehouse:
    wh = Warehouse(warehouse_path)
    with wh.connect() as con:
        for cid, name, status, label in [
            ("c1", "Founders", 1, "Active"),
            ("c2", "Agencies <EU>", 2, "Paused"),
        ]:
            con.execute(
                "INSERT INTO instantly.campaigns (id, name, status, status_label, _hash, _loaded_at, _run_id)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [cid, name, status, label, *META],
            )
        for day, sent, uopened, ureplies in [(1, 10, 4, 1), (2, 12, 6, 2), (3, 0, 1, 1)]:
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
        # c2 has no leads pulled: its funnel comes from the analytics snapshot.
        con.execute(
            "INSERT INTO instantly.campaign_analytics (campaign_id, snapshot_date, campaign_name,"
            " leads_count, contacted_count, open_count, open_count_unique, reply_count, reply_count_unique,"
            " _hash, _loaded_at, _run_id)"
            " VALUES ('c2', DATE '2026-09-03', 'Agencies <EU>', 40, 30, 25, 20, 5, 4, ?, ?, ?)",
            META,
        )
    return wh


def test_report_numbers_come_from_the_warehouse_tables(warehouse: Warehouse) -> None:
    reports = {r.id: r for r in collect_report.fn(warehouse)}
    c1, c2 = reports["c1"], reports["c2"]
    f1 = c1.funnel
    assert (f1.leads, f1.contacted, f1.opened, f1.replied, f1.interested) == (6, 5, 3, 2, 2)
    assert [(d.sent, d.opened, d.replied) for d in c1.days] == [(10, 4, 1), (12, 6, 2), (0, 1, 1)]
    assert [d.bounced for d in c1.days] == [0, 1, 0]  # the bounced lead was last contacted on 2026-09-02
    assert "approximate" in (c1.bounced_source or "")
    assert (c2.funnel.leads, c2.funnel.contacted, c2.funnel.opened, c2.funnel.replied) == (40, 30, 20, 4)
    assert c2.funnel.interested is None and "campaign_analytics" in c2.funnel.source


def test_html_report_is_self_contained_with_an_svg_chart_per_campaign_and_the_funnel(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    path = write_report(render_html(collect_report.fn(warehouse)), tmp_path / "out" / "report.html")
    text = path.read_text()
    assert text.count('class="chart"') == 2 and text.count('class="funnel"') == 2
    assert "<script" not in text and "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in text
    assert "Agencies &lt;EU&gt; (Paused)" in text  # names are escaped
    for stage, value in [("Leads", 6), ("Contacted", 5), ("Opened", 3), ("Replied", 2), ("Interested", 2)]:
        assert f"<tr><td>{stage}</td><td>{value}</td>" in text
    assert "<tr><td>Interested</td><td>n/a</td>" in text  # c2: the analytics snapshot has no interested count
    assert re.search(r"<title>2026-09-02 bounced: 1</title>", text)


def test_report_for_one_campaign_by_name_and_unknown_campaign_error(warehouse: Warehouse) -> None:
    with warehouse.connect(read_only=True) as con:
        assert [r.id for r in read_reports(con, ["Founders"])] == ["c1"]
        with pytest.raises(OpsError, match="'nope' is not in the warehouse"):
            read_reports(con, ["nope"])


def test_markdown_summary_has_the_key_numbers(warehouse: Warehouse) -> None:
    md = render_markdown(collect_report.fn(warehouse), "report.html")
    assert "| Founders | Active | 22 | 6 | 5 | 3 | 2 | 2 |" in md
    assert "| Agencies <EU> | Paused | 0 | 40 | 30 | 20 | 4 | n/a |" in md


def test_build_report_flow_writes_the_file_and_publishes_an_artifact(
    warehouse: Warehouse, tmp_path: Path, prefect_harness: None
) -> None:
    from prefect.client.orchestration import get_client

    from flows.build_report import ARTIFACT_KEY, build_report

    out = build_report(campaigns=["c1"], out=str(tmp_path / "r.html"), warehouse=str(warehouse.path))
    assert Path(out).read_text().count("<svg") == 2  # one chart and one funnel for the one campaign
    with get_client(sync_client=True) as client:
        artifact = client.read_latest_artifacts()
    mine = [a for a in artifact if a.key == ARTIFACT_KEY]
    assert mine and "| Founders | Active | 22 | 6 | 5 | 3 | 2 | 2 |" in str(mine[0].data)


def test_report_command_writes_the_file(
    warehouse: Warehouse, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.cli._cli_helpers import run_cli

    out = tmp_path / "report.html"
    result = run_cli(
        capsys, "report", "--warehouse", str(warehouse.path), "--out", str(out), "--campaign", "c2"
    )
    assert result.code == 0, result.err
    assert f"wrote {out} (1 campaign(s))" in result.out
    assert "Agencies &lt;EU&gt;" in out.read_text() and "Founders" not in out.read_text()
