"""Planning the pull (pure: no I/O): date windows, lead scan chains, thread counts, the email watermark.

The leads pull is a full scan (the API has no updated-since filter; notes §2.3). `POST /leads/list` returns
a campaign's leads in ascending id order and `starting_after` is "the last lead's id", so a campaign's id
range can be cut into slices scanned in parallel: slice i starts after boundary i and stops at boundary
i+1. The boundaries come from the lead ids the push ledger and the previous sync already know, so each
slice holds about `leads_per_chain` leads, and leads added outside this project are still read, by whichever
slice their id falls in (those added after the last known id by the open-ended last chain, which splits
itself at real ids further along when that run is long: `tasks/pull_split.py`). A chain stops when it reads its last (known) id or passes it; its last page is sized to the known
leads left (`page_limit`), so it rarely reads into the next slice; leads seen twice are deduplicated on id.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from instantly_client import concurrency_for

DEFAULT_LOOKBACK_DAYS = 14
DEFAULT_LEADS_PER_CHAIN = 2000
MIN_LEADS_PER_CHAIN = 300  # a chain costs about one page more than its leads need
CHAINS_PER_WORKER = 4  # enough chains that the pool stays busy while the longest ones finish
IDS_PER_REQUEST = 100  # SPEC POST /leads/list limit maximum
EMAIL_WATERMARK_OVERLAP = timedelta(minutes=5)  # re-read a little before the watermark; merged on id
PULL_HEADROOM = 2.0  # threads per Little's-law slot: page latencies vary widely
PULL_LATENCY_FLOOR = 0.2  # seconds: never size the pool on a faster first call


@dataclass(frozen=True)
class ScanChain:
    """One cursor chain: the leads of `campaign_id` with `after < id <= until` (None = unbounded)."""

    campaign_id: str
    index: int
    after: str | None
    until: str | None

    @property
    def key(self) -> str:
        """A stable name for the chain's checkpoint."""
        return f"{self.campaign_id}.{self.index:04d}"

    def holds(self, lead_id: str) -> bool:
        """True when `lead_id` falls in this chain's slice."""
        return (self.after is None or lead_id > self.after) and (self.until is None or lead_id <= self.until)

    def is_past_end(self, lead_id: str) -> bool:
        """True when `lead_id` lies beyond this slice: the chain can stop."""
        return self.until is not None and lead_id > self.until


def plan_chains(
    campaign_id: str, known_ids: Iterable[str], *, leads_per_chain: int = DEFAULT_LEADS_PER_CHAIN
) -> list[ScanChain]:
    """Cut one campaign's id range into chains of about `leads_per_chain` known leads each.

    Args:
        campaign_id: the campaign.
        known_ids: lead ids of this campaign from the push ledger (any order, duplicates allowed).
        leads_per_chain: known leads per chain; at least 1.

    Returns:
        Chains covering the whole id range without gaps or overlaps: the first starts at the beginning,
        the last runs to the end.
    """
    if leads_per_chain < 1:
        raise ValueError("leads_per_chain must be at least 1")
    ids = sorted(set(known_ids))
    boundaries = [ids[i] for i in range(leads_per_chain - 1, len(ids) - 1, leads_per_chain)]
    edges: list[str | None] = [None, *boundaries, None]
    return [ScanChain(campaign_id, i, edges[i], edges[i + 1]) for i in range(len(edges) - 1)]


def page_limit(chain: ScanChain, known: Sequence[str], cursor: str | None, *, slack: int = 5) -> int:
    """The `limit` for a chain's next page: just enough for the known leads left in its slice.

    A slice ends at a known lead, so a page sized to the known leads still ahead (plus `slack` for leads
    added outside this project) ends at the slice's end instead of reading into the next slice. A slice
    cut from a run of unknown leads (`tasks/pull_sample.py`) ends at an id not in `known`: full pages. When
    unknown leads make the page fall short, the chain simply reads another page: the limit only saves
    requests, it never decides what is read.

    Args:
        chain: the chain.
        known: the campaign's known lead ids, sorted.
        cursor: the last id read (None before the first page).
        slack: extra room for unknown leads.
    """
    end = bisect.bisect_right(known, chain.until) if chain.until is not None else 0
    if chain.until is None or not end or known[end - 1] != chain.until:
        return IDS_PER_REQUEST  # the slice runs to the end, or to a sampled id with unknown leads before it
    start = cursor if cursor is not None else chain.after
    first = bisect.bisect_right(known, start) if start is not None else 0
    remaining = end - first
    return max(1, min(IDS_PER_REQUEST, remaining + slack))


