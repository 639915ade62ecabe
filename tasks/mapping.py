"""Column mapping: source columns to Instantly lead fields and custom variables.

Pure, except `load_mapping_file`.

A mapping is detected from the column names and can be overridden by a YAML or JSON file::

    fields:            # force a lead field to a column (null: leave the field unmapped)
      email: Work Email
      company_name: Account
    rename:            # column -> custom variable name
      Signup Date: signed_up_on
    exclude: [Internal Notes]   # columns that are not sent at all
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import math
import re
import unicodedata
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ops_instantly.errors import OpsError

# Lead fields /leads/add accepts as strings (SPEC POST /leads/add leads[] item; additionalProperties false).
LEAD_FIELDS = (
    "email",
    "first_name",
    "last_name",
    "company_name",
    "job_title",
    "phone",
    "website",
    "personalization",
)

# Header spellings per field, compared after `header_token` (lower-case ASCII letters and digits only).
# Earlier spellings win when several columns match one field.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "email": ("email", "emailaddress", "mail", "workemail", "businessemail", "contactemail", "emails"),
    "first_name": ("firstname", "first", "givenname", "fname", "forename"),
    "last_name": ("lastname", "last", "surname", "familyname", "lname"),
    "company_name": (
        "companyname",
        "company",
        "organization",
        "organisation",
        "org",
        "account",
        "accountname",
    ),
    "job_title": ("jobtitle", "title", "position", "role"),
    "phone": ("phone", "phonenumber", "mobile", "mobilephone", "telephone", "tel"),
    "website": ("website", "companywebsite", "websiteurl", "url", "homepage", "web"),
    "personalization": ("personalization", "personalisation", "icebreaker", "opener"),
}

# Columns the extract adds to ops.<table>; never sent.
INTERNAL_COLUMNS = ("_row_key", "_loaded_at", "_run_id")
MAX_VARIABLE_NAME = 64  # our choice: short enough to read in Instantly's variable picker
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
_FILE_KEYS = {"fields", "rename", "exclude"}

CustomValue = str | int | float | bool | None


@dataclass(frozen=True)
class MappingOverrides:
    """What a mapping file asks for (validated shape; column names checked later against the source)."""

    fields: dict[str, str | None] = field(default_factory=dict)
    rename: dict[str, str] = field(default_factory=dict)
    exclude: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ColumnMapping:
    """The resolved mapping of one source table.

    Attributes:
        fields: lead field -> source column.
        custom: custom variable name -> source column, in source order.
        excluded: source columns that are not sent.
    """

    fields: dict[str, str]
    custom: dict[str, str]
    excluded: tuple[str, ...] = ()

    @property
    def email_column(self) -> str:
        return self.fields["email"]

    @property
    def columns(self) -> list[str]:
        """Every source column the payload reads, without repeats."""
        return list(dict.fromkeys([*self.fields.values(), *self.custom.values()]))

    def rows(self) -> list[tuple[str, str]]:
        """(source column, target) pairs to display: lead field, `custom_variables.NAME` or `(excluded)`."""
        out = [(col, name) for name, col in self.fields.items()]
        out += [(col, f"custom_variables.{name}") for name, col in self.custom.items()]
        out += [(col, "(excluded)") for col in self.excluded]
        return out


def header_token(name: str) -> str:
    """Lower-case ASCII letters and digits of a header: 'E-mail Address' -> 'emailaddress'."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", ascii_name.lower())


def custom_variable_name(column: str) -> str:
    """A snake-case ASCII identifier for a column: 'Signup Date (UTC)' -> 'signup_date_utc'."""
    text = unicodedata.normalize("NFKD", column).encode("ascii", "ignore").decode()
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text)  # camelCase -> camel_Case
    text = re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").lower()
    if not text:
        text = "column"
    if text[0].isdigit():
        text = f"c_{text}"
    return text[:MAX_VARIABLE_NAME].rstrip("_")


