"""Pure decisions of the push: what to do with a row, how many requests to keep in flight, and how to
attribute a bulk-add response to the rows that were sent. No I/O here, so all of it is table-tested.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import polars as pl

from instantly_client import concurrency_for
from ops_core.interface import option_value
from warehouse.ledger import NOT_RESENT

if TYPE_CHECKING:
    from warehouse.ledger import Outcome

T = TypeVar("T")

SKIP_MODES = ("in_campaign", "in_workspace", "none")

_SKIP_REASONS = {
    "in_campaign": "skipped: already in another campaign (skip_if_in_campaign); use --skip-if none to add it",
    "in_workspace": "skipped: already in the workspace (skip_if_in_workspace); use --skip-if none to add it",
    "none": "skipped by the API",
}
REASONS = {
    "duplicate": "already in this campaign",
    "blocklisted": "on the workspace blocklist",
    "invalid": "the API rejected the email as invalid",
    "unexplained": "not created, and the API's counts do not say why",
    "ambiguous": "not created: blocklisted or invalid email (the API's counts do not say which)",
}


def skip_hint() -> str:
    """Why rows were skipped, and how to add them anyway (the push's summary and artifact). The per-row
    reasons above stay one text whichever interface ran the push: they are data in ops.push_results.

    SPEC POST /leads/add `skip_if_in_campaign` skips a lead that is in ANY campaign of the workspace.
    """
    return (
        "skip_if_in_campaign skips a lead that is already in another campaign of the workspace (Instantly "
        "checks every campaign; campaigns pushed together, or connected to the same table, do not block each "
        f"other); {option_value('skip_if', 'none')} adds it anyway"
    )


def duplicate_hint() -> str:
    """What happens to leads that were already in the campaign (the push's summary and artifact).

    SPEC POST /leads/add leaves such a lead as it was (`duplicated_leads`), so it keeps the data it had; the
    ledger records it without a payload hash, and the next push PATCHes it with its row's values (SPEC
    PATCH /leads/{id}: there is no bulk update), after which it is `unchanged` like any other row; a lead
    that, read first, already holds the row's values is not written (tasks/push_send.py).
    """
    return (
        "Instantly kept the data they had; the next push updates those that differ from this table's values "
        "(one PATCH /leads/{id} per lead)"
    )


def skip_flags(mode: str) -> dict[str, bool]:
    """The /leads/add flags for a --skip-if mode (skip_if_in_workspace overrides the others: SPEC)."""
    if mode not in SKIP_MODES:
        raise ValueError(f"skip mode must be one of {', '.join(SKIP_MODES)}, got {mode!r}")
    return {"skip_if_in_campaign": mode == "in_campaign", "skip_if_in_workspace": mode == "in_workspace"}


def skip_guard(skip_mode: str, siblings: Iterable[str] = ()) -> str:
    """What a skip depends on besides the row's data, as the suffix a skipped row's ledger hash carries (pure).

    POST /leads/add skips a lead by the skip flags (the --skip-if mode) and, under skip_if_in_campaign, the
    push lets its own campaigns through (`sibling_verdict`). A row skipped under one guard is "unchanged
    since" only under the same guard: a re-run with --skip-if none, another mode, or other campaigns pushed
    together (or connected to the table) sends it again. Empty for skip_if_in_campaign with no siblings, the
    guard of every skip recorded before the ledger kept guards, so such a re-run still sends nothing.

    Args:
        skip_mode: the --skip-if mode.
        siblings: the other campaigns of the push (PushTarget.siblings).
    """
    if skip_mode not in SKIP_MODES:
        raise ValueError(f"skip mode must be one of {', '.join(SKIP_MODES)}, got {skip_mode!r}")
    ours = sorted(set(siblings)) if skip_mode == "in_campaign" else []
    if skip_mode == "in_campaign" and not ours:
        return ""
    text = ":".join([skip_mode, *ours])
    return "+" + hashlib.sha256(text.encode()).hexdigest()[:16]


def sibling_verdict(found_in: set[str] | None, ours: set[str]) -> str | None:
    """For a lead skipped by skip_if_in_campaign: `resend` when every campaign it is in belongs to this push
    (so it is sent again without the flag), else the skipped reason naming the others (pure).

    Args:
        found_in: the campaign ids the lead's email is in (a /leads/list contacts lookup); None or empty:
            not found, so the skip cannot be explained and it stays a plain skip.
        ours: this push's campaign ids.
    """
    if not found_in:
        return skip_reason("in_campaign")
    others = sorted(found_in - ours)
    if not others:
        return None
    shown = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
    return (
        f"skipped: already in campaign {shown}, which is not part of this push (skip_if_in_campaign); "
        "use --skip-if none to add it"
    )


def skip_reason(mode: str) -> str:
    return _SKIP_REASONS[mode]


def chunked(items: Sequence[T], size: int) -> Iterator[list[T]]:
    """Consecutive chunks of at most `size` items."""
    if size < 1:
        raise ValueError("chunk size must be >= 1")
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def in_flight_target(
    rate_per_second: float,
    rate_per_minute: float | None,
    latency: float | None,
    *,
    overhead: float = 0.0,
    headroom: float = 1.2,
    minimum: int = 2,
    maximum: int = 64,
) -> int:
    """Requests to keep in flight so the rate budget stays busy: ceil(rate x (latency + overhead) x 1.2).

    The client's limiter paces request starts, so sizing a little high costs only waiting threads, while
    sizing low leaves budget unused (Little's law). `overhead` is time a finished request waits for us
    (the ledger write) before its slot is refilled. Before any latency is observed, start at `minimum`.
    The rule is `instantly_client.concurrency_for`; this is the push's constants.
    """
    return concurrency_for(
        rate_per_second,
        latency,
        rate_per_minute=rate_per_minute,
        overhead=overhead,
        headroom=headroom,
        minimum=minimum,
        maximum=maximum,
    )


@dataclass(frozen=True)
class Decision:
    """What to do with a valid row: `add`, `update` (PATCH lead_id) or `keep` (report `outcome`)."""

    action: str
    outcome: str | None = None
    reason: str | None = None
    lead_id: str | None = None


def decide(
    state: str | None,
    ledger_hash: str | None,
    ledger_lead_id: str | None,
    ledger_outcome: str | None,
    ledger_email: str | None,
    *,
    payload_hash: str,
    email: str,
    skip_mode: str,
    siblings: Iterable[str] = (),
) -> Decision:
    """Decide a valid row's action from its ledger entry (None: never pushed to this campaign).

    A rejected row is resent once its data changed; a skipped one also once its `skip_guard` did (its
    ledger hash is the payload's followed by the guard it was skipped under).
    """
    if state is None:
        return Decision("add")
    if state == "done":
        if ledger_email and ledger_email != email:
            return Decision("add", reason=f"email changed from {ledger_email}: added as a new lead")
        if ledger_hash == payload_hash:
            return Decision("keep", "unchanged", lead_id=ledger_lead_id)
        return Decision("update", lead_id=ledger_lead_id) if ledger_lead_id else Decision("add")
    if state == "rejected":
        guard = skip_guard(skip_mode, siblings) if ledger_outcome == "skipped" else ""
        if ledger_hash == payload_hash + guard:
            outcome = ledger_outcome or "rejected"
            return Decision("keep", outcome, f"{outcome} {NOT_RESENT}")
        if ledger_lead_id:
            return Decision("update", lead_id=ledger_lead_id)
        return Decision("add")
    # pending / sent / unknown are reconciled before planning; reaching here is a bug.
    raise ValueError(f"row in ledger state {state!r} must be reconciled before it is planned")


def decide_frame(rows: pl.DataFrame, *, skip_mode: str, siblings: Iterable[str] = ()) -> pl.DataFrame:
    """`decide` for every row of a frame of valid rows, as expressions.

    Args:
        rows: `email`, `payload_hash` and the ledger entry `l_state`, `l_hash`, `l_lead_id`, `l_outcome`,
            `l_email` (nulls: never pushed to this campaign).
        skip_mode: the --skip-if mode.
        siblings: the other campaigns of the push (a skipped row's guard: `skip_guard`).

    Returns:
        The frame with `action` (add | update | keep), `d_outcome`, `d_reason` and `d_lead_id`, the fields
        of `Decision`.

    Raises:
        ValueError: a row whose ledger entry is still open (pending, sent, unknown): reconcile first.
    """
    state, email = pl.col("l_state"), pl.col("email")
    same = (pl.col("l_hash") == pl.col("payload_hash")).fill_null(False)
    has_id = pl.col("l_lead_id").is_not_null()
    done, rejected = state == "done", state == "rejected"
    email_changed = (
        done & pl.col("l_email").is_not_null() & (pl.col("l_email") != "") & (pl.col("l_email") != email)
    )
    guard = skip_guard(skip_mode, siblings)
    if guard:  # a skipped row is unchanged under the guard it was skipped under only
        skipped = (pl.col("l_outcome") == "skipped").fill_null(False)
        expected = pl.when(skipped).then(pl.col("payload_hash") + pl.lit(guard)).otherwise("payload_hash")
        same_rejected = (pl.col("l_hash") == expected).fill_null(False)
    else:
        same_rejected = same
    keep_rejected = rejected & same_rejected
    rejected_outcome = pl.coalesce(pl.col("l_outcome"), pl.lit("rejected"))
    out = rows.with_columns(
        action=pl.when(state.is_null())
        .then(pl.lit("add"))
        .when(email_changed)
        .then(pl.lit("add"))
        .when(done & same)
        .then(pl.lit("keep"))
        .when((done | rejected) & ~keep_rejected & has_id)
        .then(pl.lit("update"))
        .when(keep_rejected)
        .then(pl.lit("keep"))
        .when(done | rejected)
        .then(pl.lit("add")),
        d_outcome=pl.when(done & ~email_changed & same)
        .then(pl.lit("unchanged"))
        .when(keep_rejected)
        .then(rejected_outcome),
        d_reason=pl.when(email_changed)
        .then(pl.format("email changed from {}: added as a new lead", pl.col("l_email")))
        .when(keep_rejected)
        .then(pl.format("{} " + NOT_RESENT, rejected_outcome)),
        d_lead_id=pl.when(done & ~email_changed)
        .then(pl.col("l_lead_id"))
        .when(rejected & ~keep_rejected)
        .then(pl.col("l_lead_id")),
    )
    open_rows = out.filter(pl.col("action").is_null())
    if not open_rows.is_empty():
        raise ValueError(
            f"row in ledger state {open_rows['l_state'][0]!r} must be reconciled before it is planned"
        )
    return out


@dataclass(frozen=True)
class AddCounts:
    """The counters of a bulk-add response that explain rows that were not created."""

    duplicated: int = 0
    skipped: int = 0
    blocklisted: int = 0
    invalid: int = 0

    @classmethod
    def of(cls, result: Any) -> AddCounts:
        def n(name: str) -> int:
            return int(getattr(result, name, 0) or 0)

        return cls(
            duplicated=n("duplicated_leads") + n("duplicate_email_count"),
            skipped=n("skipped_count"),
            blocklisted=n("in_blocklist"),
            invalid=n("invalid_email_count"),
        )


def all_created(sent: int, created: Sequence[Mapping[str, Any]]) -> list[str] | None:
    """The new lead ids in request order when the answer created every lead at its own position
    (`created_leads[i].index == i` for each of the `sent` leads, each with an id), else None.

    The common case of a bulk add (SPEC POST /api/v2/leads/add: `created_leads[].index`), checked in two
    list passes instead of a dict of 1,000 entries; any other answer goes through created_by_index.
    """
    if len(created) != sent:
        return None
    ids = [lead.get("id") for lead in created]
    if [lead.get("index") for lead in created] != list(range(sent)) or not all(ids):
        return None
    return [str(lead_id) for lead_id in ids]


def created_by_index(sent: int, created: Sequence[Mapping[str, Any]]) -> dict[int, str]:
    """Position in the request -> new lead id, from created_leads[].index (positions outside are ignored).

    Args:
        created: a bulk add's `created_leads` as dicts (instantly_client.CreatedLeadRef).
    """
    out: dict[int, str] = {}
    for lead in created:
        index, lead_id = lead.get("index"), lead.get("id")
        if isinstance(index, int) and 0 <= index < sent and lead_id:
            out[index] = str(lead_id)
    return out


def needs_campaign_lookup(leftover: int, counts: AddCounts) -> bool:
    """Whether rows not created must be looked up in the campaign (to find duplicates and their lead ids).

    Only when every leftover row is provably blocklisted, or provably invalid, is no lookup needed.
    """
    if leftover == 0:
        return False
    if counts.duplicated == 0 and counts.skipped == 0:
        return not (
            (counts.blocklisted == leftover and counts.invalid == 0)
            or (counts.invalid == leftover and counts.blocklisted == 0)
        )
    return True


def attribute_leftover(
    leftover: Sequence[int],
    counts: AddCounts,
    in_campaign: Mapping[int, str],
    elsewhere: set[int] | None,
    *,
    skip_mode: str,
) -> dict[int, tuple[Outcome, str | None, str]]:
    """Outcome, lead id and reason for each row sent but not created.

    Args:
        leftover: request positions of the rows not in created_leads.
        counts: the response's counters.
        in_campaign: positions found in this campaign by a contacts lookup -> lead id (duplicates).
        elsewhere: positions found in another campaign of the workspace, or None when not looked up.
        skip_mode: the --skip-if mode of the request.
    """
    out: dict[int, tuple[Outcome, str | None, str]] = {}
    rest = []
    for i in leftover:
        if i in in_campaign:
            out[i] = ("duplicate", in_campaign[i], REASONS["duplicate"])
        else:
            rest.append(i)
    kinds: dict[Literal["skipped", "blocklisted", "invalid"], int] = {
        "skipped": counts.skipped,
        "blocklisted": counts.blocklisted,
        "invalid": counts.invalid,
    }
    nonzero = [k for k, n in kinds.items() if n > 0]
    if len(nonzero) == 1:
        kind = nonzero[0]
        take = set(rest[: kinds[kind]])
        for i in rest:
            if i in take:
                out[i] = (kind, None, skip_reason(skip_mode) if kind == "skipped" else REASONS[kind])
            else:
                out[i] = ("rejected", None, REASONS["unexplained"])
        return out
    for i in rest:
        if not nonzero:
            out[i] = ("rejected", None, REASONS["unexplained"])
        elif counts.skipped and elsewhere is not None and i in elsewhere:
            out[i] = ("skipped", None, skip_reason(skip_mode))
        elif counts.blocklisted and not counts.invalid:
            out[i] = ("blocklisted", None, REASONS["blocklisted"])
        elif counts.invalid and not counts.blocklisted:
            out[i] = ("invalid", None, REASONS["invalid"])
        else:
            out[i] = ("rejected", None, REASONS["ambiguous"])
    return out
