"""The sync_engagement flow end to end: sandbox over HTTP, real DuckDB, real Postgres, real Prefect runs."""

from __future__ import annotations

import csv
import logging
import re
from datetime import timedelta

import httpx
import pytest
from pydantic import SecretStr

from blocks import PostgresSource, resolve_warehouse
from flows.push_leads import push_leads
from flows.sync_engagement import sync_engagement
from instantly_client import InstantlyClient
from ops_core.engagement import email_status, most_advanced_email_status
from tasks.pull_transform import parse_timestamp
from tests.instantly_sandbox.helpers import schedule, sequence

pytestmark = pytest.mark.usefixtures("prefect_harness")

LEAD_FIELDS = (
    "status",
    "lt_interest_status",
    "email_open_count",
    "email_reply_count",
    "email_click_count",
    "timestamp_last_contact",
    "timestamp_last_open",
    "timestamp_last_reply",
    "timestamp_last_click",
    "timestamp_updated",
)
DAILY_FIELDS = ("sent", "opened", "unique_opened", "replies", "unique_replies", "clicks", "unique_clicks")
STEP_FIELDS = (*DAILY_FIELDS, "unique_opportunities", "meetings_booked", "won")


@pytest.fixture
def env(sandbox, monkeypatch):
    monkeypatch.setenv("INSTANTLY_API_KEY", sandbox.api_key)
    monkeypatch.setenv("INSTANTLY_BASE_URL", sandbox.base_url)
    return sandbox


@pytest.fixture
def client(env):
    with InstantlyClient(api_key=env.api_key, base_url=env.base_url) as client:
        yield client


def _campaign(client, name, leads):
    campaign = client.campaigns.create(
        {"name": name, "campaign_schedule": schedule(), "sequences": sequence(2, 3)}
    )
    if leads:
        client.leads.add(campaign_id=campaign.id, leads=[{"email": e} for e in leads])
    return campaign


def _advance(sandbox, days):
    httpx.post(f"{sandbox.url}/_sandbox/advance", json={"days": days}, timeout=120).raise_for_status()


def _sql(location, query, params=None):
    """Rows of a query on the warehouse at `location` (a file path or a DuckLake URL), read-only."""
    with resolve_warehouse(path=str(location)).connect(read_only=True) as con:
        return con.execute(query, params or []).fetchall()


@pytest.fixture
def three_weeks(env, client):
    """Two active campaigns, 21 simulated days later."""
    a = _campaign(client, "Alpha", [f"a{i}@alpha{i % 5}.com" for i in range(40)])
    b = _campaign(client, "Beta", [f"b{i}@beta.io" for i in range(25)])
    for campaign in (a, b):
        client.campaigns.activate(campaign.id)
    _advance(env, 21)
    return a, b


