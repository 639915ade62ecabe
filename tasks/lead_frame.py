"""Columnar mapping and validation: a slice of `ops.<table>` to lead payloads, validated, in bulk.

The rules have one home each: value coercion in tasks/mapping.py (`coerce_text`, `coerce_scalar`,
`normalise_email`, `canonical_json`) and row validation in tasks/validate.py. This module applies them to
whole polars frames. The common cases are polars expressions (text, integer and boolean columns; ASCII
emails of the usual shape; values within the length limits); everything else (other column types, non-ASCII
or odd-looking emails, over-long values, reasons) goes through those same row functions, so every row gets
exactly the payload, hash, outcome and reason of the row-by-row path
(tests/tasks/test_lead_frame.py checks the two against each other).

Payloads come out as canonical JSON text (sorted keys, no spaces: `mapping.canonical_json`), which is both
what is sent and what is hashed (sha256, `mapping.payload_hash`).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

import polars as pl
import polars_hash

from ops_core.text import WHITESPACE
from tasks.mapping import (
    MAX_SAFE_INTEGER,
    ColumnMapping,
    build_lead,
    coerce_scalar,
    coerce_text,
    normalise_email,
)
from tasks.validate import (
    _LONG_FIELDS,
    MAX_EMAIL_LENGTH,
    MAX_FIELD_LENGTH,
    MAX_LOCAL_PART,
    MAX_LONG_TEXT,
    email_problem,
    invalid_row_reason,
    length_problem,
)

_ATEXT = r"[a-z0-9!#$%&'*+/=?^_`{|}~-]"
# A subset of what validate.email_problem accepts (lower-case ASCII after normalising): a row matching it is
# valid; a row not matching it is checked by email_problem itself (which has the reason).
_FAST_EMAIL = (
    rf"^{_ATEXT}+(?:\.{_ATEXT}+)*@(?:[a-z0-9](?:[a-z0-9-]{{0,61}}[a-z0-9])?\.)+"
    r"(?:[a-z]{2,63}|xn--[a-z0-9-]{0,58}[a-z0-9])$"
)
_NEEDS_ESCAPE = r'[\x00-\x1f"\\]'
_JSON_ESCAPES = [("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t"),
                 ("\x08", "\\b"), ("\x0c", "\\f")]  # fmt: skip
_FAST_DTYPES = (pl.Utf8, pl.String)
# DuckDB's infinite dates and timestamps (a Postgres `infinity`, tasks/postgres_source.py) reach polars as the
# extremes of their integer, +/-(2^31 - 1) days or +/-(2^63 - 1) in the column's unit; no Python date holds
# them (polars' to_list() panics).
_INFINITE_PHYSICAL: dict[pl.DataType | type[pl.DataType], int] = {pl.Int32: 2**31 - 1, pl.Int64: 2**63 - 1}

__all__ = ["ROW_COLUMNS", "LeadFrames", "json_string", "parse_lead"]

# The frame columns this module produces (and the engine reads).
ROW_COLUMNS = ("rowid", "row_key", "email", "outcome", "reason", "lead", "payload_hash")


def json_string(text: pl.Expr, *, plain: bool = False) -> pl.Expr:
    """`json.dumps(text, ensure_ascii=False)` as a polars expression (null stays null).

    Args:
        plain: the caller knows no value holds a quote, a backslash or a control character (nothing to escape).
    """
    if not plain:
        for raw, escaped in _JSON_ESCAPES:
            text = text.str.replace_all(raw, escaped, literal=True)
        # Other control characters are rare: \\u00XX, lower-case hex like Python's json.
        for code in [c for c in range(0x20) if chr(c) not in "\n\r\t\x08\x0c"]:
            text = text.str.replace_all(chr(code), f"\\u{code:04x}", literal=True)
    return pl.lit('"') + text + pl.lit('"')


def _python_values(series: pl.Series) -> list[Any]:
    """`series.to_list()`, with the dates and timestamps no Python date holds as text, which the mapping sends
    as it is: DuckDB's infinity or -infinity as `infinity` / `-infinity` (DuckDB's and Postgres's own text for
    it), and a year before 1 or after 9999 (a Parquet or DuckDB source may hold one) as `mapping.iso_text`
    writes the others, with the year in ISO 8601's expanded form: `10000-01-01`, `-0043-03-15T10:00:00`."""
    if series.dtype != pl.Date and not isinstance(series.dtype, pl.Datetime):
        return series.to_list()
    physical = series.to_physical()
    top = _INFINITE_PHYSICAL[physical.dtype]
    infinite = (physical == top) | (physical == -top)
    finite = pl.select(pl.when(~infinite).then(series)).to_series() if infinite.any() else series
    if isinstance(series.dtype, pl.Datetime) and series.dtype.time_zone is not None:
        finite = finite.dt.convert_time_zone("UTC")  # what iso_text sends: the time in UTC
    year = finite.dt.year()
    far = ((year < 1) | (year > 9999)).fill_null(False)
    if not infinite.any() and not far.any():
        return series.to_list()
    values = pl.select(pl.when(~far).then(finite)).to_series().to_list()
    for i in far.arg_true().to_list():
        values[i] = _far_date_text(finite.slice(i, 1))
    for i in infinite.arg_true().to_list():
        values[i] = "infinity" if physical[i] > 0 else "-infinity"
    return values


