"""The `--json` documents of `push` and `sync`: stable shapes for scripts (pure; docs/cli-json.md).

Both documents have `command`, `run_id` (the Prefect flow run's id, also `run_id` in ops.push_results /
ops.sync_runs), `warehouse` (the file path or DuckLake URL, any password replaced by `***`) and `requests`
(`{"total": N, "by_kind": {...}}`: every HTTP request sent to Instantly, retries included). Keys are only
ever added, never renamed or removed. No secret appears: ids, names, counts and the redacted location only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["JSON_SHAPE_VERSION", "push_document", "sync_document"]

JSON_SHAPE_VERSION = 1  # raised only if a key ever has to change meaning


def _requests(by_kind: Mapping[str, int]) -> dict[str, Any]:
    return {"total": sum(by_kind.values()), "by_kind": dict(by_kind)}


def push_document(tables: Iterable[Mapping[str, Any]], *, warehouse: str) -> dict[str, Any]:
    """The `push --json` document from the flow's per-table summaries (`flows.push_leads._summary`).

    Shape:
        {"command": "push", "version": 1, "run_id": str, "warehouse": str,
         "outcomes": {outcome: int, ...},            # every outcome of ops.push_results, 0 included
         "requests": {"total": int, "by_kind": {"adds": int, "lookups": int, ...}},
         "tables": [{"table": str, "rows": int, "skip_hint": str | null, "duplicate_hint": str | null,
                     "campaigns": [{"id": str, "name": str, "outcomes": {...}, "requests": {...},
                                    "reconciled": int, "created_earlier": int, "unresolved": int,
                                    "guard_lifted": int,
                                    "seconds": float}]}]}

    Request kinds: adds (POST /leads/add), lookups (POST /leads/list), updates (PATCH /leads/{id}), reads
    (GET /leads/{id}), workspace (GET /workspaces/current); any other endpoint under its own name.
    """
    from warehouse.ledger import OUTCOMES  # the push has imported it already

    total_outcomes: Counter[str] = Counter(dict.fromkeys(OUTCOMES, 0))
    total_requests: Counter[str] = Counter()
    run_id = ""
    out_tables = []
    for table in tables:
        run_id = table["run_id"]
        campaigns = []
        for c in table["campaigns"]:
            outcomes = {o: int(c["counts"].get(o, 0)) for o in OUTCOMES}
            total_outcomes.update(outcomes)
            total_requests.update(c["requests_by_kind"])
            campaigns.append(
                {
                    "id": c["id"],
                    "name": c["name"],
                    "outcomes": outcomes,
                    "requests": _requests(c["requests_by_kind"]),
                    "reconciled": c["reconciled"],
                    "created_earlier": c.get("created_earlier", 0),
                    "unresolved": c["unresolved"],
                    "guard_lifted": c["guard_lifted"],
                    "seconds": c["seconds"],
                }
            )
        out_tables.append(
            {
                "table": table["table"],
                "rows": table["rows"],
                "skip_hint": table.get("skip_hint"),
                "duplicate_hint": table.get("duplicate_hint"),
                "campaigns": campaigns,
            }
        )
    return {
        "command": "push",
        "version": JSON_SHAPE_VERSION,
        "run_id": run_id,
        "warehouse": warehouse,
        "outcomes": dict(total_outcomes),
        "requests": _requests(total_requests),
        "tables": out_tables,
    }


def sync_document(
    *, run_id: str, as_of: str, counts: Mapping[str, Any], tables: Iterable[str], warehouse: str
) -> dict[str, Any]:
    """The `sync --json` document from a `SyncResult`'s fields.

    Shape:
        {"command": "sync", "version": 1, "run_id": str, "as_of": "YYYY-MM-DD", "warehouse": str,
         "tables": {"campaigns": {"inserted": int, "updated": int, "unchanged": int}, ...},  # instantly.*
         "views": [str, ...],                      # engagement views refreshed
         "engagement": {"replies": int, "auto_replies": int, "leads_replied": int, "leads_bounced": int,
                        "leads_unsubscribed": int, "leads_interested": int},   # since the last sync
         "webhook_catch_up": {"recovered_new": int, ...},
         "write_back": {postgres_table: rows_changed, ...},
         "requests": {"total": int, "by_kind": {"POST /leads/list": int, ...}}}   # the pull's, by endpoint
    """
    api = (counts.get("pull") or {}).get("api") or {}
    return {
        "command": "sync",
        "version": JSON_SHAPE_VERSION,
        "run_id": run_id,
        "as_of": as_of,
        "warehouse": warehouse,
        "tables": {t: dict(counts[t]) for t in tables if counts.get(t)},
        "views": list(counts.get("views") or []),
        "engagement": dict((counts.get("engagement") or {}).get("total") or {}),
        "webhook_catch_up": dict(counts.get("webhook_catch_up") or {}),
        "write_back": dict(counts.get("write_back") or {}),
        "requests": _requests(dict(sorted((api.get("by_endpoint") or {}).items()))),
    }
