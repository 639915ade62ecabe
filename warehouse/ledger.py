"""The push ledger: the one home of its states, outcomes and SQL (migrations 0009 and 0011 define its tables).

The ledger makes a push exactly-once. It is append-only: each write appends one row to
`ops.push_ledger_writes` (whose rows: workspace, campaign, source table; which run) and one entry per source
row, a `pending` one (the intent) to `ops.push_ledger_intents` and any other to `ops.push_ledger_entries`; a
row's state is its newest entry in either table. An intent is committed before the request carrying the row
leaves; the request's outcome is appended after it. No primary key, upsert or conflict clause is needed, so
the same statements work on DuckLake. `compact` deletes superseded entries after a push (intents, in their
own table, go as whole row groups). `ops.push_ledger` is a view of the current state, for analysts, the
engagement views (`lead_links_sql`) and the sync (`lead_ids_by_campaign`).

Every function takes an open connection; the push opens short ones and never holds one during an HTTP call.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import chain
from typing import Literal, get_args

import duckdb
import polars as pl

from ops_core.sql import quote_ident, quote_literal
from warehouse.db import in_transaction, table_exists
from warehouse.merge import upsert_row

LedgerState = Literal["pending", "unknown", "done", "rejected"]
LEDGER_STATES: tuple[LedgerState, ...] = get_args(LedgerState)
# The request may have reached Instantly: reconcile (look the row up) before anything is resent.
OPEN_STATES: tuple[LedgerState, ...] = ("pending", "unknown")
# An entry that makes a row count as never pushed (its request provably never took effect).
FORGOTTEN = "forgotten"

Outcome = Literal[
    "created",
    "updated",
    "unchanged",
    "duplicate",
    "skipped",
    "blocklisted",
    "invalid",
    "rejected",
    "unknown",
]
OUTCOMES: tuple[Outcome, ...] = get_args(Outcome)  # ops.push_results.outcome, in report order

# The reason of a row kept as an earlier run left it (skipped, blocklisted, rejected, not sent again): the
# planner's words (tasks/push_plan.py), and how `drop_repeated_results` knows such a row's result repeats one.
NOT_RESENT = "on an earlier run; unchanged since, so not resent"

CURRENT = "ops.push_ledger"  # the view of every row's current entry (one per row key and campaign)
_WRITES = "ops.push_ledger_writes"
_ENTRIES = "ops.push_ledger_entries"
_INTENTS = "ops.push_ledger_intents"  # the `pending` entries (migration 0011)
# Every entry, intents included, as ENTRY_COLUMNS plus write_id (a relation to select from).
_ALL_ENTRIES = (
    f"(SELECT write_id, row_key, email, lead_id, payload_hash, state, outcome, batch_id FROM {_ENTRIES} "
    f"UNION ALL SELECT write_id, row_key, email, lead_id, payload_hash, 'pending', "
    f"CAST(NULL AS VARCHAR), batch_id FROM {_INTENTS})"
)

_ENTRY_SCHEMA = pl.Schema(
    {
        "row_key": pl.Utf8,
        "email": pl.Utf8,
        "lead_id": pl.Utf8,
        "payload_hash": pl.Utf8,
        "state": pl.Utf8,
        "outcome": pl.Utf8,
        "batch_id": pl.Utf8,
    }
)
_RESULT_SCHEMA = pl.Schema(
    {
        "row_key": pl.Utf8,
        "email": pl.Utf8,
        "lead_id": pl.Utf8,
        "outcome": pl.Utf8,
        "reason": pl.Utf8,
    }
)
ENTRY_COLUMNS = tuple(_ENTRY_SCHEMA)  # the columns of an entries frame (see LedgerEntry)
RESULT_COLUMNS = tuple(_RESULT_SCHEMA)  # the columns of a results frame (see ResultRow)
# What read_slice adds to each source row: its current entry, null when never pushed to this campaign.
SLICE_LEDGER_COLUMNS = ("l_state", "l_hash", "l_lead_id", "l_outcome", "l_email")


@dataclass(frozen=True)
class LedgerScope:
    """The ledger rows of one (workspace, campaign, source table) and the run writing them."""

    workspace: str  # the workspace id (SPEC GET /workspaces/current), see adopt_workspace
    campaign_id: str
    source_table: str
    run_id: str

    @property
    def params(self) -> list[str]:
        return [self.workspace, self.campaign_id, self.source_table]


@dataclass(frozen=True)
class LedgerEntry:
    """One row's ledger entry: what we last did for it in this campaign."""

    row_key: str
    email: str | None
    lead_id: str | None
    payload_hash: str | None
    state: LedgerState
    outcome: Outcome | None = None
    batch_id: str | None = None