def test_sync_numbers_equal_the_sandboxs_after_three_weeks(three_weeks, client, warehouse_location):
    result = sync_engagement(warehouse=warehouse_location)

    api_leads = {lead.id: lead for c in three_weeks for lead in client.leads.list(campaign=c.id)}
    rows = _sql(warehouse_location, f"SELECT id, {', '.join(LEAD_FIELDS)}, email_status FROM instantly.leads")
    assert len(rows) == len(api_leads) == 65
    for row in rows:
        lead = api_leads[row[0]]
        expected = [getattr(lead, f) for f in LEAD_FIELDS]
        expected = [
            parse_timestamp(v) if f.startswith("timestamp") else v
            for f, v in zip(LEAD_FIELDS, expected, strict=True)
        ]
        assert list(row[1:-1]) == expected
        assert row[-1] == email_status(lead.model_dump())
    assert any(r[4] for r in rows), "three weeks should bring some replies"

    for campaign in three_weeks:
        api_daily = client.analytics.daily(
            campaign_id=campaign.id, start_date="2000-01-01", end_date=result.as_of + timedelta(days=1)
        )
        got = _sql(
            warehouse_location,
            f"SELECT date, {', '.join(DAILY_FIELDS)} FROM instantly.campaign_daily_analytics"
            " WHERE campaign_id = ? ORDER BY date",
            [campaign.id],
        )
        assert got == [
            (parse_timestamp(d.date + "T00:00:00Z").date(), *(getattr(d, f) for f in DAILY_FIELDS))
            for d in api_daily
        ]
        [totals] = client.analytics.campaigns(ids=[campaign.id])
        snapshot = _sql(
            warehouse_location,
            "SELECT emails_sent_count, open_count, reply_count, link_click_count, leads_count, snapshot_date"
            " FROM instantly.campaign_analytics WHERE campaign_id = ?",
            [campaign.id],
        )
        assert snapshot == [
            (totals.emails_sent_count, totals.open_count, totals.reply_count, totals.link_click_count,
             totals.leads_count, result.as_of)
        ]  # fmt: skip
        sums = _sql(
            warehouse_location,
            "SELECT sum(sent), sum(opened), sum(replies), sum(clicks) FROM instantly.campaign_daily_analytics"
            " WHERE campaign_id = ?",
            [campaign.id],
        )
        assert sums == [
            (totals.emails_sent_count, totals.open_count, totals.reply_count, totals.link_click_count)
        ]

        # Per step and variant: the API's 0-based "step"/"variant" strings become 1-based integers.
        api_steps = client.analytics.steps(campaign_id=campaign.id, include_opportunities_count=True)
        got_steps = _sql(
            warehouse_location,
            f"SELECT step, variant, variant_label, {', '.join(STEP_FIELDS)}"
            " FROM instantly.campaign_step_analytics WHERE campaign_id = ? ORDER BY step, variant",
            [campaign.id],
        )
        assert got_steps == sorted(
            (int(s.step) + 1, int(s.variant) + 1, "AB"[int(s.variant)], *(getattr(s, f) for f in STEP_FIELDS))
            for s in api_steps
        )
        assert {(r[0], r[1]) for r in got_steps} == {(1, 1), (1, 2), (2, 1), (2, 2)}  # sequence(2, 3)
        step_sent = _sql(
            warehouse_location,
            "SELECT sum(sent), sum(replies) FROM instantly.campaign_step_analytics WHERE campaign_id = ?",
            [campaign.id],
        )
        assert step_sent == [(totals.emails_sent_count, totals.reply_count)]

    replies = _sql(
        warehouse_location, "SELECT count(*), count(body_text), count(DISTINCT lead_id) FROM instantly.emails"
    )
    api_replies = list(client.emails.list(email_type="received"))
    assert replies[0][0] == len(api_replies) > 0
    assert replies[0][1] == replies[0][0]
    run = _sql(warehouse_location, "SELECT flow, status, counts->>'$.leads.inserted' FROM ops.sync_runs")
    assert run == [("sync-engagement", "completed", "65")]


def _snapshot(path):
    tables = [
        "campaigns",
        "leads",
        "campaign_analytics",
        "campaign_daily_analytics",
        "campaign_step_analytics",
        "emails",
    ]
    return {t: sorted(_sql(path, f"SELECT * FROM instantly.{t}"), key=str) for t in tables}