def unique_names(names: Sequence[str], reserved: Iterable[str] = ()) -> list[str]:
    """Make names unique in order by suffixing _2, _3 ...; never return a reserved name."""
    taken = set(reserved)
    out = []
    for name in names:
        candidate, n = name, 1
        while candidate in taken:
            n += 1
            suffix = f"_{n}"
            candidate = f"{name[: MAX_VARIABLE_NAME - len(suffix)]}{suffix}"
        taken.add(candidate)
        out.append(candidate)
    return out


def detect_fields(columns: Sequence[str]) -> dict[str, str]:
    """Lead field -> column, from header spellings; the earliest synonym wins, then the leftmost column."""
    tokens = [header_token(c) for c in columns]
    found: dict[str, str] = {}
    used: set[str] = set()
    for name, spellings in SYNONYMS.items():
        for spelling in spellings:
            match = next(
                (c for c, t in zip(columns, tokens, strict=True) if t == spelling and c not in used), None
            )
            if match is not None:
                found[name] = match
                used.add(match)
                break
    return found


def resolve_mapping(columns: Sequence[str], overrides: MappingOverrides | None = None) -> ColumnMapping:
    """Detect the mapping of `columns`, apply the overrides and check the result.

    Raises:
        OpsError: no email column, or the overrides name a column the source does not have.
    """
    overrides = overrides or MappingOverrides()
    columns = [c for c in columns if c not in INTERNAL_COLUMNS]
    known = set(columns)
    named = [*[c for c in overrides.fields.values() if c], *overrides.rename, *overrides.exclude]
    missing = [c for c in named if c not in known]
    if missing:
        raise OpsError(
            f"The mapping names column(s) {', '.join(map(repr, missing))} that the source does not have "
            f"(columns: {_preview(columns)}).",
            hint="fix the names in the mapping file (they are case-sensitive)",
        )
    fields = {k: v for k, v in detect_fields([c for c in columns if c not in overrides.exclude]).items()}
    for name, column in overrides.fields.items():
        # A forced column is taken away from whatever field detection gave it to.
        fields = {k: v for k, v in fields.items() if v != column}
        if column is None:
            fields.pop(name, None)
        else:
            fields[name] = column
    if "email" not in fields:
        raise OpsError(
            f"No email column found (columns: {_preview(columns)}).",
            hint="name the column with a mapping file: `fields: {email: COLUMN}` (--mapping FILE), or check "
            "the delimiter and encoding of the file",
        )
    fields = {k: fields[k] for k in LEAD_FIELDS if k in fields}
    mapped = set(fields.values())
    rest = [c for c in columns if c not in mapped and c not in overrides.exclude]
    wanted = [overrides.rename.get(c) or custom_variable_name(c) for c in rest]
    bad = [n for n in overrides.rename.values() if not _IDENTIFIER.match(n)]
    if bad:
        raise OpsError(
            f"Invalid custom variable name(s) in the mapping: {', '.join(map(repr, bad))}.",
            hint="use snake_case ASCII identifiers such as signup_date",
        )
    names = unique_names(wanted, reserved=LEAD_FIELDS)
    excluded = tuple(c for c in columns if c in overrides.exclude)
    return ColumnMapping(fields=fields, custom=dict(zip(names, rest, strict=True)), excluded=excluded)


def parse_overrides(data: Any, *, origin: str = "the mapping") -> MappingOverrides:
    """Validate the shape of a parsed mapping file (pure).

    Raises:
        OpsError: unknown keys, unknown lead fields or wrongly typed values.
    """
    if data is None:
        return MappingOverrides()
    if not isinstance(data, dict):
        raise _bad(origin, "it must be an object with the keys fields, rename and exclude")
    unknown = set(data) - _FILE_KEYS
    if unknown:
        raise _bad(
            origin, f"unknown key(s) {', '.join(sorted(map(str, unknown)))}; allowed: fields, rename, exclude"
        )
    fields = data.get("fields") or {}
    rename = data.get("rename") or {}
    exclude = data.get("exclude") or []
    if not isinstance(fields, dict) or not all(isinstance(v, str | None) for v in fields.values()):
        raise _bad(origin, "`fields` must map lead fields to column names (or null)")
    bad_fields = [k for k in fields if k not in LEAD_FIELDS]
    if bad_fields:
        raise _bad(
            origin,
            f"unknown lead field(s) {', '.join(map(str, bad_fields))}; known: {', '.join(LEAD_FIELDS)}",
        )
    if fields.get("email", "") is None:
        raise _bad(origin, "`fields.email` cannot be null: every lead needs an email")
    if not isinstance(rename, dict) or not all(isinstance(v, str) for v in rename.values()):
        raise _bad(origin, "`rename` must map column names to custom variable names")
    if not isinstance(exclude, list) or not all(isinstance(v, str) for v in exclude):
        raise _bad(origin, "`exclude` must be a list of column names")
    return MappingOverrides(
        fields={str(k): v for k, v in fields.items()},
        rename={str(k): v for k, v in rename.items()},
        exclude=frozenset(exclude),
    )