@dataclass(frozen=True)
class ResultRow:
    """One line of ops.push_results: what happened to one source row on one run."""

    row_key: str | None
    email: str | None
    lead_id: str | None
    outcome: Outcome
    reason: str | None = None


# -- reads ---------------------------------------------------------------------------------------------

_SCOPE_WRITES = f"SELECT write_id FROM {_WRITES} WHERE workspace = ? AND campaign_id = ? AND source_table = ?"


def _read_rows(
    con: duckdb.DuckDBPyConnection,
    scope: LedgerScope,
    columns: Sequence[str],
    where: str,
    params: Sequence[object] = (),
    upto: int | None = None,
) -> pl.DataFrame:
    """Source rows matching `where` (on `t`), in source order, with the newest entry of each (or nulls).

    Two queries joined by polars: the source rows, and the newest entries of their row keys only (the
    semi-join skips every other row's entries). One query joining and sorting both in DuckDB cost about
    five times as much. `upto` (an integer, so a literal):
    entries appended later are left out, and whole row groups of them are skipped unread by their write ids.
    """
    table = f"ops.{quote_ident(scope.source_table)}"
    rows = source_rows(con, scope, columns, where, params)
    written = f"e.write_id <= {int(upto)} AND " if upto is not None else ""
    newest = con.execute(
        f"""SELECT e.row_key, e.state AS l_state, e.payload_hash AS l_hash, e.lead_id AS l_lead_id,
            e.outcome AS l_outcome, e.email AS l_email
        FROM {_ALL_ENTRIES} e
        WHERE {written}e.write_id IN ({_SCOPE_WRITES})
            AND e.row_key IN (SELECT t._row_key FROM {table} AS t WHERE {where})
        QUALIFY row_number() OVER (PARTITION BY e.row_key ORDER BY e.write_id DESC) = 1""",
        [*scope.params, *params],
    ).pl()
    newest = newest.filter(pl.col("l_state") != FORGOTTEN)
    joined = rows.join(newest, on="row_key", how="left", maintain_order="left")
    return joined.select(
        "rowid",
        "row_key",
        "source_row",
        "row_problem",
        *SLICE_LEDGER_COLUMNS,
        *(f"c{i}" for i in range(len(columns))),
    )


def source_rows(
    con: duckdb.DuckDBPyConnection,
    scope: LedgerScope,
    columns: Sequence[str],
    where: str,
    params: Sequence[object] = (),
) -> pl.DataFrame:
    """Source rows matching `where` (on `t`) in source order: rowid, row_key, source_row (`_source_row`: where
    the row is in its source file or table), row_problem, c0, c1, ..."""
    table = f"ops.{quote_ident(scope.source_table)}"
    cols = "".join(f", t.{quote_ident(c)} AS c{i}" for i, c in enumerate(columns))
    # A copy extracted before `_source_row` existed (the next extract adds it): positions, as reasons said then.
    names = {d[0] for d in con.execute(f"SELECT * FROM {table} LIMIT 0").description or []}
    place = "t._source_row" if "_source_row" in names else "CAST(t.rowid + 1 AS BIGINT)"
    # con.execute, not con.sql(params=...): a relation with parameters scanned the whole table (15x slower).
    rows = con.execute(
        f"SELECT t.rowid AS rowid, t._row_key AS row_key, {place} AS source_row, "
        f"t._row_problem AS row_problem{cols} "
        f"FROM {table} AS t WHERE {where}",
        list(params),
    ).pl()
    # A scan keeps the table's order (DuckDB preserves insertion order); sorting in DuckDB would first copy
    # every string into its sort buffer, which cost more than the rest of the read.
    if not rows["rowid"].is_sorted():
        rows = rows.sort("rowid")
    return rows


