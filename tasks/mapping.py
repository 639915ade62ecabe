"""Column mapping: source columns to Instantly lead fields and custom variables.

Pure, except `load_mapping_file`.

A mapping is detected from the column names and can be overridden by a YAML or JSON file::

    fields:            # force a lead field to a column (null: leave the field unmapped)
      email: Work Email
      company_name: Account
    rename:            # column -> custom variable name
      Signup Date: signed_up_on
    exclude: [Internal Notes]   # columns that are not sent at all
    include: [_fivetran_synced] # bookkeeping columns to send after all (left out by default)

Bookkeeping columns (`left_out_reason`: an ELT loader's, and the engagement columns `sync --write-back` adds)
and columns that are empty in every row are left out.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import math
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ops_core import emails
from ops_core.engagement import ENGAGEMENT_COLUMNS
from ops_core.errors import OpsError
from ops_core.interface import in_cli, option
from warehouse.names import MAX_VARIABLE_NAME, custom_variable_name, folded, written_back_column

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

# Header spellings per field, compared after `header_token` (lower-case ASCII letters and digits only, so
# accents and punctuation do not matter: "Prénom" -> "prenom", "E-mail 1 - Value" -> "email1value").
# Earlier spellings win when several columns match one field. docs/lead-tables.md shows this table.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "email": (
        "email",
        "emailaddress",
        "mail",
        "workemail",
        "businessemail",
        "contactemail",
        "emails",
        "email1value",  # Google Contacts export ("E-mail 1 - Value")
        "emailadresse",  # German
        "courriel",  # French
        "adresseemail",
        "adressemail",
        "correo",  # Spanish
        "correoelectronico",
        "postaelettronica",  # Italian
        "mailadres",  # Dutch
        "emailadres",
    ),
    "first_name": (
        "firstname",
        "first",
        "givenname",
        "fname",
        "forename",
        "vorname",  # German
        "prenom",  # French
        "nombre",  # Spanish
        "nome",  # Italian, Portuguese
        "primeironome",
        "voornaam",  # Dutch
    ),
    "last_name": (
        "lastname",
        "last",
        "surname",
        "familyname",
        "lname",
        "nachname",  # German
        "familienname",
        "nom",  # French
        "nomdefamille",
        "apellido",  # Spanish
        "apellidos",
        "cognome",  # Italian
        "sobrenome",  # Portuguese
        "ultimonome",
        "achternaam",  # Dutch
    ),
    "company_name": (
        "companyname",
        "company",
        "organization",
        "organisation",
        "org",
        "account",
        "accountname",
        "organizationname",  # Google Contacts
        "organization1name",  # Google Contacts (older export)
        "associatedcompany",  # HubSpot
        "companynameforemails",  # Apollo (after "Company")
        "firma",  # German
        "unternehmen",
        "firmenname",
        "societe",  # French
        "entreprise",
        "empresa",  # Spanish, Portuguese
        "azienda",  # Italian
        "bedrijf",  # Dutch
        "bedrijfsnaam",
    ),
    "job_title": (
        "jobtitle",
        "title",
        "position",
        "role",
        "organizationtitle",  # Google Contacts
        "organization1title",
        "berufsbezeichnung",  # German
        "jobtitel",
        "poste",  # French
        "fonction",
        "cargo",  # Spanish, Portuguese
        "puesto",
        "ruolo",  # Italian
        "functie",  # Dutch
    ),
    "phone": (
        "phone",
        "phonenumber",
        "mobile",
        "mobilephone",
        "telephone",
        "tel",
        "phone1value",  # Google Contacts
        "mobilephonenumber",  # HubSpot
        "workdirectphone",  # Apollo
        "corporatephone",
        "firstphone",
        "telefon",  # German
        "telefonnummer",
        "mobilnummer",
        "handy",
        "telefono",  # Spanish, Italian
        "telefone",  # Portuguese
        "telefoonnummer",  # Dutch
    ),
    "website": (
        "website",
        "companywebsite",
        "websiteurl",  # HubSpot
        "url",
        "homepage",
        "web",
        "website1value",  # Google Contacts
        "webseite",  # German
        "siteweb",  # French
        "siteinternet",
        "sitioweb",  # Spanish
        "paginaweb",
        "sitoweb",  # Italian
    ),
    "personalization": ("personalization", "personalisation", "icebreaker", "opener"),
}

# Columns that ELT loaders add to every table they load (dlt, Airbyte, Fivetran, Singer/Meltano/Stitch).
# They change on every load, so sending them would PATCH every lead on every run: left out unless a mapping
# file lists them under `include` (or names them in `fields` or `rename`). docs/lead-tables.md lists them.
LOADER_COLUMN_PREFIXES = ("_dlt_", "_airbyte_", "_ab_", "_fivetran_", "_sdc_", "_stitch_", "_peerdb_")

# The engagement columns `sync --write-back` adds to a Postgres source table (instantly_status,
# instantly_reply_count ...; the list the write-back itself writes). They change with every sync, so sending
# them would PATCH every lead whose engagement changed on the next push: left out like the loader columns.
WRITTEN_BACK_COLUMNS = frozenset(ENGAGEMENT_COLUMNS)

# Columns the extract adds to ops.<table>; never sent. `_row_problem`: why a source line could not be read as a
# row ("line 4: one field too many ..."), NULL for every good row; such a row is reported `invalid`.
# `_source_row`: where a user finds the row in their own source, which the push's reasons name: the file line
# the row starts on (a CSV), the sheet's row number (Excel), else its 1-based position in the order read.
ROW_PROBLEM = "_row_problem"
SOURCE_ROW = "_source_row"
INTERNAL_COLUMNS = ("_row_key", SOURCE_ROW, ROW_PROBLEM, "_loaded_at", "_run_id")
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
_FILE_KEYS = {"fields", "rename", "exclude", "include"}

CustomValue = str | int | float | bool | None

# Instantly's API runs on JavaScript, whose JSON numbers are doubles: integers beyond ±(2^53 - 1)
# (Number.MAX_SAFE_INTEGER) are rounded on parsing, so ids and phone numbers stored as bigint are sent as text.
MAX_SAFE_INTEGER = 2**53 - 1


@dataclass(frozen=True)
class MappingOverrides:
    """What a mapping file asks for (validated shape; column names checked later against the source)."""

    fields: dict[str, str | None] = field(default_factory=dict)
    rename: dict[str, str] = field(default_factory=dict)
    exclude: frozenset[str] = frozenset()
    include: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ColumnMapping:
    """The resolved mapping of one source table.

    Attributes:
        fields: lead field -> source column.
        custom: custom variable name -> source column, in source order.
        excluded: source columns that are not sent.
        left_out: columns not sent although no mapping file excluded them -> why (`LEFT_OUT_*`).
    """

    fields: dict[str, str]
    custom: dict[str, str]
    excluded: tuple[str, ...] = ()
    left_out: dict[str, str] = field(default_factory=dict)

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
        out += [(col, f"(left out: {self.left_out[col]})" if col in self.left_out else "(excluded)")
                for col in self.excluded]  # fmt: skip
        return out

    def without_empty(self, empty: Iterable[str]) -> ColumnMapping:
        """This mapping minus the custom variables whose column is empty in every row (they would only
        send `null` on every lead)."""
        gone = set(empty) & set(self.custom.values())
        if not gone:
            return self
        return ColumnMapping(
            fields=self.fields,
            custom={n: c for n, c in self.custom.items() if c not in gone},
            excluded=(*self.excluded, *[c for c in self.custom.values() if c in gone]),
            left_out={**self.left_out, **dict.fromkeys(sorted(gone), LEFT_OUT_EMPTY)},
        )


LEFT_OUT_LOADER = "loader bookkeeping column"
LEFT_OUT_WRITE_BACK = "engagement column from sync --write-back"
LEFT_OUT_EMPTY = "empty in every row"


def is_loader_column(name: str) -> bool:
    """Whether a column is an ELT loader's bookkeeping column (`_dlt_id`, `_airbyte_extracted_at` ...)."""
    return name.lower().startswith(LOADER_COLUMN_PREFIXES)


