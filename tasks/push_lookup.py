"""Where leads already are: /leads/list lookups by email, for reconciling and for explaining bulk adds."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from instantly_client import InstantlyClient
from ops_core.emails import normalise_email
from tasks.push_plan import chunked

LOOKUP_PAGE = 100  # SPEC POST /api/v2/leads/list `limit` maximum: leads per page
# SPEC POST /api/v2/leads/list `contacts` (email[]) sets no maxItems: one filter may name a whole bulk add's
# emails. A lookup costs a request per page of leads FOUND, so emails expected not to be found share one.
MAX_LOOKUP_EMAILS = 1000


def emails_per_lookup(emails: int, expected_found: int | None = None) -> int:
    """How many emails to name in one contacts filter, so a lookup expects about one page of leads (pure).

    Args:
        emails: how many emails are to be looked up.
        expected_found: how many of them are expected to be found (None: all of them). Only the request
            count depends on it: every page is read until all of a chunk's emails are found.

    Returns:
        From LOOKUP_PAGE (every email expected found: one full page each, looked up in parallel) up to
        MAX_LOOKUP_EMAILS (none expected: one request for a whole bulk add).
    """
    found = emails if expected_found is None else min(max(expected_found, 0), emails)
    if found == 0:
        return MAX_LOOKUP_EMAILS
    return max(LOOKUP_PAGE, min(MAX_LOOKUP_EMAILS, LOOKUP_PAGE * emails // found))


def _email(value: str | None) -> str:
    # The API returns emails as stored; the ledger's are normalised by the same rule.
    return normalise_email(value) or ""


class Lookups:
    """Looks emails up with the `contacts` filter of /leads/list (SPEC POST /api/v2/leads/list), in chunks:
    each a request per page of leads found (LOOKUP_PAGE), so the fewer expected, the larger the chunk.

    Args:
        client: the push's client (its limiter paces these requests with the sends).
        campaign_id: the campaign of the push.
        workers: how many lookups to run at once (the push's requests in flight).
    """

    def __init__(self, client: InstantlyClient, campaign_id: str, workers: Callable[[], int]) -> None:
        self.client = client
        self.campaign_id = campaign_id
        self.workers = workers

    def in_campaign(self, emails: Sequence[str], *, expected_found: int | None = None) -> dict[str, str]:
        """email -> lead id of the campaign's leads with these emails.

        Args:
            expected_found: how many are expected to be in the campaign (None: all), to choose
                `emails_per_lookup`; a wrong guess costs requests, never results.
        """
        return self._ids(emails, campaign=self.campaign_id, expected_found=expected_found)

    def anywhere(self, emails: Sequence[str], *, expected_found: int | None = None) -> dict[str, str]:
        """email -> lead id of a lead with this email in any campaign of the workspace (`expected_found`
        as for `in_campaign`)."""
        return self._ids(emails, campaign=None, expected_found=expected_found)

    def campaigns_of(self, emails: Sequence[str]) -> dict[str, set[str]]:
        """email -> ids of the campaigns holding a lead with it (any campaign)."""
        wanted = {e for e in emails if e}
        found: dict[str, set[str]] = {}
        for chunk in chunked(sorted(wanted), LOOKUP_PAGE):
            for lead in self.client.leads.list(contacts=chunk):
                email = _email(lead.email)
                if email in wanted and lead.campaign:
                    found.setdefault(email, set()).add(str(lead.campaign))
        return found

    def _ids(
        self, emails: Sequence[str], *, campaign: str | None, expected_found: int | None
    ) -> dict[str, str]:
        wanted = {e for e in emails if e}

        def one(chunk: list[str]) -> list[tuple[str, str]]:
            filters: dict[str, Any] = {"contacts": chunk}
            if campaign:
                filters["campaign"] = campaign
            pairs, missing = [], set(chunk)
            for lead in self.client.leads.list(**filters):
                pairs.append((_email(lead.email), str(lead.id)))
                missing.discard(pairs[-1][0])
                if not missing:
                    # Every email of the chunk found: a further page could only repeat one, and the first
                    # lead found for an email is the answer. A full page of 100 found used to cost a second
                    # request that came back empty (a reconcile after a kill: 2 lookups per 100 leads).
                    break
            return pairs

        chunks = list(chunked(sorted(wanted), emails_per_lookup(len(wanted), expected_found)))
        if len(chunks) <= 1:
            pairs = [one(c) for c in chunks]
        else:
            workers = min(len(chunks), self.workers())
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lookup") as pool:
                pairs = list(pool.map(one, chunks))
        found: dict[str, str] = {}
        for chunk_pairs in pairs:
            for email, lead_id in chunk_pairs:
                if email in wanted:
                    found.setdefault(email, lead_id)
        return found