def read_slice(
    con: duckdb.DuckDBPyConnection,
    scope: LedgerScope,
    columns: Sequence[str],
    start: int,
    stop: int,
    *,
    upto: int | None = None,
) -> pl.DataFrame:
    """Rows [start, stop) of ops.<table> in source order with their current ledger entry, as one frame.

    Columns: rowid, row_key, source_row (the extract's `_source_row`: the line or row a user finds the row
    on in their source, which reasons name), row_problem (the extract's `_row_problem`: why the source line
    was not read),
    then SLICE_LEDGER_COLUMNS (the current entry's state, payload hash, lead id, outcome and email; null
    when the row was never pushed to this campaign), then the source `columns` as c0, c1, ...

    Args:
        upto: `newest_write` when the pass began. A pass plans each row key once, so the entries its own
            run appended since concern rows of earlier slices: they are left out, and a slice's read does
            not scan them. Entries another run appended since are never left out (that read is whole).
    """
    if upto is not None and written_by_others(con, scope, upto):
        upto = None
    return _read_rows(con, scope, columns, "t.rowid >= ? AND t.rowid < ?", [start, stop], upto)


def read_keys(
    con: duckdb.DuckDBPyConnection, scope: LedgerScope, columns: Sequence[str], row_keys: Sequence[str]
) -> pl.DataFrame:
    """Like `read_slice`, for the rows with these row keys only (every occurrence, in source order)."""
    # A semi-join on a registered frame: list_contains(?, key) would compare every row with every key.
    con.register("wanted_keys", pl.DataFrame({"row_key": list(row_keys)}, schema={"row_key": pl.Utf8}))
    try:
        return _read_rows(con, scope, columns, "t._row_key IN (SELECT row_key FROM wanted_keys)")
    finally:
        con.unregister("wanted_keys")


def written_by_others(con: duckdb.DuckDBPyConnection, scope: LedgerScope, after: int) -> bool:
    """Whether another run than `scope.run_id` wrote to the scope's ledger after write id `after`."""
    row = con.execute(
        f"SELECT count(*) FROM {_WRITES} WHERE workspace = ? AND campaign_id = ? AND source_table = ? "
        "AND write_id > ? AND run_id IS DISTINCT FROM ?",
        [*scope.params, after, scope.run_id],
    ).fetchone()
    return bool(row and row[0])


def newest_write(con: duckdb.DuckDBPyConnection, scope: LedgerScope) -> int:
    """The scope's newest write id (0 when it has none): see `read_slice(upto=...)`."""
    row = con.execute(f"SELECT coalesce(max(write_id), 0) FROM ({_SCOPE_WRITES})", scope.params).fetchone()
    return int(row[0]) if row else 0


def open_entries(con: duckdb.DuckDBPyConnection, scope: LedgerScope) -> list[LedgerEntry]:
    """Rows whose current entry is open (OPEN_STATES): their last request may or may not have reached
    Instantly. Ordered by row key."""
    # Only the row keys with an open entry are windowed: the view's window over every entry of the scope
    # cost a no-change re-run of 1,000,000 leads 1.4 s of CPU, for no row.
    rows = con.execute(
        f"""SELECT row_key, email, lead_id, payload_hash, state, outcome, batch_id FROM (
            SELECT e.* FROM {_ALL_ENTRIES} e
            WHERE e.write_id IN ({_SCOPE_WRITES}) AND e.row_key IN (
                SELECT o.row_key FROM {_ALL_ENTRIES} o
                WHERE list_contains(?, o.state) AND o.write_id IN ({_SCOPE_WRITES})
            )
            QUALIFY row_number() OVER (PARTITION BY e.row_key ORDER BY e.write_id DESC) = 1
        ) WHERE list_contains(?, state)
        ORDER BY row_key""",
        [*scope.params, list(OPEN_STATES), *scope.params, list(OPEN_STATES)],
    ).fetchall()
    return [
        LedgerEntry(
            row_key=key,
            email=email,
            lead_id=lead,
            payload_hash=hash_,
            state=state,
            outcome=outcome,
            batch_id=b,
        )
        for key, email, lead, hash_, state, outcome, b in rows
    ]


def lead_ids_by_campaign(con: duckdb.DuckDBPyConnection, workspace: str) -> dict[str, list[str]]:
    """{campaign id: lead ids the ledger knows} for one workspace (what the sync fetches by id)."""
    known: dict[str, list[str]] = {}
    for campaign_id, lead_id in con.execute(
        f"SELECT campaign_id, lead_id FROM {CURRENT} WHERE workspace = ? AND lead_id IS NOT NULL "
        "ORDER BY campaign_id, lead_id",
        [workspace],
    ).fetchall():
        known.setdefault(campaign_id, []).append(lead_id)
    return known