def test_a_second_sync_adds_nothing_and_changes_nothing_that_did_not_change(
    three_weeks, env, warehouse_location
):
    params = dict(warehouse=warehouse_location)
    sync_engagement(**params)
    before = _snapshot(warehouse_location)
    second = sync_engagement(**params)
    assert _snapshot(warehouse_location) == before  # same rows, same _loaded_at and _run_id
    for table in ("leads", "campaign_daily_analytics", "campaigns"):
        assert second.counts[table]["inserted"] == second.counts[table]["updated"] == 0

    # Two more simulated days: only what changed is rewritten, stamped with the third run.
    _advance(env, 2)
    third = sync_engagement(**params)
    after = _sql(warehouse_location, "SELECT _run_id, count(*) FROM instantly.leads GROUP BY ALL")
    changed = dict(after).get(third.run_id, 0)
    assert changed == third.counts["leads"]["updated"]
    assert sum(n for _, n in after) == 65
    dupes = _sql(
        warehouse_location,
        "SELECT count(*) - count(DISTINCT (campaign_id, date)) FROM instantly.campaign_daily_analytics",
    )
    assert dupes == [(0,)]
    assert [
        r[0] for r in _sql(warehouse_location, "SELECT status FROM ops.sync_runs ORDER BY started_at")
    ] == ["completed"] * 3
    assert f"| instantly.leads | 0 | {changed} |" in _latest_summary_artifact()


def _engagement_now(path):
    """(non-auto replies, auto-replies, leads replied, bounced, unsubscribed, positive) in the warehouse."""
    [(replies, auto)] = _sql(
        path,
        "SELECT count(*) FILTER (is_auto_reply = 0), count(*) FILTER (is_auto_reply <> 0) FROM instantly.emails",
    )
    [leads] = _sql(
        path,
        "SELECT count(*) FILTER (email_reply_count > 0), count(*) FILTER (status = -1),"
        " count(*) FILTER (status = -2), count(*) FILTER (lt_interest_status IN (1, 2, 3, 4)) FROM instantly.leads",
    )
    return (replies, auto, *leads)


def test_the_sync_reports_new_replies_bounces_and_interested_leads_since_the_last_sync(
    three_weeks, env, warehouse_path
):
    from warehouse.sync_changes import CHANGE_KEYS

    params = dict(warehouse=str(warehouse_path))
    first = sync_engagement(**params)
    now = _engagement_now(warehouse_path)
    assert [first.counts["engagement"]["total"][k] for k in CHANGE_KEYS] == list(now)
    assert now[0] > 0 and now[3] > 0, "three weeks should bring replies and bounces"
    by_campaign = {r["campaign_name"]: r for r in first.counts["engagement"]["campaigns"]}
    assert set(by_campaign) == {"Alpha", "Beta"}
    assert sum(r["replies"] for r in by_campaign.values()) == now[0]

    second = sync_engagement(**params)  # nothing happened in between
    assert set(second.counts["engagement"]["total"].values()) == {0}
    assert second.counts["engagement"]["campaigns"] == []

    _advance(env, 4)
    third = sync_engagement(**params)
    later = _engagement_now(warehouse_path)
    assert [third.counts["engagement"]["total"][k] for k in CHANGE_KEYS] == [
        b - a for a, b in zip(now, later, strict=True)
    ]
    artifact = _latest_summary_artifact()
    total = third.counts["engagement"]["total"]
    assert "## Since the last sync (" in artifact and third.counts["engagement"]["since"]
    assert first.counts["engagement"]["since"] is None
    assert f"| **all** | **{total['replies']}** | **{total['auto_replies']}** |" in artifact


def _latest_summary_artifact() -> str:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect.client.schemas.sorting import ArtifactSort

    with get_client(sync_client=True) as prefect:
        [artifact] = prefect.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["sync-engagement"])),
            sort=ArtifactSort.CREATED_DESC,
            limit=1,
        )
    return str(artifact.data)


def _write_csv(path, rows):
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "email", "name"])
        writer.writerows(rows)


def _expected_engagement(client, campaigns):
    """Per normalised email, from the API: (email status, reply count, open count, campaign names)."""
    leads = {}
    for campaign in campaigns:
        for lead in client.leads.list(campaign=campaign.id):
            leads.setdefault(lead.email.lower(), []).append((campaign.name, lead))
    out = {}
    for email, found in leads.items():
        out[email] = (
            most_advanced_email_status(email_status(lead.model_dump()) for _, lead in found),
            sum(lead.email_reply_count for _, lead in found),
            sum(lead.email_open_count for _, lead in found),
            sorted(name for name, _ in found),
        )
    return out


