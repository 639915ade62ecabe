"""The leads pull: a full scan made fast by fanning out cursor chains across and within campaigns.

Every campaign's id range is cut into chains (see `tasks/pull_plan.py`) and all chains of all campaigns
run in one thread pool sized from the rate budget and the observed latency; the client's shared limiter
paces them. When a campaign's open-ended last chain has read 500 leads after the last known id and more
follow (a large import made outside this project), it finds real ids further along that run in the email
order (`tasks/pull_sample.py`) and splits there (`tasks/pull_split.py`), so several cursors read the run. Each page is staged on
disk with a checkpoint and the plan is saved with every split, so an interrupted pull resumes. Ledger leads
the scan did not return (an old lead out of id order, or one that moved campaign) are then fetched by id,
100 per request, in parallel.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from instantly_client import InstantlyClient, InstantlyError, ahead_of_the_queue
from tasks.pull_jobs import Jobs, run_all
from tasks.pull_plan import (
    DEFAULT_LEADS_PER_CHAIN,
    ScanChain,
    chain_size,
    chunk,
    page_limit,
    worker_count,
)
from tasks.pull_sample import sample_boundaries
from tasks.pull_split import SPLIT_AFTER, Plan, Split
from tasks.pull_staging import Staging

STREAM = "leads"
PLAN_FILE = "leads-plan.json"
SPLIT_ROOM = 64  # pool threads an open-ended chain's split may use (threads start only when jobs wait)


@dataclass
class LeadsPull:
    """What the leads pull did."""

    records: list[dict[str, Any]] = field(default_factory=list)
    chains: int = 0
    chains_resumed: int = 0
    chains_split: int = 0
    fetched_by_id: int = 0
    workers: int = 0


def dump(model: Any) -> dict[str, Any]:
    """A read model as the API sent it: declared fields and unknown ones alike."""
    return dict(model.model_dump(mode="json", by_alias=True))


def pull_lead_records(
    client: InstantlyClient,
    campaign_ids: Iterable[str],
    known_ids: Mapping[str, Iterable[str]],
    staging: Staging,
    *,
    leads_per_chain: int = DEFAULT_LEADS_PER_CHAIN,
    max_workers: int | None = None,
    synced_ids: Mapping[str, Iterable[str]] | None = None,
) -> LeadsPull:
    """Pull every lead of the campaigns; returns the records deduplicated on id.

    Args:
        client: the API client (thread-safe; its limiter paces all threads).
        campaign_ids: campaigns to scan.
        known_ids: lead ids per campaign from the push ledger (chain boundaries, then fetched by id if
            the scan missed them).
        staging: where pages and checkpoints are kept until the load.
        leads_per_chain: at most this many known leads per chain (fewer when that keeps more threads
            busy; see `chain_size`).
        max_workers: cap on threads (default: from the rate budget and latency).
        synced_ids: lead ids per campaign the previous sync stored (instantly.leads): more chain
            boundaries, so leads added outside this project before that sync no longer all fall in the
            one open-ended chain. Ids the API returned, used as `starting_after` as the push ledger's are;
            never fetched by id (a lead deleted since is simply not read again).
    """
    campaigns = list(dict.fromkeys(campaign_ids))
    known = {cid: sorted(set(known_ids.get(cid, ()))) for cid in campaigns}
    # Chain boundaries and page sizes: every id we expect; only the ledger's must be found.
    expected = {cid: sorted(set(known[cid]).union((synced_ids or {}).get(cid, ()))) for cid in campaigns}
    total = sum(map(len, expected.values()))
    planned_workers = _workers(client, total // 100 + len(campaigns), max_workers)
    size = chain_size(total, planned_workers, cap=leads_per_chain)
    plan = Plan(staging.root / PLAN_FILE)
    chains = plan.load_or_plan(campaigns, expected, size)
    result = LeadsPull(chains=len(chains))
    todo = []
    for chain in chains:
        checkpoint = staging.checkpoint(STREAM, chain.key)
        if checkpoint.done:
            result.chains_resumed += 1
        else:
            result.chains_resumed += checkpoint.pages > 0
            todo.append(chain)
    # Open-ended chains first: new leads added outside this project pile up after the last known id, so
    # they are the longest until they split, and a long chain started last would leave one thread working
    # alone at the end. Room in the pool for the chains a split adds.
    todo.sort(key=lambda chain: chain.until is not None)
    open_ended = sum(chain.until is None for chain in todo)
    result.workers = _workers(client, len(todo) + SPLIT_ROOM * open_ended, max_workers)
    fetched: list[list[dict[str, Any]]] = []  # list.append is atomic: threads add their pages here
    jobs = Jobs(result.workers)

    def walk(chain: ScanChain) -> None:
        fetched.append(_walk(client, staging, chain, expected[chain.campaign_id]))

    def sample(campaign_id: str, cursor: str) -> list[str]:
        try:
            return sample_boundaries(client, campaign_id, expected[campaign_id], cursor, leads_per_chain=size)
        except InstantlyError as exc:  # only a shortcut: the walk goes on without it (and meets a real fault)
            logging.getLogger(__name__).warning("Not splitting campaign %s's new leads: %s", campaign_id, exc)
            return []

    def probe(campaign_id: str, cursor: str) -> Future[list[str]]:
        return jobs.start_now(sample, campaign_id, cursor)

    splits: list[str] = []  # list.append is atomic: campaigns split on their own threads

    def cut(chain: ScanChain, bounds: list[str]) -> ScanChain:
        narrowed, *added = plan.split(chain, bounds)
        splits.append(chain.campaign_id)
        # The run's slices start next (the pull waits for them). Its new open-ended end may still be long (an
        # email order that follows the id order yields few boundaries): it starts now, on a thread of its
        # own, and does not split again.
        for new in added[:-1]:
            jobs.add(walk, new, first=True)
        jobs.start_now(_walk_open_ended, client, staging, added[-1], expected, None, fetched)
        return narrowed

    for chain in todo:
        if chain.until is None:
            split = Split(partial(probe, chain.campaign_id), cut)
            jobs.add(_walk_open_ended, client, staging, chain, expected, split, fetched)
        else:
            jobs.add(walk, chain)
    jobs.join()
    result.chains = sum(len(plan.saved[cid]) for cid in campaigns)
    result.chains_split = len(splits)

    # Pages staged by an interrupted run are read back from disk; this run's are already in memory.
    seen: dict[str, dict[str, Any]] = {}
    for record in staging.items(STREAM) if result.chains_resumed else (r for rs in fetched for r in rs):
        seen[record["id"]] = record
    missing = [lead_id for cid in campaigns for lead_id in known[cid] if lead_id not in seen]
    if missing:
        # Ledger leads the scan did not return: fetch them by id, 100 per request, in parallel.
        batches = chunk(sorted(set(missing)))
        workers = _workers(client, len(batches), max_workers)
        found: list[list[dict[str, Any]]] = []
        run_all(
            list(enumerate(batches)),
            lambda job: found.append(_fetch_ids(client, staging, *job)),
            workers,
        )
        for record in (r for rs in found for r in rs):
            seen[record["id"]] = record
        result.fetched_by_id = len(missing)
    result.records = list(seen.values())
    return result


def _walk_open_ended(
    client: InstantlyClient,
    staging: Staging,
    chain: ScanChain,
    expected: Mapping[str, list[str]],
    split: Split | None,
    fetched: list[list[dict[str, Any]]],
) -> None:
    """Walk an open-ended chain with its requests ahead of the limiter's queue; it may split itself.

    The open-ended chain holds every lead added after the last known id and, until it splits, nothing
    tells where to cut it, so it is the longest and the pull waits for it: queued behind every other
    thread's request, each of its pages would wait about one round trip more (bench/README.md, "The
    sync's leads pull"). Each of its requests also holds a slot for the next, about when that one will
    ask, so a page leaves as the previous answer is read instead of waiting for the next free slot.
    """
    with ahead_of_the_queue():
        fetched.append(_walk(client, staging, chain, expected[chain.campaign_id], split))


def _walk(
    client: InstantlyClient,
    staging: Staging,
    chain: ScanChain,
    known: list[str],
    split: Split | None = None,
    split_after: int = SPLIT_AFTER,
) -> list[dict[str, Any]]:
    """Walk one chain's cursor from its checkpoint to the end of its slice, staging each page.

    `split`, for an open-ended chain: called after each page once the walk has read `split_after` leads
    and more follow, until it says it is over; it may narrow the chain to what this walk still reads.

    Returns the leads fetched by this call (pages staged by an earlier run are not repeated).
    """
    kept: list[dict[str, Any]] = []
    checkpoint = staging.checkpoint(STREAM, chain.key)
    if checkpoint.pages and checkpoint.cursor is None:
        staging.finish(STREAM, chain.key)  # the last page was staged but the finish mark was not
        return kept
    cursor = checkpoint.cursor if checkpoint.pages else chain.after
    read = 0
    while True:
        limit = page_limit(chain, known, cursor)
        pages = client.leads.pages(campaign=chain.campaign_id, starting_after=cursor, limit=limit)
        page = next(iter(pages), None)
        if page is None:
            break  # an empty page: the campaign has no more leads
        records = [dump(lead) for lead in page.items]
        ids = [str(r.get("id")) for r in records]
        mine = [r for r, lead_id in zip(records, ids, strict=True) if chain.holds(lead_id)]
        staging.save_page(STREAM, chain.key, mine, page.next_starting_after)
        kept += mine
        if chain.until in ids or any(chain.is_past_end(i) for i in ids) or not page.next_starting_after:
            break  # the slice's last lead is read, or the page reached the next slice, or the end
        if page.next_starting_after == cursor:
            break  # a cursor that did not advance would loop forever (the client's own iterator stops too)
        cursor = page.next_starting_after
        read += len(ids)
        if split is not None and chain.until is None and read >= split_after:
            chain, over = split(chain, cursor)  # still more after `split_after` leads: a long run
            split = None if over else split
    staging.finish(STREAM, chain.key)
    return kept


def _fetch_ids(client: InstantlyClient, staging: Staging, index: int, ids: list[str]) -> list[dict[str, Any]]:
    digest = hashlib.sha256(",".join(ids).encode()).hexdigest()[:10]
    key = f"by-id.{index:05d}.{digest}"
    if staging.checkpoint(STREAM, key).done:
        return list(staging.chain_items(STREAM, key))
    records = [dump(lead) for lead in client.leads.list(ids=ids, limit=100)]
    staging.save_page(STREAM, key, records, None)
    staging.finish(STREAM, key)
    return records


def _workers(client: InstantlyClient, tasks: int, cap: int | None) -> int:
    workers = worker_count(client.rate_per_second, client.stats.latency_ewma, tasks=max(tasks, 1))
    return min(workers, cap) if cap else workers