def left_out_reason(name: str) -> str | None:
    """Why a column is not sent unless a mapping file asks for it (`LEFT_OUT_*`), or None: an ELT loader's
    bookkeeping column, or an engagement column `sync --write-back` added. Both change without the lead
    changing, so sending them would update every lead on every run."""
    if is_loader_column(name):
        return LEFT_OUT_LOADER
    if written_back_column(name):  # another case of one is refused by the extract (names.engagement_clash)
        return LEFT_OUT_WRITE_BACK
    return None


def header_token(name: str) -> str:
    """Lower-case ASCII letters and digits of a header: 'E-mail Address' -> 'emailaddress'.

    Letters without an ASCII fold are dropped, not transliterated: no spelling in SYNONYMS has one, and a
    header such as 'Email / Почта' still matches `email`."""
    return re.sub(r"[^a-z0-9]", "", folded(name).lower())


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
    named = [
        *[c for c in overrides.fields.values() if c],
        *overrides.rename,
        *overrides.exclude,
        *overrides.include,
    ]
    missing = [c for c in named if c not in known]
    if missing:
        raise OpsError(
            f"The mapping names column(s) {', '.join(map(repr, missing))} that the source does not have "
            f"(columns: {_preview(columns)}).",
            hint="fix the names in the mapping file (they are case-sensitive)",
        )
    asked_for = {*overrides.include, *overrides.rename, *[c for c in overrides.fields.values() if c]}
    bookkeeping = {c: why for c in columns if (why := left_out_reason(c)) and c not in asked_for}
    skip = set(overrides.exclude) | set(bookkeeping)
    fields = {k: v for k, v in detect_fields([c for c in columns if c not in skip]).items()}
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
            hint="name the column with a mapping file: `fields: {email: COLUMN}` "
            f"({option('mapping_file', metavar='FILE')}), or check the delimiter and encoding of the file",
        )
    fields = {k: fields[k] for k in LEAD_FIELDS if k in fields}
    mapped = set(fields.values())
    rest = [c for c in columns if c not in mapped and c not in skip]
    wanted = [overrides.rename.get(c) or custom_variable_name(c) for c in rest]
    bad = [n for n in overrides.rename.values() if not _IDENTIFIER.match(n)]
    if bad:
        raise OpsError(
            f"Invalid custom variable name(s) in the mapping: {', '.join(map(repr, bad))}.",
            hint="use snake_case ASCII identifiers such as signup_date",
        )
    names = unique_names(wanted, reserved=LEAD_FIELDS)
    excluded = tuple(c for c in columns if c in skip)
    left_out = {c: why for c, why in bookkeeping.items() if c not in overrides.exclude}
    return ColumnMapping(
        fields=fields, custom=dict(zip(names, rest, strict=True)), excluded=excluded, left_out=left_out
    )