def test_a_table_pushed_to_two_campaigns_gets_one_engagement_row_per_source_row(
    env, client, warehouse_location, tmp_path
):
    a = _campaign(client, "North", [])
    b = _campaign(client, "South", [])
    source = tmp_path / "prospects.csv"
    _write_csv(source, [(i, f"P{i}@Prospects.io", f"P{i}") for i in range(30)])
    push_leads(
        source=str(source),
        key_column="id",
        campaigns=[a.id, b.id],
        skip_if="none",
        warehouse=warehouse_location,
    )
    client.campaigns.activate(a.id)
    client.campaigns.activate(b.id)
    _advance(env, 14)
    sync_engagement(warehouse=warehouse_location)

    rows = _sql(
        warehouse_location,
        "SELECT id, email, name, instantly_email_status, instantly_reply_count, instantly_open_count,"
        " instantly_campaigns, instantly_lead_id FROM ops.prospects_engagement ORDER BY id",
    )
    expected = _expected_engagement(client, [a, b])
    assert sorted(int(r[0]) for r in rows) == list(range(30))  # the CSV's columns arrive as text
    for row in rows:
        assert row[3:7] == expected[row[1].lower()]
        assert row[7] is not None
    per_campaign = _sql(
        warehouse_location,
        "SELECT count(*), count(DISTINCT (id, instantly_campaign_id)), min(instantly_link)"
        " FROM ops.prospects_engagement_by_campaign",
    )
    assert per_campaign == [(60, 60, "ledger")]


def test_the_views_name_the_campaigns_right_after_a_push_and_take_a_renamed_one_from_the_sync(
    env, client, warehouse_location, tmp_path
):
    a = _campaign(client, "East", [])
    b = _campaign(client, "West", [])
    source = tmp_path / "prospects.csv"
    _write_csv(source, [(i, f"p{i}@prospects.io", f"P{i}") for i in range(5)])
    push_leads(
        source=str(source),
        key_column="id",
        campaigns=[a.id, b.id],
        skip_if="none",
        warehouse=warehouse_location,
    )
    names = "SELECT DISTINCT instantly_campaigns FROM ops.prospects_engagement"
    by_campaign = (
        "SELECT DISTINCT instantly_campaign_name FROM ops.prospects_engagement_by_campaign ORDER BY 1"
    )
    assert _sql(warehouse_location, "SELECT count(*) FROM instantly.campaigns") == [(0,)]  # no sync yet
    assert _sql(warehouse_location, names) == [(["East", "West"],)]
    assert _sql(warehouse_location, by_campaign) == [("East",), ("West",)]

    client.campaigns.update(str(a.id), {"name": "East (renamed)"})
    sync_engagement(warehouse=warehouse_location)
    assert _sql(warehouse_location, names) == [(["East (renamed)", "West"],)]  # the synced, current name wins
    assert _sql(warehouse_location, by_campaign) == [("East (renamed)",), ("West",)]


