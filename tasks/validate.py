"""Row-by-row validation before anything is sent (pure). Every rejected row gets an outcome and a reason."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

MAX_EMAIL_LENGTH = 254  # RFC 5321: the longest address a mail server must accept
MAX_LOCAL_PART = 64  # RFC 5321 local-part limit
MAX_FIELD_LENGTH = 1_000  # our choice for names, titles, phones, websites
MAX_LONG_TEXT = 5_000  # our choice for personalization and custom variable values

_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LOCAL_CHAR = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]$")
_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_TLD = re.compile(r"^(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})$")
_LONG_FIELDS = {"personalization"}


@dataclass(frozen=True)
class Rejection:
    """Why a row is not sent: outcome is `invalid`, `duplicate` or `rejected`."""

    outcome: str
    reason: str


def email_problem(email: str | None) -> str | None:
    """Why an (already normalised) email is unusable, or None when it looks deliverable in form.

    The reason names what is wrong: `invalid email '@example.com': nothing before the @`.
    """
    if not email:
        return "missing email"
    shown = _show(email)
    if len(email) > MAX_EMAIL_LENGTH:
        return f"email longer than {MAX_EMAIL_LENGTH} characters"
    problem = _email_form_problem(email)
    return f"invalid email {shown}: {problem}" if problem else None


# How a cell that holds an address with more around it was written (an Outlook or Gmail export, an Excel
# hyperlink, a cell of several addresses): the reason then names the address to write instead.
_NAME_ADDR = re.compile(r"^[^<>]*<\s*([^<>\s]+@[^<>\s]+)\s*>$")
_MAILTO = "mailto:"
_SEVERAL = re.compile(r"[^\s,;]+@[^\s,;]+")


def _email_form_problem(email: str) -> str | None:
    named = _NAME_ADDR.match(email)
    if named:
        return f"a name with the address: write the address alone, {named[1]}"
    if email.startswith(_MAILTO) and email.count("@") == 1:
        return f"a mailto: link (an Excel hyperlink?): write the address alone, {email[len(_MAILTO) :]}"
    if len(_SEVERAL.findall(email)) > 1:
        return "several addresses in one cell: keep one (put the others in rows of their own)"
    if "@" not in email:
        return "no @"
    if email.count("@") > 1:
        return "more than one @"
    local, _, domain = email.partition("@")
    if not local:
        return "nothing before the @"
    if not domain:
        return "nothing after the @"
    if any(c.isspace() for c in email):
        return "contains a space"
    if len(local) > MAX_LOCAL_PART:
        return f"the part before the @ is longer than {MAX_LOCAL_PART} characters"
    if not _LOCAL.match(local):
        if local.startswith(".") or local.endswith("."):
            return "the part before the @ starts or ends with a dot"
        if ".." in local:
            return "two dots in a row before the @"
        bad = next((c for c in local if not _LOCAL_CHAR.match(c)), None)
        return f"character {bad!r} is not allowed before the @" if bad else "bad local part"
    labels = domain.split(".")
    if len(labels) < 2:
        return f"the domain {domain!r} has no dot (like example.com)"
    if any(not label for label in labels):
        return f"the domain {domain!r} has an empty part (two dots in a row, or a dot at an end)"
    bad_label = next((label for label in labels if not _LABEL.match(label)), None)
    if bad_label is not None and not bad_label.isascii():
        return f"the domain {domain!r} is not ASCII: write it as {_ascii_domain(domain)}"
    if bad_label is not None:
        return f"bad domain part {bad_label!r} (letters, digits and inner hyphens only)"
    if not _TLD.match(labels[-1]):
        return f"bad domain ending {labels[-1]!r} (not a top-level domain)"
    return None


def _ascii_domain(domain: str) -> str:
    """The domain's ASCII (IDNA, `xn--`) form, or "its xn-- form" when it has none (pure)."""
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return "its xn-- form"


def length_problem(lead: Mapping[str, Any]) -> str | None:
    """The first over-long value of a lead payload, or None."""
    for name, value in lead.items():
        if name in ("email", "custom_variables") or not isinstance(value, str):
            continue
        limit = MAX_LONG_TEXT if name in _LONG_FIELDS else MAX_FIELD_LENGTH
        if len(value) > limit:
            return f"{name} is {len(value):,} characters (max {limit:,})"
    for name, value in (lead.get("custom_variables") or {}).items():
        if isinstance(value, str) and len(value) > MAX_LONG_TEXT:
            return f"custom variable {name} is {len(value):,} characters (max {MAX_LONG_TEXT:,})"
    return None


def invalid_row_reason(problem: Any) -> Any:
    """The `invalid` reason of a source line the extract could not read (its `_row_problem`), for a str
    or a polars expression/series: `line 4: one field too many ...; the row was not read`."""
    return problem + "; the row was not read"


@dataclass
class RowValidator:
    """Validates rows in source order, remembering emails and keys already seen (case/space-insensitive).

    Args:
        key_given: the row key comes from a --key column (so it must be present and unique).
        place: what reasons call a row's number: "line" for a CSV file (the line the row starts on), "row"
            for the others (a sheet's row number, else the position read).
    """

    key_given: bool = False
    place: str = "row"
    _emails: dict[str, int] = field(default_factory=dict)
    _keys: dict[str, int] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)

    def check(
        self, lead: Mapping[str, Any], row_key: str | None, row_number: int, problem: str | None = None
    ) -> Rejection | None:
        """None when the row can be sent; otherwise the outcome and reason.

        Args:
            row_number: where the row is in its source (`_source_row`: a CSV's line, a sheet's row, else the
                1-based position), which the reasons name; rows come in source order.
            problem: the extract's `_row_problem` ("line 4: one field too many ..."): the row is `invalid`.
        """
        rejection = self._check(lead, row_key, row_number, problem)
        self.counts[rejection.outcome if rejection else "valid"] += 1
        return rejection

    def _check(
        self, lead: Mapping[str, Any], row_key: str | None, row_number: int, problem: str | None
    ) -> Rejection | None:
        if problem:
            return Rejection("invalid", invalid_row_reason(problem))
        here = f"{self.place} {row_number}"
        if self.key_given and not row_key:
            return Rejection("rejected", f"{here}: the key column is blank")
        email: str | None = lead.get("email")
        problem = email_problem(email)
        if problem or email is None:  # a missing email is a problem ("missing email")
            return Rejection("invalid", f"{here}: {problem}")
        too_long = length_problem(lead)
        if too_long:
            return Rejection("rejected", f"{here}: {too_long}")
        if self.key_given and row_key is not None:
            first_key = self._keys.setdefault(row_key, row_number)
            if first_key != row_number:
                return Rejection(
                    "duplicate", f"{here}: key {_show(row_key)} repeats {self.place} {first_key}"
                )
        first = self._emails.setdefault(email, row_number)
        if first != row_number:
            return Rejection(
                "duplicate", f"{here}: same email as {self.place} {first} (case and spaces ignored)"
            )
        return None


def _show(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")