def parse_overrides(data: Any, *, origin: str = "the mapping") -> MappingOverrides:
    """Validate the shape of a parsed mapping file (pure).

    Raises:
        OpsError: unknown keys, unknown lead fields or wrongly typed values.
    """
    if data is None:
        return MappingOverrides()
    if not isinstance(data, dict):
        raise _bad(origin, "it must be an object with the keys fields, rename, exclude and include")
    unknown = set(data) - _FILE_KEYS
    if unknown:
        raise _bad(
            origin,
            f"unknown key(s) {', '.join(sorted(map(str, unknown)))}; allowed: fields, rename, exclude, include",
        )
    fields = data.get("fields") or {}
    rename = data.get("rename") or {}
    exclude = data.get("exclude") or []
    include = data.get("include") or []
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
    if not isinstance(include, list) or not all(isinstance(v, str) for v in include):
        raise _bad(origin, "`include` must be a list of column names")
    return MappingOverrides(
        fields={str(k): v for k, v in fields.items()},
        rename={str(k): v for k, v in rename.items()},
        exclude=frozenset(exclude),
        include=frozenset(include),
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

    Dates and times become ISO strings (`iso_text`), lists and objects JSON strings, blank strings None.
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        text = value.strip()
        return text or None
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return iso_text(value)
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            return None
        return coerce_scalar(int(value)) if value == value.to_integral_value() else float(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, list | tuple | dict | set | frozenset):
        return json_text(value)
    return str(value)


def json_text(value: list[Any] | tuple[Any, ...] | dict[str, Any] | set[Any] | frozenset[Any]) -> str:
    """A list or object as the JSON text a custom variable carries (the API takes no arrays or objects):
    dates as `iso_text`, decimals and UUIDs as text, and a non-finite number (NaN, Infinity) as null, as
    everywhere else; always valid JSON (`[null, 1.0]`, never `[NaN, 1.0]`)."""
    return json.dumps(_jsonable(value), ensure_ascii=False, default=str)


def iso_text(value: dt.date | dt.time) -> str:
    """How every source's dates and times are sent: the one rule (pure).

    A date is `2026-11-30`; a datetime keeps its time, `2026-11-30T14:05:07` (with `.ffffff` when it has
    microseconds); one with a time zone is sent in UTC, `2026-11-30T14:05:07+00:00`, so the text (and the
    payload hash) does not depend on the time zone of the machine that reads it. An Excel column of dates
    arrives as dates (tasks/excel_source.py); a CSV cell is text and is sent as written. DuckDB's infinite
    dates and timestamps (a Postgres `infinity`) and the years before 1 or after 9999, which no Python date
    holds, arrive as text (tasks/lead_frame.py `_python_values`: `infinity`, `10000-01-01`) and are sent as it.
    """
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).isoformat()
    return value.isoformat()


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
    """A source cell's email key: the cell as text (`coerce_text`), then `ops_core.emails.normalise_email`.

    The dedupe key and, without --key, the row key (`email_key_sql` is the same rule in SQL).
    """
    return emails.normalise_email(coerce_text(value))


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


