"""Plan: turn slices of the source table into requests (jobs) and the results of rows that need none.

Each slice is mapped, validated and hashed as one frame (tasks/lead_frame.py), compared with its ledger
state (push_plan.decide_frame), and split into bulk adds of `batch_size` rows and one PATCH per changed
row. Adds left over at the end of a slice wait for the next one, so every bulk add but the last is full.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass

import polars as pl

from tasks.lead_frame import LeadFrames
from tasks.push_models import JOB_COLUMNS, Job, PushTarget
from tasks.push_plan import decide_frame
from tasks.push_reconcile import Found


@dataclass
class Slice:
    """One planned slice: results of rows that need no request (ledger.RESULT_COLUMNS), and requests."""

    local: pl.DataFrame
    jobs: list[Job]


def plan_slices(
    target: PushTarget,
    slices: Iterator[pl.DataFrame],
    *,
    found: Found,
    retry: bool,
    batch_id: Callable[[], str],
) -> Generator[Slice, None, None]:
    """Plan every slice (as ledger.read_slice gives them), in source order.

    Args:
        found: rows an earlier attempt turned out to have created (reported so, not resent).
        retry: a retry pass (only some rows): rows refused by our validation are not reported again.
        batch_id: the next batch id.
    """
    frames = LeadFrames(target.mapping, key_given=target.key_given, place=target.place)
    overrides = pl.DataFrame(
        [(k, *v) for k, v in found.items()],
        schema={"row_key": pl.Utf8, "o_outcome": pl.Utf8, "o_lead_id": pl.Utf8, "o_reason": pl.Utf8},
        orient="row",
    )
    carry = pl.DataFrame(schema=dict.fromkeys(JOB_COLUMNS, pl.Utf8))
    for raw in slices:
        rows = frames.prepare(raw, target.mapping.columns)
        local: list[pl.DataFrame] = []
        if not retry:
            rejected = rows.filter(pl.col("outcome").is_not_null())
            local.append(
                rejected.select(
                    "row_key",
                    "email",
                    lead_id=pl.lit(None, dtype=pl.Utf8),
                    outcome="outcome",
                    reason="reason",
                )
            )
        decided = decide_frame(
            rows.filter(pl.col("outcome").is_null()), skip_mode=target.skip_mode, siblings=target.siblings
        )
        keep = decided.filter(pl.col("action") == "keep").join(overrides, on="row_key", how="left")
        was_found = pl.col("o_outcome").is_not_null()
        local.append(
            keep.select(
                "row_key",
                "email",
                lead_id=pl.when(was_found).then("o_lead_id").otherwise("d_lead_id"),
                outcome=pl.when(was_found).then("o_outcome").otherwise("d_outcome"),
                reason=pl.when(was_found).then("o_reason").otherwise("d_reason"),
            )
        )
        send = decided.select(
            "action", "row_key", "email", "lead", "payload_hash", lead_id="d_lead_id", reason="d_reason"
        )
        jobs = [
            Job("update", batch_id(), frame.select(JOB_COLUMNS))
            for frame in send.filter(pl.col("action") == "update").iter_slices(1)
        ]
        adds = pl.concat([carry, send.filter(pl.col("action") == "add").select(JOB_COLUMNS)])
        size = target.batch_size
        whole = adds.height - adds.height % size
        jobs += [Job("add", batch_id(), adds.slice(i, size)) for i in range(0, whole, size)]
        carry = adds.slice(whole)
        piece = Slice(pl.concat(local, how="vertical_relaxed"), jobs)
        # Not kept while the generator waits at the yield (it may wait for several write cycles): the slice's
        # source, mapped and decided frames, about 30 MB at 50,000 rows; the jobs keep their own columns only.
        del raw, rows, local, decided, keep, send, adds
        if not retry:
            del rejected
        yield piece
    if not carry.is_empty():
        yield Slice(pl.DataFrame(), [Job("add", batch_id(), carry)])
