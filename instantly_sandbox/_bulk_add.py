"""The bulk add's all-new path: when every lead of a request is accepted (the usual push of fresh leads), the
per-lead checks of `add_leads` are a handful of C-level passes over the whole request.

A request that fails any condition below goes lead by lead through `add_leads`, which stays the definition
of what is accepted, counted or skipped; this only recognises the requests where that loop would accept
every lead without counting anything.
"""

from __future__ import annotations

import re
import sys
from operator import itemgetter
from typing import Any

from ._state import State

# EMAIL_RE (`^[^\s@]+@[^\s@]+\.[^\s@]+$`) on each line: \s includes \n, so no email can hide a line break.
_EMAIL_LINES = re.compile(r"[^\s@]+@[^\s@]+\.[^\s@]+(?:\n[^\s@]+@[^\s@]+\.[^\s@]+)*")
_DOMAIN = re.compile(r"@(.*)")  # each line's one `@` and what follows (`.` stops at the line break)
_email = itemgetter("email")


def screen_all_new(
    state: State, items: list[dict[str, Any]]
) -> tuple[list[str], list[str], list[str]] | None:
    """(emails, the same lower-cased, their domains) if `add_leads` would accept every one of `items`, else None.

    That is: every item has an ASCII email string that is already trimmed and matches EMAIL_RE (so none is
    incomplete or invalid, whether the target is a campaign or a list), no two share a lower-cased email, none
    is on the blocklist by email or domain, and no stored lead has one of these emails (so none is a duplicate
    or skipped, whatever the skip flags). Non-ASCII emails take the lead-by-lead path, so lower-casing the
    joined emails is lower-casing each one.
    """
    try:
        emails = list(map(_email, items))
        joined = "\n".join(emails)  # TypeError: an email is null (or not a string)
    except (KeyError, TypeError):
        return None
    if (
        not joined.isascii()
        or joined.count("\n") != len(items) - 1  # an email with a line break in it
        or _EMAIL_LINES.fullmatch(joined) is None
    ):
        return None
    lowered = joined.lower()
    # Emails already in lower case (the usual) are their own keys: no second string per lead.
    keys = emails if lowered == joined else lowered.split("\n")
    if len(set(keys)) != len(keys):
        return None
    domains = list(map(sys.intern, _DOMAIN.findall(lowered)))  # one string per domain, not per lead
    blocked = state.blocked_values()
    if not (blocked.isdisjoint(keys) and blocked.isdisjoint(domains)):
        return None
    if any(map(state.by_email.get, keys)):
        return None
    return emails, keys, domains
