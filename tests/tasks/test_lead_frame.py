"""The columnar path (tasks/lead_frame.py) against the row rules it applies: same payload, hash, outcome, reason."""

from __future__ import annotations

import datetime as dt
import decimal
import itertools
import json
import random
from typing import Any

import duckdb
import polars as pl
import pytest

from tasks.lead_frame import LeadFrames, json_string
from tasks.mapping import ColumnMapping, build_lead, canonical_json, payload_hash, resolve_mapping
from tasks.push_plan import decide, decide_frame, skip_guard
from tasks.validate import RowValidator

WEIRD = ["", " ", "\t", "\x1c", "\u3000", "\xa0", "\u200b", "\n", '"', "\\", "\x01", "\x7f", "é", "😀", "'"]
EMAILS = [
    "ann@example.com", " Ann@Example.COM ", "ann.lee+tag@mail.example.co.uk", "o'brien@example.ie",
    "x@xn--bcher-kva.example", None, "", "   ", "ann.example.com", "@example.com", "ann@", "ann@localhost",
    "ann@example.c", "ann@-example.com", "ann@exa mple.com", "an n@example.com", "ann..lee@example.com",
    ".ann@example.com", "a" * 65 + "@example.com", "a@" + "b" * 250 + ".com", "ann@example.123",
    "Émile@example.com", "ann@exämple.com", "a@b@example.com", "ann@example.com\x1c", "\u3000bob@example.com",
    "zed@example.xn--p1ai", "zed@example.xn--", "ANN@EXAMPLE.COM", "İnci@example.com",
    # the length limits, at and one past them: a 64- and 65-character local part, a 254- and 255-character address
    "a" * 64 + "@example.com", "a@" + ("b" * 63 + ".") * 3 + "c" * 56 + ".com",
    "a@" + ("b" * 63 + ".") * 3 + "c" * 57 + ".com",
]  # fmt: skip


def messy_text(rng: random.Random) -> str | None:
    if rng.random() < 0.15:
        return None
    parts = [rng.choice(WEIRD) if rng.random() < 0.4 else rng.choice(["Ann", "Bö", "x y", "1.50", "O'Neil"])
             for _ in range(rng.randint(0, 4))]  # fmt: skip
    return "".join(parts)


def row_path(
    frame: pl.DataFrame, mapping: ColumnMapping, key_given: bool, place: str = "row"
) -> list[dict[str, Any]]:
    """What the row-by-row rules say about each row (build_lead + RowValidator + payload_hash)."""
    validator = RowValidator(key_given=key_given, place=place)
    out = []
    for row in frame.iter_rows(named=True):
        values = {col: row[f"c{i}"] for i, col in enumerate(mapping.columns)}
        lead = build_lead(values, mapping)
        number = row.get("source_row", row["rowid"] + 1)
        rejection = validator.check(lead, row["row_key"], number, row.get("row_problem"))
        out.append(
            {
                "email": lead.get("email"),
                "outcome": rejection.outcome if rejection else None,
                "reason": rejection.reason if rejection else None,
                "lead": None if rejection else canonical_json(lead),
                "payload_hash": None if rejection else payload_hash(lead),
            }
        )
    return out


def frame_of(
    columns: list[str], rows: list[list[Any]], keys: list[str | None], dtypes: dict[str, Any]
) -> pl.DataFrame:
    """A slice as ledger.read_slice gives it: rowid, row_key, then mapping.columns as c0, c1, ..."""
    order = resolve_mapping(columns).columns
    data: dict[str, Any] = {"rowid": list(range(len(rows))), "row_key": keys}
    for i, col in enumerate(order):
        at = columns.index(col)
        data[f"c{i}"] = pl.Series([r[at] for r in rows], dtype=dtypes.get(col, pl.Utf8), strict=False)
    return pl.DataFrame(data).with_columns(pl.col("rowid").cast(pl.Int64))