def lead_links_sql(source_table: str) -> str:
    """SQL of (row_key, campaign_id, lead_id) for every row of ops.<source_table> with a known lead id."""
    return (
        f"SELECT DISTINCT row_key, campaign_id, lead_id FROM {CURRENT} "
        f"WHERE source_table = {quote_literal(source_table)} AND lead_id IS NOT NULL"
    )


def ledger_leads_sql() -> str:
    """SQL of (lead_id, campaign_id, email) for every lead the ledger knows (distinct)."""
    return f"SELECT DISTINCT lead_id, campaign_id, email FROM {CURRENT} WHERE lead_id IS NOT NULL"


def exists(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the ledger's tables exist in this warehouse (they do once migrations ran)."""
    schema, name = _ENTRIES.split(".")
    return table_exists(con, schema, name)


# -- entries as frames ---------------------------------------------------------------------------------


def intents(rows: pl.DataFrame, batch_id: str) -> pl.DataFrame:
    """`pending` entries for the rows of one request (row_key, email, lead_id, payload_hash columns)."""
    return entry_frame(rows, "pending", batch_id=batch_id)


def entry_frame(
    rows: pl.DataFrame,
    state: LedgerState | Sequence[LedgerState],
    *,
    batch_id: str,
    lead_ids: Sequence[str | None] | None = None,
    outcomes: Outcome | Sequence[Outcome | None] | None = None,
    payload_hashes: Sequence[str | None] | None = None,
) -> pl.DataFrame:
    """An entries frame (ENTRY_COLUMNS) for `rows`: one state/outcome for all rows, or one per row.

    Args:
        rows: row_key, email, and (unless given here) lead_id and payload_hash columns.
        lead_ids, payload_hashes: one per row, replacing the rows' own columns.
    """

    def column(value: str | Sequence[str | None] | None) -> pl.Series | pl.Expr:
        if isinstance(value, str) or value is None:
            return pl.lit(value, dtype=pl.Utf8)
        return pl.Series(list(value), dtype=pl.Utf8)

    return rows.select(
        "row_key",
        "email",
        lead_id=column(lead_ids) if lead_ids is not None else pl.col("lead_id"),
        payload_hash=column(payload_hashes) if payload_hashes is not None else pl.col("payload_hash"),
        state=column(state),
        outcome=column(outcomes),
        batch_id=pl.lit(batch_id, dtype=pl.Utf8),
    )


def result_frame(
    rows: pl.DataFrame,
    lead_ids: Sequence[str | None],
    outcomes: Sequence[Outcome],
    reasons: Sequence[str | None],
) -> pl.DataFrame:
    """A results frame (RESULT_COLUMNS) for `rows` (row_key, email), one lead id, outcome, reason a row."""
    return rows.select(
        "row_key",
        "email",
        lead_id=pl.Series(list(lead_ids), dtype=pl.Utf8),
        outcome=pl.Series(list(outcomes), dtype=pl.Utf8),
        reason=pl.Series(list(reasons), dtype=pl.Utf8),
    )


def created_frames(
    rows: Sequence[pl.DataFrame], lead_ids: Sequence[Sequence[str]], batch_ids: Sequence[str]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Entries (ENTRY_COLUMNS) and results (RESULT_COLUMNS) of bulk adds that created every row, at once.

    Args:
        rows: each request's rows (row_key, email, payload_hash, reason), in the order sent.
        lead_ids: each request's new lead ids, one per row (the answer's created_leads in row order).
        batch_ids: each request's batch id.

    Returns:
        `done` entries with outcome `created`, the rows' lead ids, payload hashes and batch ids; and the
        matching `created` results with each row's reason. The same as entry_frame and result_frame per
        request, in one pass over all of them.
    """
    frame = pl.concat(
        [part.select("row_key", "email", "payload_hash", "reason") for part in rows],
        how="vertical_relaxed",
        rechunk=True,
    )
    ids = pl.Series("lead_id", list(chain.from_iterable(lead_ids)), dtype=pl.Utf8)
    batches = pl.Series("batch_id", list(batch_ids), dtype=pl.Utf8).repeat_by(
        pl.Series([len(part) for part in lead_ids], dtype=pl.UInt32)
    )
    entries = frame.select(
        pl.col("row_key").cast(pl.Utf8),
        pl.col("email").cast(pl.Utf8),
        lead_id=ids,
        payload_hash=pl.col("payload_hash").cast(pl.Utf8),
        state=pl.lit("done", dtype=pl.Utf8),
        outcome=pl.lit("created", dtype=pl.Utf8),
        batch_id=batches.explode(),
    )
    results = frame.select(
        pl.col("row_key").cast(pl.Utf8),
        pl.col("email").cast(pl.Utf8),
        lead_id=ids,
        outcome=pl.lit("created", dtype=pl.Utf8),
        reason=pl.col("reason").cast(pl.Utf8),
    )
    return entries, results


# -- writes --------------------------------------------------------------------------------------------


def write(
    con: duckdb.DuckDBPyConnection,
    scope: LedgerScope,
    entries: pl.DataFrame | None = None,
    *,
    forget: Iterable[str] | pl.Series = (),
    settle: bool = False,
) -> int:
    """Append entries (a frame with ENTRY_COLUMNS) and forget rows, as one ledger write.

    Append-only: one row in ops.push_ledger_writes, one entry per row key (the last one given for a key
    wins; forgotten keys come after the entries). Run it inside the caller's transaction to make it atomic
    with other statements. Returns the entries appended.

    Args:
        settle: also delete the scope's intents that these entries supersede (what `compact` deletes
            after the push), in the same transaction. On a DuckDB file the push settles every cycle, so
            a checkpoint never compresses the intents of finished requests (a million-lead push wrote, then
            compressed, then deleted a million of them). Not on a DuckLake: a delete per cycle there is a
            new delete file per cycle, and a conflict with every other push deleting at the same time.
    """
    frames = []
    if entries is not None and not entries.is_empty():
        frames.append(entries.select(ENTRY_COLUMNS).cast(_ENTRY_SCHEMA))
    keys = forget if isinstance(forget, pl.Series) else pl.Series(list(forget), dtype=pl.Utf8)
    if not keys.is_empty():
        frames.append(
            pl.DataFrame({"row_key": keys.cast(pl.Utf8)}).select(
                "row_key",
                *(pl.lit(None, dtype=pl.Utf8).alias(c) for c in ("email", "lead_id", "payload_hash")),
                state=pl.lit(FORGOTTEN),
                outcome=pl.lit(None, dtype=pl.Utf8),
                batch_id=pl.lit(None, dtype=pl.Utf8),
            )
        )
    if not frames:
        return 0
    rows = pl.concat(frames, how="vertical_relaxed").unique("row_key", keep="last", maintain_order=True)
    # Unique without a lock (a DuckLake lets two pushes append at once, and INSERTs never conflict there):
    # microseconds since the epoch times 1,000 plus a random 0-999, and above every write of the scope, so
    # a scope's writes still increase. A BIGINT holds it until the year 2262.
    row = con.execute(
        f"SELECT greatest(coalesce(max(write_id), 0) + 1, epoch_us(now()) * 1000 + CAST(floor(random() * 1000) AS BIGINT)) "
        f"FROM {_WRITES} WHERE workspace = ? AND campaign_id = ? AND source_table = ?",
        scope.params,
    ).fetchone()
    write_id = int(row[0]) if row else 1
    con.execute(
        f"INSERT INTO {_WRITES} VALUES (?, ?, ?, ?, ?, now())", [write_id, *scope.params, scope.run_id]
    )
    pending = rows["state"] == "pending"
    for table, part, columns in (
        (_INTENTS, rows.filter(pending), "row_key, email, payload_hash, batch_id, lead_id"),
        (_ENTRIES, rows.filter(~pending), "row_key, email, lead_id, payload_hash, state, outcome, batch_id"),
    ):
        if part.is_empty():
            continue
        con.register("ledger_entries", part.to_arrow())
        try:
            con.execute(
                f"INSERT INTO {table} (write_id, {columns}) SELECT ?, {columns} FROM ledger_entries",
                [write_id],
            )
            if settle and table == _ENTRIES:
                # The rule of `compact`: an intent goes once a newer entry of its row exists (this one).
                con.execute(
                    f"DELETE FROM {_INTENTS} WHERE write_id < ? AND write_id IN ({_SCOPE_WRITES}) "
                    "AND row_key IN (SELECT row_key FROM ledger_entries)",
                    [write_id, *scope.params],
                )
        finally:
            con.unregister("ledger_entries")
    return rows.height


def entries_of(listed: Sequence[LedgerEntry]) -> pl.DataFrame:
    """An entries frame (ENTRY_COLUMNS) of typed entries."""
    return pl.DataFrame({c: [getattr(e, c) for e in listed] for c in ENTRY_COLUMNS}, schema=_ENTRY_SCHEMA)


def append_results(
    con: duckdb.DuckDBPyConnection, scope: LedgerScope, results: pl.DataFrame | Sequence[ResultRow]
) -> int:
    """Append per-row outcomes (a frame with RESULT_COLUMNS, or ResultRows) to ops.push_results."""
    if not isinstance(results, pl.DataFrame):
        results = pl.DataFrame(
            {c: [getattr(r, c) for r in results] for c in RESULT_COLUMNS}, schema=_RESULT_SCHEMA
        )
    if results.is_empty():
        return 0
    rows = results.select(RESULT_COLUMNS).cast(_RESULT_SCHEMA)
    con.register("result_rows", rows.to_arrow())
    try:
        con.execute(
            "INSERT INTO ops.push_results (run_id, source_table, row_key, email, campaign_id, lead_id, "
            'outcome, reason, "at") SELECT ?, ?, row_key, email, ?, lead_id, outcome, reason, now() '
            "FROM result_rows",
            [scope.run_id, scope.source_table, scope.campaign_id],
        )
    finally:
        con.unregister("result_rows")
    return rows.height


def drop_repeated_results(con: duckdb.DuckDBPyConnection, scope: LedgerScope) -> int:
    """Delete the scope's earlier results that the run just finished repeats (ops.push_results); returns how
    many.

    A table pushed on a schedule would otherwise add a row per source row and run (a million rows an hour
    for a million-row table) that tells nothing the newest run does not: earlier runs' `unchanged` rows
    (nothing was sent), their copies of a kept outcome (reason ending NOT_RESENT: the run that decided it
    keeps its own row) and their `invalid` rows that this run reports again with the same reason. The push
    runs this once it has finished: the newest finished run of a table and campaign keeps every row's
    outcome, earlier runs keep what happened then, and every run's totals stay in ops.sync_runs.counts. A
    crashed run never gets here, so the run before it keeps its rows.
    """
    row = con.execute(
        """DELETE FROM ops.push_results p
        WHERE p.source_table = ? AND p.campaign_id = ? AND p.run_id <> ? AND (
            p.outcome = 'unchanged'
            OR ends_with(p.reason, ?)
            OR (p.outcome = 'invalid' AND EXISTS (
                SELECT 1 FROM ops.push_results c
                WHERE c.run_id = ? AND c.source_table = p.source_table AND c.campaign_id = p.campaign_id
                    AND c.outcome = 'invalid' AND c.row_key IS NOT DISTINCT FROM p.row_key
                    AND c.reason IS NOT DISTINCT FROM p.reason
            ))
        )""",
        [scope.source_table, scope.campaign_id, scope.run_id, NOT_RESENT, scope.run_id],
    ).fetchone()
    return int(row[0]) if row else 0


def compact(con: duckdb.DuckDBPyConnection, scope: LedgerScope) -> int:
    """Delete the scope's superseded entries (and rows whose newest entry forgets them); returns how many.

    An intent goes once any newer entry of its row exists (after a finished push, every intent has its
    outcome); an entry once a newer entry exists, or when it is the `forgotten` one. An entry superseded only
    by a still-open intent stays until that intent is settled. The current state does not change. One
    transaction; the push runs it once it has finished.
    """
    with in_transaction(con):
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE ledger_stale AS
            SELECT write_id, row_key FROM (
                SELECT e.write_id, e.row_key, e.state,
                    row_number() OVER (PARTITION BY e.row_key ORDER BY e.write_id DESC) AS newest
                FROM {_ENTRIES} e WHERE e.write_id IN ({_SCOPE_WRITES})
            ) WHERE newest > 1 OR state = '{FORGOTTEN}'""",
            scope.params,
        )
        # Intents first, while the entries that supersede them (a `forgotten` one too) are still there.
        row = con.execute(
            f"""DELETE FROM {_INTENTS} i
            WHERE i.write_id IN ({_SCOPE_WRITES}) AND EXISTS (
                SELECT 1 FROM {_ALL_ENTRIES} n
                WHERE n.row_key = i.row_key AND n.write_id > i.write_id AND n.write_id IN ({_SCOPE_WRITES})
            )""",
            [*scope.params, *scope.params],
        ).fetchone()
        settled = int(row[0]) if row else 0
        row = con.execute("SELECT count(*) FROM ledger_stale").fetchone()
        stale = int(row[0]) if row else 0
        if stale:
            con.execute(
                f"DELETE FROM {_ENTRIES} e USING ledger_stale s "
                "WHERE e.write_id = s.write_id AND e.row_key = s.row_key"
            )
        if stale or settled:
            con.execute(
                f"DELETE FROM {_WRITES} w WHERE workspace = ? AND campaign_id = ? AND source_table = ? "
                f"AND NOT EXISTS (SELECT 1 FROM {_ENTRIES} e WHERE e.write_id = w.write_id) "
                f"AND NOT EXISTS (SELECT 1 FROM {_INTENTS} i WHERE i.write_id = w.write_id)",
                scope.params,
            )
        con.execute("DROP TABLE ledger_stale")
    return stale + settled


