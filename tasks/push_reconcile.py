"""Reconcile: settle rows whose last request may or may not have reached Instantly, before anything is resent.

A row is open (ledger.OPEN_STATES) when its intent was written but its outcome is not known: the run that
sent it crashed, or the request timed out or got a 5xx. An open add is looked up by email in the campaign:
found, it is `done` with that lead id; not found, it is forgotten, so it is sent again as new. An open
update (PATCH, idempotent) is simply sent again.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass, field

from tasks.push_lookup import Lookups
from tasks.push_record import push_connection, tune
from warehouse import ledger
from warehouse.db import Warehouse
from warehouse.ledger import LedgerEntry, LedgerScope, ResultRow

# row key -> (outcome, lead id, reason) of rows an earlier attempt turned out to have created
Found = dict[str, tuple[str, str, str]]

STILL_UNKNOWN = "outcome still unknown after retries (timeouts or 5xx); the next run reconciles it"


@dataclass
class Reconciled:
    """What one reconciliation settled."""

    found: Found = field(default_factory=dict)
    resend: set[str] = field(default_factory=set)  # row keys to send again
    looked_at: int = 0  # open rows
    counts: Counter[str] = field(default_factory=Counter)  # outcomes recorded now (record=True)


def reconcile(
    warehouse: Warehouse, scope: LedgerScope, lookups: Lookups, *, record: bool, resend_missing: bool = True
) -> Reconciled:
    """Resolve the scope's open rows (one lookup round, one ledger write).

    Args:
        record: write a `created` result for rows found now (during a run); at the start of a run they are
            reported with the row instead (`Reconciled.found`).
        resend_missing: forget rows not found so they are sent again; when False they stay `unknown`
            (nothing is resent in this run).

    Raises:
        InstantlyError: a lookup failed (nothing was written).
    """
    with push_connection(warehouse) as con:
        open_rows = ledger.open_entries(con, scope)
    out = Reconciled(looked_at=len(open_rows))
    if not open_rows:
        return out
    found = lookups.in_campaign([r.email for r in open_rows if not r.lead_id and r.email])
    settled: list[LedgerEntry] = []
    forget: list[str] = []
    results: list[ResultRow] = []
    for row in open_rows:
        if row.lead_id:
            if resend_missing:
                # An update whose outcome is unknown: PATCH is idempotent, so clear the hash to resend it.
                settled.append(dataclasses.replace(row, state="done", payload_hash=None, outcome="updated"))
                out.resend.add(row.row_key)
            continue  # else it stays unknown: reported now, re-PATCHed by the next run
        lead_id = found.get(row.email or "")
        if lead_id is None:
            if resend_missing:
                forget.append(row.row_key)
                out.resend.add(row.row_key)
            continue
        reason = f"created by an earlier attempt (batch {row.batch_id}); confirmed by a lookup"
        settled.append(dataclasses.replace(row, state="done", lead_id=lead_id, outcome="created"))
        out.found[row.row_key] = ("created", lead_id, reason)
        if record:
            results.append(ResultRow(row.row_key, row.email, lead_id, "created", reason))
    for attempt in warehouse.transactions():
        with attempt as con:
            tune(con)
            ledger.write(con, scope, ledger.entries_of(settled), forget=forget)
            ledger.append_results(con, scope, results)
    out.counts.update(r.outcome for r in results)
    return out


def report_unknown(warehouse: Warehouse, scope: LedgerScope) -> int:
    """Rows still open after every pass: reported `unknown` (the ledger keeps them so for the next run)."""
    with push_connection(warehouse) as con:
        left = ledger.open_entries(con, scope)
        ledger.append_results(
            con, scope, [ResultRow(r.row_key, r.email, r.lead_id, "unknown", STILL_UNKNOWN) for r in left]
        )
    return len(left)
