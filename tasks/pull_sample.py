"""Real lead ids inside a long run of unknown leads, so the leads pull can cut that run into chains.

The pull cuts a campaign's id range at lead ids it already knows (`tasks/pull_plan.py`). Leads added
outside this project after the last known id (a large import) hold no known id, so one cursor would read
them all, one page after another. `POST /leads/list` documents a second order: with `distinct_contacts`
the leads come ordered by contact (email) and `starting_after` is a lead's email (SPEC). In that order the
new leads sit among the known ones wherever their emails fall, so a few pages read from spread-out emails
return new leads from all over the id range: their ids are lead ids the API returned for this campaign,
usable as `starting_after` like any other.

Only chain boundaries come from here; the leads are still read in id order, slice by slice, so nothing
here decides which leads are read: a sample the order puts in one clump only makes fewer, longer chains.
`distinct_contacts` itself is not used as the partition: it returns one lead per email, and a campaign can
hold two leads with one email (`POST /leads` with `skip_if_in_campaign: false`); its email collation is not
documented either.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from instantly_client import InstantlyClient, ahead_of_the_queue

PROBES = 8  # email-ordered pages read to find new leads' ids: one from the start, the rest from known emails
PAGE = 100  # SPEC POST /leads/list limit maximum


def probe_starts(emails: Sequence[str], probes: int = PROBES) -> list[str | None]:
    """Where the email-ordered probes start: the beginning, then known emails evenly spread in byte order."""
    ordered = sorted(set(filter(None, emails)), key=lambda e: (e.lower(), e))  # sent as the API wrote them
    picks = min(len(ordered), probes - 1)
    spread = [ordered[(i * len(ordered)) // (picks + 1)] for i in range(1, picks + 1)]
    return [None, *dict.fromkeys(spread)]


def pick_boundaries(
    probed: Sequence[Sequence[str]], *, read: int, known: int, leads_per_chain: int
) -> list[str]:
    """Boundary ids from the new leads' ids each probe found (pure).

    Args:
        probed: per probe, the ids it returned that lie in the run being cut.
        read: leads the probes returned in all (new and known).
        known: the campaign's known leads (estimates the run's size: new / read of the whole).
        leads_per_chain: the wanted chain size.

    Returns:
        Sorted, distinct ids. Ids from one probe with no other probe's id between them count once: an
        email order that follows the id order returns them in one clump, and chains of a few leads would
        cost a request each. When everything is one clump (a single probe: no known email to start from),
        up to `PROBES` of its ids, evenly spread: at most that many requests lost if it really is a clump.
    """
    owner = {lead_id: i for i, ids in enumerate(probed) for lead_id in ids}
    ordered = sorted(owner)
    clumps = [
        lead_id for k, lead_id in enumerate(ordered) if k == 0 or owner[ordered[k - 1]] != owner[lead_id]
    ]
    if not clumps:
        return []
    if len(clumps) == 1:
        spread = min(PROBES, len(ordered))
        clumps = [ordered[(i * len(ordered)) // spread] for i in range(spread)]
    share = len(owner) / read if read else 1.0
    run = math.inf if share >= 0.95 or not known else known * share / (1 - share)
    wanted = len(clumps) if math.isinf(run) else max(1, round(run / max(1, leads_per_chain)))
    if wanted >= len(clumps):
        return clumps
    return [clumps[(i * len(clumps)) // wanted] for i in range(wanted)]


def sample_boundaries(
    client: InstantlyClient,
    campaign_id: str,
    known: Sequence[str],
    after: str,
    *,
    leads_per_chain: int,
    probes: int = PROBES,
) -> list[str]:
    """Ids of leads of `campaign_id` after `after`, spread over that run, to cut it into chains.

    Costs at most `probes` + 1 requests, all made at once and ahead of the limiter's queue (the pull waits
    for the run being cut): one for the emails of up to 100 known leads spread over the id range, then one
    email-ordered page from each start.

    Args:
        client: the API client.
        campaign_id: the campaign.
        known: its known lead ids, sorted (chain boundaries elsewhere).
        after: the id the run starts after (the open-ended chain's cursor).
        leads_per_chain: the wanted chain size.
        probes: email-ordered pages to read.
    """
    emails: list[str] = []
    if known and probes > 1:
        spread = [known[(i * len(known)) // PAGE] for i in range(min(PAGE, len(known)))]
        page = _first_page(client, campaign=campaign_id, ids=list(dict.fromkeys(spread)), limit=PAGE)
        emails = [str(lead.email) for lead in page if lead.email]
    starts = probe_starts(emails, probes)
    with ThreadPoolExecutor(max_workers=len(starts), thread_name_prefix="probe") as pool:
        pages = list(pool.map(lambda start: _probe(client, campaign_id, start), starts))
    probed = [[i for c, i in page if c == campaign_id and i > after] for page in pages]
    return pick_boundaries(
        probed, read=sum(map(len, pages)), known=len(known), leads_per_chain=leads_per_chain
    )


def _probe(client: InstantlyClient, campaign_id: str, start: str | None) -> list[tuple[str, str]]:
    """(campaign, id) of one email-ordered page starting after the email `start`."""
    page = _first_page(client, campaign=campaign_id, distinct_contacts=True, starting_after=start, limit=PAGE)
    return [(str(lead.campaign), str(lead.id)) for lead in page]


def _first_page(client: InstantlyClient, **filters: Any) -> list[Any]:
    with ahead_of_the_queue():  # per thread: a pool thread does not inherit the caller's context
        page = next(iter(client.leads.pages(**filters)), None)
    return list(page.items) if page is not None else []