def test_postgres_source_gets_its_engagement_columns_written_back(
    env, client, warehouse_path, postgres_url, postgres_scratch
):
    import psycopg

    table = postgres_scratch.table(
        "people",
        "id integer PRIMARY KEY, email text, name text",
        [(g, f"w{g}@writeback.dev", f"W{g}") for g in range(1, 21)],
    )
    campaign = _campaign(client, "Writeback", [])
    push_leads(
        source=postgres_url,
        table=table,
        key_column="id",
        campaigns=[campaign.id],
        warehouse=str(warehouse_path),
    )
    client.campaigns.activate(campaign.id)
    _advance(env, 10)
    params = dict(
        warehouse=str(warehouse_path), write_back_postgres=PostgresSource(url=SecretStr(postgres_url))
    )
    result = sync_engagement(**params)
    assert result.counts["write_back"] == {f"public.{table}": 20}
    view = _sql(
        warehouse_path,
        "SELECT id, instantly_email_status, instantly_reply_count, instantly_open_count,"
        f" instantly_lead_id, instantly_campaigns FROM ops.{table}_engagement ORDER BY id",
    )
    with psycopg.connect(postgres_url) as pg:
        written = pg.execute(
            f"SELECT id, instantly_email_status, instantly_reply_count, instantly_open_count,"
            f" instantly_lead_id, instantly_campaigns FROM {table} ORDER BY id"
        ).fetchall()
    assert written == view
    assert {r[5][0] for r in written} == {"Writeback"}
    # Nothing changed: a second write-back updates no row.
    assert sync_engagement(**params).counts["write_back"] == {f"public.{table}": 0}
    # The next push of the table leaves the written-back columns out: no lead is updated for them.
    again = push_leads(
        source=postgres_url,
        table=table,
        key_column="id",
        campaigns=[campaign.id],
        warehouse=str(warehouse_path),
    )
    counts = again["campaigns"][0]["counts"]
    assert (counts.get("unchanged"), counts.get("updated", 0)) == (20, 0), counts


@pytest.mark.slow
def test_a_source_column_named_like_an_engagement_column_is_refused_until_renamed_and_then_kept(
    env, client, warehouse_path, postgres_url, postgres_scratch
):
    # Was: pushed without it (left out as ours), `instantly_reply_count` in ops.<table>_engagement read it (the
    # real count was `instantly_reply_count_1`), and the write-back copied it into `instantly_reply_count`.
    import psycopg

    from ops_core.errors import OpsError
    from tests.tasks.push_helpers import campaign_leads

    table = postgres_scratch.table(
        "crm",
        'id integer PRIMARY KEY, email text, "Instantly_Reply_Count" integer',
        [(g, f"r{g}@clash.dev", 100 + g) for g in range(1, 11)],
    )
    campaign = _campaign(client, "Clash", [])
    push = dict(
        source=postgres_url,
        table=table,
        key_column="id",
        campaigns=[campaign.id],
        warehouse=str(warehouse_path),
    )
    with pytest.raises(OpsError, match="a column named Instantly_Reply_Count, .* own instantly_reply_count"):
        push_leads(**push)
    assert campaign_leads(env, campaign.id) == []
    assert _sql(warehouse_path, f"SELECT count(*) FROM duckdb_tables() WHERE table_name = '{table}'") == [
        (0,)
    ]

    postgres_scratch.execute(f'ALTER TABLE {table} RENAME "Instantly_Reply_Count" TO crm_reply_count')
    assert push_leads(**push)["campaigns"][0]["counts"]["created"] == 10
    sent = {
        lead["email"]: lead["payload"].get("crm_reply_count") for lead in campaign_leads(env, campaign.id)
    }
    assert sent == {f"r{g}@clash.dev": 100 + g for g in range(1, 11)}  # nothing lost
    client.campaigns.activate(campaign.id)
    _advance(env, 10)
    sync_engagement(
        warehouse=str(warehouse_path), write_back_postgres=PostgresSource(url=SecretStr(postgres_url))
    )
    view = _sql(
        warehouse_path,
        f"SELECT id, crm_reply_count, instantly_reply_count FROM ops.{table}_engagement ORDER BY id",
    )
    assert [r[1] for r in view] == [100 + g for g in range(1, 11)]
    assert all(isinstance(r[2], int) and r[2] < 100 for r in view)  # the real counts, not the source's
    with psycopg.connect(postgres_url) as pg:
        written = pg.execute(
            f"SELECT id, crm_reply_count, instantly_reply_count FROM {table} ORDER BY id"
        ).fetchall()
    assert written == view


