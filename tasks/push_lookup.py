"""Where leads already are: /leads/list lookups by email, for reconciling and for explaining bulk adds."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from instantly_client import InstantlyClient
from ops_core.emails import normalise_email
from tasks.push_plan import chunked

LOOKUP_EMAILS = 100  # emails per /leads/list contacts lookup (SPEC /leads/list limit max 100 per page)


def _email(value: str | None) -> str:
    # The API returns emails as stored; the ledger's are normalised by the same rule.
    return normalise_email(value) or ""


class Lookups:
    """Looks emails up with the `contacts` filter of /leads/list (SPEC POST /leads/list), in chunks.

    Args:
        client: the push's client (its limiter paces these requests with the sends).
        campaign_id: the campaign of the push.
        workers: how many lookups to run at once (the push's requests in flight).
    """

    def __init__(self, client: InstantlyClient, campaign_id: str, workers: Callable[[], int]) -> None:
        self.client = client
        self.campaign_id = campaign_id
        self.workers = workers

    def in_campaign(self, emails: Sequence[str]) -> dict[str, str]:
        """email -> lead id of the campaign's leads with these emails."""
        return self._ids(emails, campaign=self.campaign_id)

    def anywhere(self, emails: Sequence[str]) -> dict[str, str]:
        """email -> lead id of a lead with this email in any campaign of the workspace."""
        return self._ids(emails, campaign=None)

    def campaigns_of(self, emails: Sequence[str]) -> dict[str, set[str]]:
        """email -> ids of the campaigns holding a lead with it (any campaign)."""
        wanted = {e for e in emails if e}
        found: dict[str, set[str]] = {}
        for chunk in chunked(sorted(wanted), LOOKUP_EMAILS):
            for lead in self.client.leads.list(contacts=chunk):
                email = _email(lead.email)
                if email in wanted and lead.campaign:
                    found.setdefault(email, set()).add(str(lead.campaign))
        return found

    def _ids(self, emails: Sequence[str], *, campaign: str | None) -> dict[str, str]:
        wanted = {e for e in emails if e}

        def one(chunk: list[str]) -> list[tuple[str, str]]:
            filters: dict[str, Any] = {"contacts": chunk}
            if campaign:
                filters["campaign"] = campaign
            return [(_email(lead.email), str(lead.id)) for lead in self.client.leads.list(**filters)]

        chunks = list(chunked(sorted(wanted), LOOKUP_EMAILS))
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