# Keys of a lead's `payload` that are copies of its core fields, not custom variables (SPEC Lead.payload
# examples; docs/instantly-api-notes.md: camelCase copies of the core fields next to the custom keys).
PAYLOAD_CORE_COPIES = frozenset(
    {"email", "firstName", "lastName", "companyName", "jobTitle", "website", "phone", "personalization"}
)


def patch_body(
    lead: Mapping[str, Any], mapping: ColumnMapping, current_payload: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The PATCH /leads/{id} body: every mapped field (None clears it); the email cannot change.

    SPEC patchLead takes `custom_variables` as a whole object and does not say whether it is merged into the
    lead's variables or replaces them, so the body carries the lead's current custom variables
    (`current_payload`, from GET /leads/{id}) with ours on top: variables another tool or a person set
    survive either way.
    """
    body = {name: lead.get(name) for name in mapping.fields if name != "email"}
    if "custom_variables" in lead:
        theirs = {
            k: v
            for k, v in (current_payload or {}).items()
            if k not in PAYLOAD_CORE_COPIES
            and k not in LEAD_FIELDS
            and isinstance(v, str | int | float | None)
        }
        body["custom_variables"] = {**theirs, **lead["custom_variables"]}
    return body


def holds_already(current: Mapping[str, Any], body: Mapping[str, Any]) -> bool:
    """Whether a lead already holds every value of a PATCH body, so the PATCH would change nothing.

    Args:
        current: the lead as GET /leads/{id} returns it (SPEC `Lead`: its fields, and `payload` with its
            custom variables), as a dict.
        body: a `patch_body`.

    Values must be equal and of the same JSON type (`1` is not `"1"`, `true` is not `1`); a custom variable
    set to null matches one the lead does not have. Anything else counts as a change: at worst a PATCH that
    changes nothing is sent, never a change left out.
    """
    payload = current.get("payload") or {}
    for name, value in body.items():
        if name == "custom_variables":
            if not all(_same(payload.get(k), v) for k, v in value.items()):
                return False
        elif not _same(current.get(name), value):
            return False
    return True


def _same(theirs: Any, ours: Any) -> bool:
    return type(theirs) is type(ours) and theirs == ours


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
        return iso_text(value)
    if isinstance(value, decimal.Decimal) and not value.is_finite():
        return None
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _preview(columns: Sequence[str], limit: int = 12) -> str:
    shown = ", ".join(columns[:limit])
    return shown + (f", ... ({len(columns)} in all)" if len(columns) > limit else "") if columns else "none"


def _bad(origin: str, problem: str) -> OpsError:
    where = "`ops-instantly push --help`" if in_cli() else "docs/lead-tables.md"  # the CLI's help links it
    return OpsError(f"Invalid mapping file {origin}: {problem}.", hint=f"see {where} for the format")