def test_write_back_gives_rows_sharing_an_email_the_same_engagement(
    env, client, warehouse_path, postgres_url, postgres_scratch
):
    # No key column: rows match on the normalised email, which repeats here (the push reports the repeats as
    # duplicates). The write-back used to fail for every table of the database on its temp table's key.
    import psycopg

    dups, plain = (postgres_scratch.table(kind, "email text, name text") for kind in ("dups", "plain"))
    for table in (dups, plain):
        postgres_scratch.execute(
            f"INSERT INTO {table} SELECT '{table}' || g || '@writeback.dev', 'W' || g FROM generate_series(1, 10) g"
        )
    postgres_scratch.execute(
        f"INSERT INTO {dups} VALUES (' {dups.upper()}3@WriteBack.dev ', 'again'), ('{dups}3@writeback.dev', 'third')"
    )
    campaign = _campaign(client, "Writeback dups", [])
    for table in (dups, plain):
        push_leads(source=postgres_url, table=table, campaigns=[campaign.id], warehouse=str(warehouse_path))
    client.campaigns.activate(campaign.id)
    _advance(env, 10)
    result = sync_engagement(
        warehouse=str(warehouse_path), write_back_postgres=PostgresSource(url=SecretStr(postgres_url))
    )
    assert result.counts["write_back"] == {f"public.{dups}": 12, f"public.{plain}": 10}
    with psycopg.connect(postgres_url) as pg:
        rows = pg.execute(
            f"SELECT lower(trim(email)), instantly_lead_id, instantly_email_status, instantly_campaigns"
            f" FROM {dups} ORDER BY 1"
        ).fetchall()
    third = [r for r in rows if r[0] == f"{dups}3@writeback.dev"]
    assert len(third) == 3 and len({r[1:] for r in (tuple(map(str, r)) for r in third)}) == 1
    assert third[0][1] and third[0][3] == ["Writeback dups"]


@pytest.mark.parametrize(
    ("change", "error", "words"),
    [
        ({"campaigns": ["No such campaign"]}, "NotFoundError", "No such campaign"),
        ({"key": "expired-key"}, "AuthenticationError", "401"),
        ({"key": "sandbox-unpaid-workspace"}, "PaymentRequiredError", "402"),
    ],
)
def test_bad_input_fails_in_one_line_and_leaves_the_warehouse_as_it_was(
    three_weeks, monkeypatch, warehouse_path, change, error, words
):
    sync_engagement(warehouse=str(warehouse_path))
    before = _snapshot(warehouse_path)
    if "key" in change:
        monkeypatch.setenv("INSTANTLY_API_KEY", change["key"])
    with pytest.raises(Exception) as info:
        sync_engagement(warehouse=str(warehouse_path), campaigns=change.get("campaigns", []))
    assert type(info.value).__name__ == error
    assert words in str(info.value) and "\n" not in str(info.value)
    assert _snapshot(warehouse_path) == before
    status, message = _sql(warehouse_path, "SELECT status, message FROM ops.sync_runs ORDER BY started_at")[
        -1
    ]
    assert status == "failed" and words in message


def test_a_warehouse_locked_by_another_process_is_a_one_line_error(env, warehouse_path):
    import subprocess
    import sys

    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(warehouse_path)!r}); print('ok', flush=True);"
            " time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ok"
        with pytest.raises(Exception) as info:
            sync_engagement(warehouse=str(warehouse_path), lock_timeout_seconds=0.5)
        assert type(info.value).__name__ == "WarehouseLockedError"
        assert "locked by another process" in str(info.value) and "\n" not in str(info.value)
    finally:
        holder.kill()
        holder.wait()