def columnar(
    frame: pl.DataFrame, mapping: ColumnMapping, key_given: bool, slices: int, place: str = "row"
) -> list[dict[str, Any]]:
    frames = LeadFrames(mapping, key_given=key_given, place=place)
    step = max(1, frame.height // slices)
    out = pl.concat(
        [frames.prepare(frame.slice(i, step), mapping.columns) for i in range(0, frame.height, step)]
    )
    return out.select("email", "outcome", "reason", "lead", "payload_hash").to_dicts()


@pytest.mark.parametrize("slices", [1, 3])
def test_messy_text_rows_get_the_row_paths_payload_hash_outcome_and_reason(slices: int) -> None:
    rng = random.Random(7)
    columns = ["Email", "First Name", "Company", "Personalization", "Notes", "Score"]
    mapping = resolve_mapping(columns)
    rows = []
    for i in range(600):
        email = (
            rng.choice(EMAILS)
            if rng.random() < 0.5
            else f"{rng.choice(['', ' '])}User{i % 150}@Ex{i % 7}.com "
        )
        rows.append(
            [email, messy_text(rng), messy_text(rng), messy_text(rng), messy_text(rng), messy_text(rng)]
        )
    rows[5][1] = "x" * 1001
    rows[6][3] = "y" * 5001
    rows[7][4] = " " + "z" * 5001
    keys = [(r[0] or "").strip().lower() or None for r in rows]
    frame = frame_of(columns, rows, keys, {})
    assert columnar(frame, mapping, False, slices) == row_path(frame, mapping, False)


def test_key_column_blank_and_repeated_keys_match_the_row_path() -> None:
    columns = ["Email", "First Name"]
    mapping = resolve_mapping(columns)
    emails = ["a@x.co", "b@x.co", "c@x.co", "a@x.co", "bad", "d@x.co", "e@x.co", "e@x.co"]
    keys = ["k1", None, "k1", "k4", "k5", "k5", "k6", "k7"]
    frame = frame_of(columns, [[e, "A"] for e in emails], keys, {})
    got = columnar(frame, mapping, True, 2)
    assert got == row_path(frame, mapping, True)
    assert [g["outcome"] for g in got] == [
        None,
        "rejected",
        "duplicate",
        "duplicate",
        "invalid",
        None,
        None,
        "duplicate",
    ]


@pytest.mark.parametrize("slices", [1, 3])
def test_reasons_name_the_source_line_of_each_row_and_of_the_row_it_repeats(slices: int) -> None:
    """`source_row` (the extract's `_source_row`) is what reasons name, also across slices: a CSV's lines,
    with a blank line and a cell over lines between its rows, not the rows' positions."""
    columns = ["Email", "First Name", "Notes"]
    mapping = resolve_mapping(columns)
    emails = ["a@x.co", "b@x.co", "bad", "A@X.co ", "c@x.co", "x@y.co", "b@x.co"]
    keys = ["k1", "k2", "k3", "k4", "k1", None, "k7"]
    rows = [[e, "Ann", "n" * (5001 if i == 5 else 1)] for i, e in enumerate(emails)]
    lines = [2, 3, 5, 6, 9, 10, 12]
    frame = frame_of(columns, rows, keys, {}).with_columns(source_row=pl.Series(lines, dtype=pl.Int64))
    got = columnar(frame, mapping, False, slices, place="line")
    assert got == row_path(frame, mapping, False, place="line")
    assert [g["reason"] for g in got] == [
        None,
        None,
        "line 5: invalid email 'bad': no @",
        "line 6: same email as line 2 (case and spaces ignored)",
        None,
        "line 10: custom variable notes is 5,001 characters (max 5,000)",
        "line 12: same email as line 3 (case and spaces ignored)",
    ]
    keyed = columnar(frame, mapping, True, slices, place="line")
    assert keyed == row_path(frame, mapping, True, place="line")
    assert [g["reason"] for g in keyed][3:6] == [
        "line 6: same email as line 2 (case and spaces ignored)",
        "line 9: key 'k1' repeats line 2",
        "line 10: the key column is blank",
    ]


def test_typed_columns_are_coerced_like_the_row_path() -> None:
    columns = ["email", "score", "ratio", "active", "signed_up", "seen_at", "tags", "amount", "first_name"]
    mapping = resolve_mapping(columns)
    rows = [
        ["a@x.co", 1, 2.5, True, dt.date(2024, 3, 1), dt.datetime(2024, 3, 1, 12, 30), ["a", "b"], decimal.Decimal("12.00"), 12],
        ["b@x.co", None, float("nan"), False, None, None, [], decimal.Decimal("1.25"), None],
        ["c@x.co", -(2**60), 1e16, None, dt.date(999, 1, 2), dt.datetime(2024, 1, 1, 0, 0, 0, 5), None, None, -3],
        ["d@x.co", 0, float("inf"), True, dt.date(2024, 12, 31), None, ['q"uote'], decimal.Decimal("-0.5"), 0],
    ]  # fmt: skip
    dtypes = {"score": pl.Int64, "ratio": pl.Float64, "active": pl.Boolean, "signed_up": pl.Date,
              "seen_at": pl.Datetime("us"), "tags": pl.List(pl.Utf8), "amount": pl.Decimal(10, 2),
              "first_name": pl.Int32}  # fmt: skip
    frame = frame_of(columns, rows, [r[0] for r in rows], dtypes)
    assert columnar(frame, mapping, False, 1) == row_path(frame, mapping, False)


def test_lines_the_extract_could_not_read_are_invalid_first_like_the_row_path() -> None:
    columns = ["Email", "First Name"]
    mapping = resolve_mapping(columns)
    emails = ["a@x.co", "b@x.co", "a@x.co", "bad", "c@x.co"]
    problems = [None, "line 3: one field too many (3 where the header has 2)", None, "line 5: x", None]
    frame = frame_of(columns, [[e, "A"] for e in emails], emails, {}).with_columns(
        row_problem=pl.Series(problems, dtype=pl.Utf8)
    )
    got = columnar(frame, mapping, False, 2)
    assert got == row_path(frame, mapping, False)
    assert [g["outcome"] for g in got] == [None, "invalid", "duplicate", "invalid", None]
    assert got[1]["reason"] == "line 3: one field too many (3 where the header has 2); the row was not read"


def test_integers_beyond_2_to_the_53_are_sent_as_text_like_the_row_path() -> None:
    columns = ["email", "id", "small"]
    mapping = resolve_mapping(columns)
    rows = [["a@x.co", 2**53 - 1, 2**53 - 1], ["b@x.co", 2**53, 2**53 + 1], ["c@x.co", 2**64 - 1, None]]
    frame = frame_of(columns, rows, [r[0] for r in rows], {"id": pl.UInt64, "small": pl.Int64})
    got = columnar(frame, mapping, False, 1)
    assert got == row_path(frame, mapping, False)
    assert '"id":9007199254740991' in got[0]["lead"]
    assert '"id":"9007199254740992","small":"9007199254740993"' in got[1]["lead"]
    assert '"id":"18446744073709551615"' in got[2]["lead"]


def _dated_leads(sql: str) -> tuple[list[str | None], list[dict[str, str] | None]]:
    """(outcomes, custom variables or None) of rows `rowid, c0 (email), c1, c2, c3` from DuckDB's `sql`, the
    three dated columns mapped as `seen`, `stamp`, `joined`: DuckDB's own dates, as a DuckDB source's reach
    the push."""
    frame = duckdb.sql(sql).pl().with_columns(pl.col("rowid").cast(pl.Int64), row_key=pl.col("c0"))
    mapping = resolve_mapping(["email", "seen", "stamp", "joined"])
    out = LeadFrames(mapping, key_given=False).prepare(frame, mapping.columns)
    leads = [None if lead is None else json.loads(lead)["custom_variables"] for lead in out["lead"]]
    return out["outcome"].to_list(), leads


def test_infinite_dates_and_timestamps_are_sent_as_the_text_infinity() -> None:
    """DuckDB's +/-infinity (a Postgres `infinity`, tasks/postgres_source.py) holds no Python date: polars'
    to_list() panicked. It is sent as its text, in the fast path and in the row functions' (a bad email)."""
    outcomes, leads = _dated_leads(
        "SELECT * FROM (VALUES (0, 'a@x.co', 'infinity'::TIMESTAMPTZ, '-infinity'::TIMESTAMP, 'infinity'::DATE),"
        " (1, 'bad', '-infinity'::TIMESTAMPTZ, 'infinity'::TIMESTAMP, '-infinity'::DATE),"
        " (2, 'c@x.co', TIMESTAMPTZ '2024-01-01 08:00:00+00', TIMESTAMP '2024-01-01 05:00:00', DATE '2024-01-02'))"
        " AS t(rowid, c0, c1, c2, c3)"
    )
    assert outcomes == [None, "invalid", None]
    assert leads == [
        {"seen": "infinity", "stamp": "-infinity", "joined": "infinity"},
        None,
        {"seen": "2024-01-01T08:00:00+00:00", "stamp": "2024-01-01T05:00:00", "joined": "2024-01-02"},
    ]


def test_dates_of_years_python_cannot_hold_are_sent_as_iso_text() -> None:
    """A Parquet or DuckDB date after 9999 (or before year 1) holds no Python date: the push failed with
    `Error: year 10000 is out of range`. It is sent as iso_text would write it, the year in ISO's expanded form."""
    outcomes, leads = _dated_leads(
        "SELECT * FROM (VALUES (0, 'a@x.co', TIMESTAMPTZ '10000-01-01 10:00:00+02', TIMESTAMP '10000-01-01 05:00:00.5',"
        " DATE '0044-03-15 (BC)'),"
        " (1, 'bad', TIMESTAMPTZ '10000-01-01 10:00:00+02', NULL, DATE '10000-01-01'),"
        " (2, 'c@x.co', TIMESTAMPTZ '2024-01-01 08:00:00+00', TIMESTAMP '2024-01-01 05:00:00', DATE '2024-01-02'))"
        " AS t(rowid, c0, c1, c2, c3)"
    )
    assert outcomes == [None, "invalid", None]
    assert leads == [
        {
            "seen": "10000-01-01T08:00:00+00:00",
            "stamp": "10000-01-01T05:00:00.500000",
            "joined": "-0043-03-15",
        },
        None,
        {"seen": "2024-01-01T08:00:00+00:00", "stamp": "2024-01-01T05:00:00", "joined": "2024-01-02"},
    ]


@pytest.mark.parametrize(
    "text", ["plain", 'q"uote', "back\\slash", "tab\tnew\nline\r", "\x00\x01\x1f\x7f", "é😀\u2028"]
)
def test_json_string_escapes_like_python_json(text: str) -> None:
    import json

    got = pl.DataFrame({"v": [text]}).select(json_string(pl.col("v"))).item()
    assert got == json.dumps(text, ensure_ascii=False)


STATES = [None, "done", "rejected"]
OUTCOMES = [None, "created", "skipped", "blocklisted"]


def test_decide_frame_agrees_with_decide_on_every_combination() -> None:
    guards = [("in_campaign", ()), ("in_campaign", ("c2",)), ("none", ())]
    hashes = [None, "h1", "h2", *("h1" + skip_guard(m, s) for m, s in guards if skip_guard(m, s))]
    for skip_mode, siblings in guards:
        cases = list(
            itertools.product(STATES, hashes, [None, "L1"], OUTCOMES, [None, "", "a@x.co", "b@x.co"])
        )
        frame = pl.DataFrame(
            [(*case, "h1", "a@x.co") for case in cases],
            schema=dict.fromkeys(["l_state", "l_hash", "l_lead_id", "l_outcome", "l_email", "payload_hash", "email"],
                                 pl.Utf8),
            orient="row",
        )  # fmt: skip
        got = (
            decide_frame(frame, skip_mode=skip_mode, siblings=siblings)
            .select("action", "d_outcome", "d_reason", "d_lead_id")
            .rows()
        )
        for case, row in zip(cases, got, strict=True):
            s, h, lid, o, e = case
            d = decide(
                s, h, lid, o, e, payload_hash="h1", email="a@x.co", skip_mode=skip_mode, siblings=siblings
            )
            assert row == (d.action, d.outcome, d.reason, d.lead_id), (case, skip_mode, siblings)


def test_decide_frame_refuses_rows_still_open() -> None:
    frame = pl.DataFrame(
        {"l_state": ["pending"], "l_hash": ["h"], "l_lead_id": [None], "l_outcome": [None], "l_email": [None],
         "payload_hash": ["h"], "email": ["a@x.co"]},
        schema_overrides={"l_lead_id": pl.Utf8, "l_outcome": pl.Utf8, "l_email": pl.Utf8},
    )  # fmt: skip
    with pytest.raises(ValueError, match="reconciled"):
        decide_frame(frame, skip_mode="none")


def test_payload_hashes_are_hashlib_sha256_of_the_utf8_text() -> None:
    # The ledgers of earlier pushes hold hashlib's digests: a different hash would make every row "changed".
    from hashlib import sha256

    from tasks import lead_frame

    texts = ['{"email":"a@b.co"}', None, "", '{"first_name":"Bö 😀\\n"}', "x" * 5000, None]

    def hashed(values: list[str | None]) -> list[str | None]:
        frame = pl.DataFrame({"lead": values}, schema={"lead": pl.Utf8})
        return frame.select(lead_frame._sha256("lead")).to_series().to_list()

    assert hashed(texts) == [None if t is None else sha256(t.encode()).hexdigest() for t in texts]
    assert hashed([None, None]) == [None, None]