def record_campaign_name(con: duckdb.DuckDBPyConnection, campaign_id: str, name: str) -> None:
    """Remember the name of a campaign pushed to (`ops.pushed_campaigns`), for the engagement views before a
    sync has pulled it. Rewritten only when new or renamed: a DuckLake write that other pushes starting now
    would conflict with."""
    with in_transaction(con):
        _remember_name(con, "ops.pushed_campaigns", "campaign_id", campaign_id, name)


def _remember_name(
    con: duckdb.DuckDBPyConnection, table: str, key_column: str, key: str, name: str | None
) -> None:
    """Upsert (key, name, seen_at) into `table` only when the key is new or its name changed: a DuckLake
    write that other pushes starting now would conflict with."""
    known = con.execute(f"SELECT name FROM {table} WHERE {quote_ident(key_column)} = ?", [key]).fetchall()
    if known != [(name,)]:
        row = {key_column: key, "name": name, "seen_at": datetime.now(UTC)}
        upsert_row(con, table, [key_column], row)


def adopt_workspace(
    con: duckdb.DuckDBPyConnection, workspace_id: str, name: str | None, campaign_ids: Sequence[str]
) -> int:
    """Record the workspace and re-key ledger rows of these campaigns written under another workspace name.

    Before migration 0008 the ledger's workspace was the base URL plus an API-key hash; a key rotation made
    every row look new. A campaign id (uuid) belongs to one workspace, so a row of one of `campaign_ids`
    (resolved through the API as this workspace's) is this workspace's whatever name it was written under.
    Where both exist, the row already under `workspace_id` wins. One transaction; returns the rows re-keyed.
    """
    campaigns = sorted(set(campaign_ids))
    with in_transaction(con):
        _remember_name(con, "ops.workspaces", "workspace_id", workspace_id, name)
        old = [
            r[0]
            for r in con.execute(
                f"SELECT DISTINCT workspace FROM {_WRITES} WHERE list_contains(?, campaign_id) "
                "AND workspace <> ? ORDER BY 1",
                [campaigns, workspace_id],
            ).fetchall()
        ]
        moved = 0
        if old:
            # Entries of rows the workspace id already has go; the rest move with their writes.
            for table in (_ENTRIES, _INTENTS):
                con.execute(
                    f"""DELETE FROM {table} e USING {_WRITES} w
                    WHERE e.write_id = w.write_id AND list_contains(?, w.campaign_id) AND w.workspace <> ?
                    AND EXISTS (
                        SELECT 1 FROM {CURRENT} c WHERE c.workspace = ? AND c.campaign_id = w.campaign_id
                        AND c.source_table = w.source_table AND c.row_key = e.row_key
                    )""",
                    [campaigns, workspace_id, workspace_id],
                )
            row = con.execute(
                f"SELECT count(*) FROM {CURRENT} WHERE list_contains(?, campaign_id) AND workspace <> ?",
                [campaigns, workspace_id],
            ).fetchone()
            moved = int(row[0]) if row else 0
            con.execute(
                f"UPDATE {_WRITES} SET workspace = ? WHERE list_contains(?, campaign_id) AND workspace <> ?",
                [workspace_id, campaigns, workspace_id],
            )
            con.execute("DELETE FROM ops.workspace_aliases WHERE list_contains(?, alias)", [old])
            con.executemany(
                "INSERT INTO ops.workspace_aliases VALUES (?, ?, now())",
                [[alias, workspace_id] for alias in old],
            )
    return moved