def load_mapping_file(path: str | Path | None) -> MappingOverrides:
    """Read a YAML or JSON mapping file (JSON is YAML, so one parser reads both)."""
    if not path:
        return MappingOverrides()
    import yaml

    file = Path(path).expanduser()
    try:
        text = file.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise OpsError(
            f"Cannot read the mapping file {file}: {exc.strerror}.", hint="check the path"
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" at line {where.line + 1}" if where is not None else ""
        raise _bad(str(file), f"it is not valid YAML or JSON{at}") from None
    return parse_overrides(data, origin=str(file))


# -- values ---------------------------------------------------------------------------------------------


def coerce_scalar(value: Any) -> CustomValue:
    """A custom-variable value: str, int, float, bool or None (the API rejects objects and arrays).

    Dates and times become ISO strings, lists and objects JSON strings, blank strings None.
    """
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        text = value.strip()
        return text or None
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            return None
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, list | tuple | dict | set | frozenset):
        return json.dumps(_jsonable(value), ensure_ascii=False, default=str)
    return str(value)


def coerce_text(value: Any) -> str | None:
    """A lead field value: a stripped string or None."""
    scalar = coerce_scalar(value)
    if scalar is None:
        return None
    if isinstance(scalar, bool):
        return "true" if scalar else "false"
    if isinstance(scalar, float) and scalar.is_integer():
        return str(int(scalar))
    return str(scalar)


def normalise_email(value: Any) -> str | None:
    """lower(trim(email)), or None when blank: the dedupe key and, without --key, the row key."""
    text = coerce_text(value)
    return text.lower() if text else None


def build_lead(row: Mapping[str, Any], mapping: ColumnMapping) -> dict[str, Any]:
    """The /leads/add item for one row: lead fields (blank ones left out) plus every custom variable."""
    lead: dict[str, Any] = {}
    for name, column in mapping.fields.items():
        value = normalise_email(row.get(column)) if name == "email" else coerce_text(row.get(column))
        if value is not None:
            lead[name] = value
    if mapping.custom:
        lead["custom_variables"] = {name: coerce_scalar(row.get(col)) for name, col in mapping.custom.items()}
    return lead


def patch_body(lead: Mapping[str, Any], mapping: ColumnMapping) -> dict[str, Any]:
    """The PATCH /leads/{id} body: every mapped field (None clears it); the email cannot change."""
    body = {name: lead.get(name) for name in mapping.fields if name != "email"}
    if "custom_variables" in lead:
        body["custom_variables"] = lead["custom_variables"]
    return body


def canonical_json(lead: Mapping[str, Any]) -> str:
    """A lead payload as canonical JSON text (sorted keys, no spaces): what is sent and what is hashed."""
    return json.dumps(lead, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def payload_hash(lead: Mapping[str, Any]) -> str:
    """A stable hash of a lead payload (sha256 of `canonical_json`, hex): the ledger compares it to decide
    unchanged vs update."""
    return hashlib.sha256(canonical_json(lead).encode()).hexdigest()


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _preview(columns: Sequence[str], limit: int = 12) -> str:
    shown = ", ".join(columns[:limit])
    return shown + (f", ... ({len(columns)} in all)" if len(columns) > limit else "") if columns else "none"


def _bad(origin: str, problem: str) -> OpsError:
    return OpsError(
        f"Invalid mapping file {origin}: {problem}.", hint="see `ops-instantly push --help` for the format"
    )