def _far_date_text(one: pl.Series) -> str:
    """`mapping.iso_text` of the one date or timestamp in `one` (in UTC if it has a time zone), whose year
    Python's dates cannot hold."""
    year = int(one.dt.year()[0])
    text = f"{year:04d}" if year >= 0 else f"-{-year:04d}"
    text += f"-{one.dt.month()[0]:02d}-{one.dt.day()[0]:02d}"
    if isinstance(one.dtype, pl.Datetime):
        micro = int(one.dt.microsecond()[0])
        text += f"T{one.dt.hour()[0]:02d}:{one.dt.minute()[0]:02d}:{one.dt.second()[0]:02d}"
        text += f".{micro:06d}" if micro else ""
        text += "+00:00" if one.dtype.time_zone is not None else ""
    return text


def _text_of(series: pl.Series, name: str) -> pl.Expr | pl.Series:
    """`coerce_text` of every value of column `name` (holding `series`): stripped text or null.

    An expression on that column for the types polars handles (text, integers, booleans), else the values
    through `coerce_text` itself, as a Series.
    """
    column = pl.col(name)
    if series.dtype in _FAST_DTYPES:
        # What str.strip() removes: polars' own strip_chars() misses U+001C-U+001F.
        stripped = column.str.strip_chars(WHITESPACE)
        return pl.when(stripped.str.len_bytes() > 0).then(stripped)
    if series.dtype.is_integer():
        return column.cast(pl.Utf8)
    if series.dtype == pl.Boolean:
        return _boolean_text(column)
    return pl.Series([coerce_text(v) for v in _python_values(series)], dtype=pl.Utf8)


def _boolean_text(column: pl.Expr) -> pl.Expr:
    """`coerce_text` of booleans: "true", "false" or null."""
    return pl.when(column).then(pl.lit("true")).when(~column).then(pl.lit("false"))


def _custom_of(series: pl.Series, name: str) -> tuple[pl.Expr | pl.Series, pl.Expr | pl.Series] | None:
    """(JSON text of `coerce_scalar(value)`, character length when that value is text else null) of column
    `name`, for every type but text (None: text needs the column's stripped values first, see `_values`)."""
    if series.dtype in _FAST_DTYPES:
        return None
    if series.dtype.is_integer():
        # coerce_scalar: beyond ±MAX_SAFE_INTEGER an integer is sent as text (JSON numbers are doubles)
        column = pl.col(name)
        text = column.cast(pl.Utf8)
        unsafe = (column > MAX_SAFE_INTEGER) | (column < -MAX_SAFE_INTEGER)
        encoded = pl.when(unsafe).then(json_string(text)).otherwise(text).fill_null("null")
        return encoded, pl.when(unsafe).then(text.str.len_chars())
    if series.dtype == pl.Boolean:
        return _boolean_text(pl.col(name)).fill_null("null"), pl.lit(None, dtype=pl.UInt32)
    values = [coerce_scalar(v) for v in _python_values(series)]
    encoded_list = [json.dumps(v, ensure_ascii=False) for v in values]
    lengths = [len(v) if isinstance(v, str) else None for v in values]
    return pl.Series(encoded_list, dtype=pl.Utf8), pl.Series(lengths, dtype=pl.UInt32)


