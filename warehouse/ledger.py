"""The push ledger and push results: every SQL statement of the push half, in short connections.

Each function takes an open connection; the push engine opens one per write cycle (results of finished
batches plus the intents of the next ones) and never holds it during an HTTP call.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import duckdb
import polars as pl

LEDGER_STATES = ("pending", "sent", "unknown", "done", "rejected")
OPEN_STATES = ("pending", "sent", "unknown")  # the request may have reached Instantly: reconcile first

_LEDGER_SCHEMA = {
    "row_key": pl.Utf8,
    "email": pl.Utf8,
    "lead_id": pl.Utf8,
    "payload_hash": pl.Utf8,
    "state": pl.Utf8,
    "outcome": pl.Utf8,
    "batch_id": pl.Utf8,
}
_RESULT_SCHEMA = {
    "row_key": pl.Utf8,
    "email": pl.Utf8,
    "lead_id": pl.Utf8,
    "outcome": pl.Utf8,
    "reason": pl.Utf8,
}
LEDGER_COLUMNS = tuple(_LEDGER_SCHEMA)
RESULT_COLUMNS = tuple(_RESULT_SCHEMA)


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
class LedgerRow:
    """One row's ledger entry (what we last did for it in this campaign)."""

    row_key: str
    email: str | None
    lead_id: str | None
    payload_hash: str | None
    state: str
    outcome: str | None = None
    batch_id: str | None = None


@dataclass(frozen=True)
class ResultRow:
    """One line of ops.push_results."""

    row_key: str | None
    email: str | None
    lead_id: str | None
    outcome: str
    reason: str | None = None


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _slice_sql(scope: LedgerScope, columns: Sequence[str], where: str) -> str:
    cols = ", ".join(f"t.{_ident(c)} AS c{i}" for i, c in enumerate(columns))
    return (
        "SELECT t.rowid AS rowid, t._row_key AS row_key, t._row_problem AS row_problem, "
        "l.state AS l_state, l.payload_hash AS l_hash, "
        f"l.lead_id AS l_lead_id, l.outcome AS l_outcome, l.email AS l_email, {cols} "
        f"FROM ops.{_ident(scope.source_table)} AS t LEFT JOIN ops.push_ledger AS l "
        "ON l.workspace = ? AND l.campaign_id = ? AND l.source_table = ? AND l.row_key = t._row_key "
        f"WHERE {where} ORDER BY t.rowid"
    )


def read_slice_frame(
    con: duckdb.DuckDBPyConnection, scope: LedgerScope, columns: Sequence[str], start: int, stop: int
) -> pl.DataFrame:
    """Rows [start, stop) of ops.<table> in source order with their ledger entry, as one frame.

    Columns: rowid, row_key, row_problem (the extract's `_row_problem`: why the source line was not read),
    l_state, l_hash, l_lead_id, l_outcome, l_email (the ledger entry, null when the row was never pushed to
    this campaign), then the source `columns` as c0, c1, ...
    """
    sql = _slice_sql(scope, columns, "t.rowid >= ? AND t.rowid < ?")
    return con.sql(sql, params=[*scope.params, start, stop]).pl()


def read_keys_frame(
    con: duckdb.DuckDBPyConnection, scope: LedgerScope, columns: Sequence[str], row_keys: Sequence[str]
) -> pl.DataFrame:
    """Like `read_slice_frame`, for the rows with these row keys only (every occurrence, in source order)."""
    # A semi-join on a registered frame: list_contains(?, key) would compare every row with every key.
    con.register("wanted_keys", pl.DataFrame({"row_key": list(row_keys)}, schema={"row_key": pl.Utf8}))
    try:
        sql = _slice_sql(scope, columns, "t._row_key IN (SELECT row_key FROM wanted_keys)")
        return con.sql(sql, params=list(scope.params)).pl()
    finally:
        con.unregister("wanted_keys")


def upsert_frame(con: duckdb.DuckDBPyConnection, scope: LedgerScope, frame: pl.DataFrame) -> int:
    """Insert or replace ledger rows from a frame with the LedgerRow columns (the last row per key wins)."""
    if frame.is_empty():
        return 0
    rows = (
        frame.select(list(_LEDGER_SCHEMA))
        .cast(_LEDGER_SCHEMA)
        .unique("row_key", keep="last", maintain_order=True)
    )  # type: ignore[arg-type]
    con.register("ledger_rows", rows)
    try:
        con.execute(
            "INSERT OR REPLACE INTO ops.push_ledger SELECT ?, ?, ?, row_key, email, lead_id, payload_hash, "
            "state, outcome, batch_id, ?, now() FROM ledger_rows",
            [*scope.params, scope.run_id],
        )
    finally:
        con.unregister("ledger_rows")
    return rows.height


def append_results_frame(con: duckdb.DuckDBPyConnection, scope: LedgerScope, frame: pl.DataFrame) -> int:
    """Append per-row outcomes (a frame with the ResultRow columns) to ops.push_results."""
    if frame.is_empty():
        return 0
    rows = frame.select(list(_RESULT_SCHEMA)).cast(_RESULT_SCHEMA)  # type: ignore[arg-type]
    con.register("result_rows", rows)
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