def chain_size(total_known: int, workers: int, *, cap: int = DEFAULT_LEADS_PER_CHAIN) -> int:
    """Known leads per chain: small enough for about `CHAINS_PER_WORKER` chains per thread, within bounds.

    Short chains keep every thread busy until the end (a chain is sequential); each chain may read one
    page past its slice, so chains are never shorter than `MIN_LEADS_PER_CHAIN`. The size is rounded up to
    whole pages: a chain of 735 leads costs 8 requests, one of 800 too (measured: 652 requests instead of
    about 600 for the same 60,000 leads; bench/README.md).
    """
    wanted = math.ceil(total_known / max(1, CHAINS_PER_WORKER * workers)) if total_known else cap
    wanted = math.ceil(wanted / IDS_PER_REQUEST) * IDS_PER_REQUEST
    return max(1, min(cap, max(MIN_LEADS_PER_CHAIN, wanted)))


def chunk(values: Sequence[str], size: int = IDS_PER_REQUEST) -> list[list[str]]:
    """`values` in lists of at most `size`, in order."""
    return [list(values[i : i + size]) for i in range(0, len(values), size)]


def worker_count(
    rate_per_second: float, latency_seconds: float | None, *, tasks: int, maximum: int = 64
) -> int:
    """Threads for `tasks` pull jobs: `instantly_client.concurrency_for` with the pull's constants.

    Twice the Little's-law count, and never sized on less than `PULL_LATENCY_FLOOR`: the first latencies
    observed (small campaign calls) understate a 100-lead page. Never more threads than there are tasks.
    """
    return concurrency_for(
        rate_per_second,
        latency_seconds,
        headroom=PULL_HEADROOM,
        latency_floor=PULL_LATENCY_FLOOR,
        maximum=max(1, min(maximum, tasks)),
    )


def daily_window(
    *,
    created: date | None,
    last_end: date | None,
    as_of: date,
    lookback_days: int = DEFAULT_LOOKBACK_DAYS,
    since: date | None = None,
) -> tuple[date, date]:
    """The [start, end] dates to request from the daily analytics endpoint for one campaign.

    The first sync of a campaign backfills from its creation; later syncs re-pull a look-back window
    ending today, because recent days' counts keep moving. `since` overrides the start. The end is always
    `as_of` and the start never after it.
    """
    if since is not None:
        start = since
    elif last_end is None:
        start = created or as_of - timedelta(days=lookback_days)
    else:
        start = min(last_end, as_of) - timedelta(days=lookback_days)
        if created is not None:
            start = max(start, created)
    return min(start, as_of), as_of


def api_today(observed: Iterable[datetime | None], now: datetime) -> date:
    """The date "today" as of the API: the later of our clock and the newest timestamp the API returned.

    Daily buckets are UTC dates (notes §4, inference). Using the API's newest timestamp keeps a window
    from ending before the API's own today when the clocks disagree.
    """
    newest = max((t for t in observed if t is not None), default=now)
    return max(newest, now).date()


def email_since(watermark: datetime | None, since: date | None = None) -> datetime | None:
    """The `min_timestamp_created` for the next emails pull: the watermark less a small overlap.

    `since` (a user-given backfill date) wins when it is earlier than the watermark.
    """
    start = None if watermark is None else watermark - EMAIL_WATERMARK_OVERLAP
    if since is not None:
        since_dt = datetime(since.year, since.month, since.day, tzinfo=UTC)
        start = since_dt if start is None or since_dt < start else start
    return start