def _escapes(frame: pl.DataFrame, names: Sequence[str]) -> dict[str, bool]:
    """Which text columns hold a value needing JSON escaping, all checked in one pass (most never do)."""
    if not names:
        return {}
    found = frame.select(pl.col(n).str.contains(_NEEDS_ESCAPE).any() for n in names).row(0)
    return {n: bool(f) for n, f in zip(names, found, strict=True)}


class LeadFrames:
    """Validates and maps slices of one table in source order, remembering keys and emails already seen.

    The bulk counterpart of `build_lead` + `RowValidator` + `canonical_json` + `payload_hash`.

    Args:
        mapping: the resolved column mapping.
        key_given: the row key comes from a --key column (must be present and unique).
        place: what reasons call a row's place in its source (`source_row`): "line" for a CSV file (the line
            the row starts on), "row" for the others (a sheet's row number, else the position read).
    """

    def __init__(self, mapping: ColumnMapping, *, key_given: bool, place: str = "row") -> None:
        self.mapping = mapping
        self.key_given = key_given
        self.place = place
        self.counts: Counter[str] = Counter()
        # Each value's first row so far (rowid, and its place in the source), with the value's hash (`_first`).
        self._seen_keys = pl.DataFrame(
            schema={
                "row_key": pl.Utf8,
                "first_key_row": pl.Int64,
                "first_key_place": pl.Int64,
                "_h": pl.UInt64,
            }
        )
        self._seen_emails = pl.DataFrame(
            schema={
                "email": pl.Utf8,
                "first_email_row": pl.Int64,
                "first_email_place": pl.Int64,
                "_h": pl.UInt64,
            }
        )

    def prepare(self, frame: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
        """Map and validate one slice.

        Args:
            frame: `rowid` (0-based source position), `row_key`, `source_row` (the row's line or row in its
                source, which reasons name; without it, rowid + 1), any pass-through columns, and the source
                columns named `c0, c1, ...` in the order of `columns`.
            columns: the source column names (mapping.columns).

        Returns:
            The frame with `email` (normalised), `outcome`/`reason` (null when the row can be sent),
            `lead` (canonical JSON, null for rejected rows) and `payload_hash`, in source order.
        """
        if frame.is_empty():
            return frame.with_columns(
                *(pl.lit(None, dtype=pl.Utf8).alias(c) for c in ROW_COLUMNS if c not in frame.columns)
            )
        position = {name: f"c{i}" for i, name in enumerate(columns)}
        row_no = self._here(pl.col("_place"))
        work = self._values(frame, position)
        place = frame["source_row"] if "source_row" in frame.columns else frame["rowid"] + 1
        work = work.with_columns(_place=place.cast(pl.Int64))
        key_blank = (
            (pl.col("row_key").is_null() | (pl.col("row_key") == "")) if self.key_given else pl.lit(False)
        )
        work = work.with_columns(_key_blank=key_blank)
        # Rows the expressions cannot vouch for: the row functions decide, and write the reason.
        slow = work.with_row_index("_i").filter(
            ~pl.col("_key_blank") & (~pl.col("_fast_email") | pl.col("_too_long"))
        )
        problems = self._row_problems(frame, slow, columns)
        work = (
            work.join(problems, on="rowid", how="left")
            if problems is not None
            else work.with_columns(
                _problem_outcome=pl.lit(None, dtype=pl.Utf8), _problem_reason=pl.lit(None, dtype=pl.Utf8)
            )
        )
        work = work.with_columns(
            _problem_outcome=pl.when(pl.col("_key_blank"))
            .then(pl.lit("rejected"))
            .otherwise(pl.col("_problem_outcome")),
            _problem_reason=pl.when(pl.col("_key_blank"))
            .then(pl.format("{}: the key column is blank", row_no))
            .otherwise(pl.col("_problem_reason")),
        )
        if "row_problem" in frame.columns:  # the extract could not read the source line: `invalid`, first
            unread = frame["row_problem"].is_not_null()
            work = work.with_columns(
                _problem_outcome=pl.when(unread).then(pl.lit("invalid")).otherwise("_problem_outcome"),
                _problem_reason=pl.when(unread)
                .then(invalid_row_reason(frame["row_problem"]))
                .otherwise("_problem_reason"),
            )
        work = self._dedupe(work)
        sendable = work.select(
            "email", "outcome", "reason", lead=pl.when(pl.col("outcome").is_null()).then(pl.col("lead"))
        ).with_columns(payload_hash=_sha256("lead"))
        out = frame.drop([position[c] for c in columns]).with_columns(sendable)
        self.counts.update(dict(out["outcome"].fill_null("valid").value_counts().iter_rows()))
        return out

    # -- pieces ---------------------------------------------------------------------------------------

    def _values(self, frame: pl.DataFrame, position: dict[str, str]) -> pl.DataFrame:
        """`rowid`, `row_key`, the normalised `email`, `_fast_email` (the expressions vouch for it being valid),
        `_too_long` (a value may be over its limit) and `lead` (canonical JSON of every row) of a slice.

        Three passes over the slice, each of all its columns at once: their text (and the emails' checks),
        which text columns need JSON escaping, then the limits and the payloads.
        """
        fields = {name: col for name, col in self.mapping.fields.items() if name != "email"}
        email_col = position[self.mapping.email_column]
        source = frame[email_col]
        fast_email = source.dtype in _FAST_DTYPES
        firsts: dict[str, pl.Expr | pl.Series] = {}
        for name, col in fields.items():
            firsts[f"f_{name}"] = _text_of(frame[position[col]], position[col])
        lengths: dict[str, pl.Expr | pl.Series] = {}
        text_customs = []
        for name, col in self.mapping.custom.items():
            custom = _custom_of(frame[position[col]], position[col])
            if custom is None:
                firsts[f"t_{name}"] = _text_of(frame[position[col]], position[col])
                text_customs.append(name)
            else:
                firsts[f"v_{name}"], lengths[f"n_{name}"] = custom
        if fast_email:
            email = _text_of(source, email_col)
            assert isinstance(email, pl.Expr)
            firsts["email"] = email.str.to_lowercase()
            # ASCII: a byte a character (a tenth of the CPU of a regex)
            raw = pl.col(email_col)
            firsts["_ascii"] = (raw.str.len_bytes() == raw.str.len_chars()).fill_null(False)
        else:
            firsts["email"] = pl.Series([normalise_email(v) for v in _python_values(source)], dtype=pl.Utf8)
            firsts["_ascii"] = pl.lit(False)
        work = frame.select("rowid", "row_key", **firsts, **lengths)
        if fast_email:  # other emails go through normalise_email itself (rare)
            other = (~work["_ascii"] & source.is_not_null()).arg_true()
            if len(other):
                fixed = [normalise_email(v) for v in source.gather(other).to_list()]
                work = work.with_columns(work["email"].scatter(other, fixed))
        escape = _escapes(work, [*(f"f_{n}" for n in fields), *(f"t_{n}" for n in text_customs), "email"])

        # Where _FAST_EMAIL matches, the email is ASCII (a byte a character) with a single "@": its length
        # in bytes and the offset of its "@" are the address's and the local part's lengths in characters.
        email_expr = pl.col("email")
        vouched = (
            pl.col("_ascii")
            & email_expr.str.contains(_FAST_EMAIL).fill_null(False)
            & (email_expr.str.len_bytes() <= MAX_EMAIL_LENGTH).fill_null(False)
            & (email_expr.str.find("@", literal=True) <= MAX_LOCAL_PART).fill_null(False)
        )
        encoded = {}
        for name in text_customs:
            text = pl.col(f"t_{name}")
            encoded[f"v_{name}"] = json_string(text, plain=not escape[f"t_{name}"]).fill_null("null")
            encoded[f"n_{name}"] = text.str.len_chars()
        too_long = [
            (
                pl.col(f"f_{name}").str.len_chars()
                > (MAX_LONG_TEXT if name in _LONG_FIELDS else MAX_FIELD_LENGTH)
            )
            for name in fields
        ]
        too_long += [pl.col(f"n_{name}") > MAX_LONG_TEXT for name in self.mapping.custom]
        work = work.with_columns(**encoded)
        return work.select(
            "rowid",
            "row_key",
            "email",
            _fast_email=vouched if fast_email else pl.lit(False),
            _too_long=pl.any_horizontal([check.fill_null(False) for check in too_long])
            if too_long
            else pl.lit(False),
            lead=self._lead_json([*fields, "email"], list(self.mapping.custom), escape),
        )

    def _row_problems(
        self, frame: pl.DataFrame, slow: pl.DataFrame, columns: Sequence[str]
    ) -> pl.DataFrame | None:
        if slow.is_empty():
            return None
        picked = frame[slow["_i"].to_list()].select([f"c{i}" for i in range(len(columns))])
        source = list(zip(*(_python_values(column) for column in picked.iter_columns()), strict=True))
        outcome: list[str | None] = []
        reason: list[str | None] = []
        for place, email, values in zip(
            slow["_place"].to_list(), slow["email"].to_list(), source, strict=True
        ):
            problem = email_problem(email)
            if problem:
                outcome.append("invalid")
                reason.append(f"{self.place} {place}: {problem}")
                continue
            too_long = length_problem(build_lead(dict(zip(columns, values, strict=True)), self.mapping))
            outcome.append("rejected" if too_long else None)
            reason.append(f"{self.place} {place}: {too_long}" if too_long else None)
        return pl.DataFrame(
            {"rowid": slow["rowid"], "_problem_outcome": outcome, "_problem_reason": reason},
            schema={"rowid": pl.Int64, "_problem_outcome": pl.Utf8, "_problem_reason": pl.Utf8},
        )

    def _dedupe(self, work: pl.DataFrame) -> pl.DataFrame:
        """Repeated keys, then repeated emails, among rows without a problem; the first row wins."""
        row_no = self._here(pl.col("_place"))
        work = work.with_columns(pl.col("rowid").cast(pl.Int64))
        ok = pl.col("_problem_outcome").is_null()
        if self.key_given:
            work = self._first(work, ok, "row_key", "first_key_row", "_seen_keys")
            key_dup = ok & (pl.col("first_key_row") != pl.col("rowid"))
            work = work.with_columns(
                _problem_outcome=pl.when(key_dup).then(pl.lit("duplicate")).otherwise("_problem_outcome"),
                _problem_reason=pl.when(key_dup)
                .then(
                    pl.format(
                        "{}: key {} repeats {}",
                        row_no,
                        _shown("row_key"),
                        self._here(pl.col("first_key_place")),
                    )
                )
                .otherwise("_problem_reason"),
            )
        work = self._first(work, ok, "email", "first_email_row", "_seen_emails")
        email_dup = ok & (pl.col("first_email_row") != pl.col("rowid"))
        return work.with_columns(
            outcome=pl.when(email_dup).then(pl.lit("duplicate")).otherwise("_problem_outcome"),
            reason=pl.when(email_dup)
            .then(
                pl.format(
                    "{}: same email as {} (case and spaces ignored)",
                    row_no,
                    self._here(pl.col("first_email_place")),
                )
            )
            .otherwise("_problem_reason"),
        )

    def _first(
        self, work: pl.DataFrame, ok: pl.Expr, column: str, first: str, seen_attr: str
    ) -> pl.DataFrame:
        """Add `first` (the rowid of the first ok row with this value, earlier slices included) and its
        `_place` as `first` with `_place` for `_row` (rows are in source order: the first row's is the least)."""
        seen: pl.DataFrame = getattr(self, seen_attr)
        first_place = first.replace("_row", "_place")
        here = (
            work.filter(ok)
            .group_by(column)
            .agg(pl.col("rowid").min().alias("_first_here"), pl.col("_place").min().alias("_place_here"))
        )
        here = here.with_columns(_h=pl.col(column).hash())
        # Only the seen values this slice has, found by their hashes (kept with them), then the join on the
        # values themselves: joining all of `seen` (a row per value of the table so far) hashed every earlier
        # value again for each slice (4x the CPU at 1,000,000 rows), and so did `is_in` on the values.
        earlier = seen.filter(pl.col("_h").is_in(here["_h"].implode())).drop("_h")
        here = here.join(earlier, on=column, how="left")
        here = here.with_columns(
            pl.coalesce(first, "_first_here").alias(first),
            pl.coalesce(first_place, "_place_here").alias(first_place),
        )
        fresh = here.filter(pl.col(first) == pl.col("_first_here")).select(column, first, first_place, "_h")
        setattr(self, seen_attr, pl.concat([seen, fresh], rechunk=False))
        return work.join(here.select(column, first, first_place), on=column, how="left", nulls_equal=False)

    def _here(self, place: pl.Expr) -> pl.Expr:
        """`line 12` / `row 12`: a row's place in its source as reasons name it."""
        return pl.format(f"{self.place} {{}}", place)

    @staticmethod
    def _lead_json(fields: list[str], custom: list[str], escape: dict[str, bool]) -> pl.Expr:
        """`canonical_json(build_lead(row))` of every row (from the columns of `_values`): sorted keys,
        blank lead fields left out; `escape`: whether each text column holds a value to escape."""
        parts: list[tuple[str, pl.Expr]] = []
        for name in fields:
            column = "email" if name == "email" else f"f_{name}"
            text = json_string(pl.col(column), plain=not escape[column])
            parts.append((name, pl.concat_str([pl.lit(f'"{name}":'), text])))
        if custom:
            inner = [
                pl.concat_str([pl.lit(f"{json.dumps(n, ensure_ascii=False)}:"), pl.col(f"v_{n}")])
                for n in sorted(custom)
            ]
            parts.append(
                (
                    "custom_variables",
                    pl.concat_str(
                        [pl.lit('"custom_variables":{'), pl.concat_str(inner, separator=","), pl.lit("}")]
                    ),
                )
            )
        ordered = [expr for _, expr in sorted(parts, key=lambda p: p[0])]
        return pl.concat_str(
            [pl.lit("{"), pl.concat_str(ordered, separator=",", ignore_nulls=True), pl.lit("}")]
        )


def _sha256(column: str) -> pl.Expr:
    """sha256 hex of each payload's UTF-8 bytes in `column` (`mapping.payload_hash`); null stays null.

    polars-hash's compiled sha2_256 over the column: about a quarter of a microsecond a row, the same digests
    as hashlib (which the ledgers of earlier pushes hold), against about a microsecond a row for hashlib.
    """
    return polars_hash.col(column).chash.sha2_256()


def _shown(column: str) -> pl.Expr:
    """validate._show (repr, at most 60 characters) of each value: done per row, it is rare."""
    from tasks.validate import _show

    return pl.col(column).map_elements(_show, return_dtype=pl.Utf8)


def parse_lead(text: str) -> dict[str, Any]:
    """A lead payload back as a dict (for PATCH bodies and dry-run previews)."""
    result: dict[str, Any] = json.loads(text)
    return result