def delete_frame(con: duckdb.DuckDBPyConnection, scope: LedgerScope, row_keys: pl.Series) -> int:
    """Forget these rows (see `delete`), keys given as a polars Series."""
    if row_keys.is_empty():
        return 0
    keys = pl.DataFrame({"row_key": row_keys.cast(pl.Utf8)}).unique()
    con.register("forget_keys", keys)
    try:
        con.execute(
            "DELETE FROM ops.push_ledger WHERE workspace = ? AND campaign_id = ? AND source_table = ? "
            "AND row_key IN (SELECT row_key FROM forget_keys)",
            scope.params,
        )
    finally:
        con.unregister("forget_keys")
    return keys.height


def open_rows(con: duckdb.DuckDBPyConnection, scope: LedgerScope) -> list[LedgerRow]:
    """Rows whose last request may or may not have reached Instantly (pending, sent, unknown)."""
    rows = con.execute(
        "SELECT row_key, email, lead_id, payload_hash, state, outcome, batch_id FROM ops.push_ledger "
        "WHERE workspace = ? AND campaign_id = ? AND source_table = ? "
        "AND state IN ('pending', 'sent', 'unknown') "
        "ORDER BY row_key",
        scope.params,
    ).fetchall()
    return [LedgerRow(*r) for r in rows]


def upsert(con: duckdb.DuckDBPyConnection, scope: LedgerScope, rows: Iterable[LedgerRow]) -> int:
    """Insert or replace ledger rows (the last entry per row key wins)."""
    by_key = {r.row_key: r for r in rows}
    if not by_key:
        return 0
    frame = pl.DataFrame(
        [
            (r.row_key, r.email, r.lead_id, r.payload_hash, r.state, r.outcome, r.batch_id)
            for r in by_key.values()
        ],
        schema=_LEDGER_SCHEMA,
        orient="row",
    )
    return upsert_frame(con, scope, frame)


def delete(con: duckdb.DuckDBPyConnection, scope: LedgerScope, row_keys: Iterable[str]) -> int:
    """Forget rows (a request that provably never took effect): they are sent again as new."""
    return delete_frame(con, scope, pl.Series(list(row_keys), dtype=pl.Utf8))


def append_results(con: duckdb.DuckDBPyConnection, scope: LedgerScope, rows: Sequence[ResultRow]) -> int:
    """Append per-row outcomes to ops.push_results."""
    if not rows:
        return 0
    frame = pl.DataFrame(
        [(r.row_key, r.email, r.lead_id, r.outcome, r.reason) for r in rows],
        schema=_RESULT_SCHEMA,
        orient="row",
    )
    con.register("result_rows", frame)
    try:
        con.execute(
            "INSERT INTO ops.push_results (run_id, source_table, row_key, email, campaign_id, lead_id, "
            'outcome, reason, "at") SELECT ?, ?, row_key, email, ?, lead_id, outcome, reason, now() '
            "FROM result_rows",
            [scope.run_id, scope.source_table, scope.campaign_id],
        )
    finally:
        con.unregister("result_rows")
    return len(rows)


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
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("INSERT OR REPLACE INTO ops.workspaces VALUES (?, ?, now())", [workspace_id, name])
        old = [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT workspace FROM ops.push_ledger WHERE list_contains(?, campaign_id) "
                "AND workspace <> ?",
                [campaigns, workspace_id],
            ).fetchall()
        ]
        moved = 0
        if old:
            row = con.execute(
                "SELECT count(*) FROM ops.push_ledger WHERE list_contains(?, campaign_id) AND workspace <> ?",
                [campaigns, workspace_id],
            ).fetchone()
            moved = int(row[0]) if row else 0
            con.execute(
                "INSERT OR IGNORE INTO ops.push_ledger SELECT ? AS workspace, campaign_id, source_table, "
                "row_key, email, lead_id, payload_hash, state, outcome, batch_id, run_id, updated_at "
                "FROM ops.push_ledger WHERE list_contains(?, campaign_id) AND workspace <> ?",
                [workspace_id, campaigns, workspace_id],
            )
            con.execute(
                "DELETE FROM ops.push_ledger WHERE list_contains(?, campaign_id) AND workspace <> ?",
                [campaigns, workspace_id],
            )
            con.executemany(
                "INSERT OR REPLACE INTO ops.workspace_aliases VALUES (?, ?, now())",
                [[alias, workspace_id] for alias in old],
            )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return moved


def outcome_counts(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, dict[str, int]]:
    """{campaign_id: {outcome: rows}} for one run, from ops.push_results."""
    counts: dict[str, dict[str, int]] = {}
    for campaign, outcome, n in con.execute(
        "SELECT campaign_id, outcome, count(*) FROM ops.push_results WHERE run_id = ? "
        "GROUP BY ALL ORDER BY ALL",
        [run_id],
    ).fetchall():
        counts.setdefault(campaign, {})[outcome] = int(n)
    return counts