def test_a_failed_load_rolls_back_every_table(warehouse_location):
    from datetime import date

    from tasks.load import load_sync
    from tasks.pull import PulledData
    from tasks.pull_transform import campaign_row, lead_row

    warehouse = resolve_warehouse(path=warehouse_location)
    bad_daily = {"campaign_id": None, "date": date(2026, 3, 1), "_hash": "x"}  # violates NOT NULL
    pulled = PulledData(
        rows={
            "campaigns": [campaign_row({"id": "c1", "name": "C"})],
            "leads": [lead_row({"id": "L1", "campaign": "c1"})],
            "campaign_daily_analytics": [bad_daily],
        },
        daily_ends={"c1": date(2026, 3, 1)},
    )
    with pytest.raises(Exception) as info:
        load_sync.fn(warehouse, pulled, workspace="ws", run_id="r1")
    assert "nothing was changed" in str(info.value)
    counts = _sql(
        warehouse_location,
        "SELECT (SELECT count(*) FROM instantly.campaigns), (SELECT count(*) FROM instantly.leads),"
        " (SELECT count(*) FROM instantly.sync_checkpoints)",
    )
    assert counts == [(0, 0, 0)]


def test_cli_sync_prints_what_changed_and_fails_in_one_line(three_weeks, warehouse_path, capsys):
    from ops_instantly.cli import main

    with pytest.raises(SystemExit) as done:
        main(["sync", "--warehouse", str(warehouse_path), "--lookback-days", "7"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "instantly.leads: 65 new, 0 updated, 0 unchanged" in out
    assert "instantly.campaign_step_analytics: 8 new, 0 updated, 0 unchanged" in out  # 2 x 2 steps x A/B
    # The last line says what its date is (it read `(as of 2026-12-13)`, which a newcomer could not place).
    assert re.search(
        r"^run [0-9a-f-]{36} \(daily analytics up to \d{4}-\d{2}-\d{2} UTC: the newest day the API's data shows, "
        r"or today if later\)$",
        out,
        re.M,
    ), out
    leads_replied, bounced = _sql(
        warehouse_path,
        "SELECT count(*) FILTER (email_reply_count > 0), count(*) FILTER (status = -1) FROM instantly.leads",
    )[0]
    assert f"{leads_replied} leads replied for the first time, {bounced} bounced" in out
    replies, auto = _sql(
        warehouse_path,
        "SELECT count(*) FILTER (coalesce(is_auto_reply, 0) = 0), count(*) FILTER (coalesce(is_auto_reply, 0) <> 0) FROM instantly.emails",
    )[0]
    # Apart, as the counts are: "(8 automatic)" read as 8 of the replies.
    assert (
        f"since the last sync: {replies} replies, {auto} auto-replies, {leads_replied} leads replied" in out
    )

    with pytest.raises(SystemExit) as failed:
        main(["sync", "--warehouse", str(warehouse_path), "--campaign", "Nope"])
    assert failed.value.code == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "Nope" in err and "\n" not in err


def test_the_runs_logs_say_what_changed_per_table_and_how_long_it_took(three_weeks, warehouse_path, caplog):
    with caplog.at_level(logging.INFO, logger="prefect.flow_runs"):
        result = sync_engagement(warehouse=str(warehouse_path), lookback_days=7)
    logged = [r.getMessage() for r in caplog.records if r.name == "prefect.flow_runs"]
    leads, steps = _sql(
        warehouse_path,
        "SELECT (SELECT count(*) FROM instantly.leads), (SELECT count(*) FROM instantly.campaign_step_analytics)",
    )[0]
    assert f"instantly.leads: {leads} new, 0 updated, 0 unchanged" in logged
    assert f"instantly.campaign_step_analytics: {steps} new, 0 updated, 0 unchanged" in logged
    replies, auto = _sql(
        warehouse_path,
        "SELECT count(*) FILTER (coalesce(is_auto_reply, 0) = 0), count(*) FILTER (coalesce(is_auto_reply, 0) <> 0) FROM instantly.emails",
    )[0]
    [changed] = [line for line in logged if line.startswith("since the last sync: ")]
    assert changed.startswith(f"since the last sync: {replies} replies, {auto} auto-replies, ")
    [took] = [line for line in logged if line.startswith("synced ")]
    assert re.fullmatch(rf"synced 2 campaigns as of {result.as_of.isoformat()} in \d+\.\d s", took), took


def test_an_empty_workspace_syncs_to_empty_tables(env, warehouse_path):
    result = sync_engagement(warehouse=str(warehouse_path))
    assert result.counts["leads"] == {"inserted": 0, "updated": 0, "unchanged": 0}
    assert _sql(warehouse_path, "SELECT count(*) FROM instantly.campaigns") == [(0,)]
    assert _sql(warehouse_path, "SELECT status FROM ops.sync_runs") == [("completed",)]


def test_cli_sync_json_is_one_document_whose_counts_match_the_warehouse_and_the_sandbox(
    three_weeks, warehouse_path, capsys, sandbox
):
    import json

    from ops_instantly.cli import main

    before = httpx.get(f"{sandbox.url}/_sandbox/stats").json()["per_path"]
    with pytest.raises(SystemExit) as done:
        main(["sync", "--warehouse", str(warehouse_path), "--lookback-days", "7", "--json"])
    assert done.value.code == 0
    after = httpx.get(f"{sandbox.url}/_sandbox/stats").json()["per_path"]
    document = json.loads(capsys.readouterr().out)  # stdout is the document and nothing else
    assert document["command"] == "sync" and document["warehouse"] == str(warehouse_path)
    assert _sql(
        warehouse_path, "SELECT status FROM ops.sync_runs WHERE run_id = ?", [document["run_id"]]
    ) == [("completed",)]
    assert document["tables"]["leads"] == {"inserted": 65, "updated": 0, "unchanged": 0}
    assert (
        document["engagement"]["leads_replied"]
        == _sql(warehouse_path, "SELECT count(*) FILTER (email_reply_count > 0) FROM instantly.leads")[0][0]
    )
    # Every request the pull counted was served by the sandbox, endpoint by endpoint.
    by_kind = document["requests"]["by_kind"]
    assert by_kind and document["requests"]["total"] == sum(by_kind.values())
    for endpoint, n in by_kind.items():
        method, path = endpoint.split(" ", 1)
        if "{id}" in path:
            continue  # the sandbox names routes with ids its own way
        served = after.get(f"{method} /api/v2{path}", 0) - before.get(f"{method} /api/v2{path}", 0)
        assert served == n, (endpoint, n, served)
    assert sandbox.api_key not in json.dumps(document)


def test_write_back_goes_to_the_table_read_from_a_schema_and_skips_a_query(
    env, client, warehouse_path, postgres_url, postgres_scratch
):
    # Was: "The Postgres table public.contacts does not exist." for crm."Contacts" (the warehouse name was
    # looked up in the default schema), and a table pushed with --query failed the whole write-back.
    import psycopg

    schema = postgres_scratch.schema("wb")
    postgres_scratch.execute(
        f'CREATE TABLE {schema}."Contacts" ("Email" text, "Name" text);'
        f"INSERT INTO {schema}.\"Contacts\" SELECT 'c' || g || '@{schema.replace('_', '-')}.dev', 'C' || g FROM generate_series(1, 5) g"
    )
    campaign = _campaign(client, "Writeback schema", [])
    push_leads(
        source=postgres_url,
        table=f"{schema}.Contacts",
        campaigns=[campaign.id],
        warehouse=str(warehouse_path),
    )
    push_leads(
        source=postgres_url,
        query=f'SELECT * FROM {schema}."Contacts" WHERE "Name" = \'C1\'',
        table="first_contact",
        campaigns=[campaign.id],
        warehouse=str(warehouse_path),
    )
    client.campaigns.activate(campaign.id)
    _advance(env, 10)
    result = sync_engagement(
        warehouse=str(warehouse_path), write_back_postgres=PostgresSource(url=SecretStr(postgres_url))
    )
    assert result.counts["write_back"] == {f"{schema}.Contacts": 5}
    with psycopg.connect(postgres_url) as pg:
        written = pg.execute(f'SELECT count(instantly_lead_id) FROM {schema}."Contacts"').fetchone()
    assert written == (5,)
