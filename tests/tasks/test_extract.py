"""Extracting sources into ops.<table>: real files, real DuckDB, real Postgres."""

from __future__ import annotations

import datetime as dt
import decimal
import json
from pathlib import Path

import duckdb
import polars as pl
import psycopg
import pytest

from ops_core.errors import OpsError
from ops_core.urls import redact_url, url_key
from tasks import extract
from tasks.extract import (
    SourceSpec,
    describe_source,
    detect_encoding,
    extract_source,
    source_kind,
    table_name_for,
)
from tasks.mapping import resolve_mapping
from tasks.push import preview_push
from tests.postgres_scratch import PostgresScratch
from tests.tasks.push_helpers import Formula, query, write_workbook
from warehouse.db import Warehouse


def _extract(spec: SourceSpec, wh: Warehouse, key: str | None = None):  # type: ignore[no-untyped-def]
    mapping = resolve_mapping(describe_source.fn(spec))
    return mapping, extract_source.fn(
        spec, wh, email_column=mapping.email_column, key_column=key, run_id="r1"
    )


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        ("leads.csv", "csv"),
        ("/x/Leads.TSV", "csv"),
        ("a.csv.gz", "csv"),
        ("a.parquet", "parquet"),
        ("duckdb:///tmp/x.duckdb", "duckdb"),
        ("x.duckdb", "duckdb"),
        ("postgresql://u:p@h/db", "postgres"),
        ("postgres://h/db", "postgres"),
    ],
)
def test_source_kinds(source: str, kind: str) -> None:
    assert source_kind(source) == kind


@pytest.mark.parametrize("source", ["mysql://u:secret@h/db", "host=h user=u password=secret dbname=db"])
def test_an_unknown_source_kind_is_a_one_line_error_without_the_password(source: str) -> None:
    with pytest.raises(OpsError) as exc:
        source_kind(source)
    assert "secret" not in str(exc.value)
    assert SourceSpec(source).display in str(exc.value)  # named as every message names it


@pytest.mark.parametrize(
    ("spec", "name"),
    [
        (SourceSpec("data/Q3 Leads.csv"), "q3_leads"),
        (SourceSpec("exports/Клиенты Größe.csv"), "klienty_grosse"),  # transliterated, as variable names
        (SourceSpec("x.parquet", table="Override"), "override"),
        (SourceSpec("postgresql://h/db", table="crm.Contacts"), "contacts"),
        (SourceSpec("postgresql://h/db", query="select 1"), "query"),
    ],
)
def test_table_names_are_snake_case(spec: SourceSpec, name: str) -> None:
    assert table_name_for(spec) == name


@pytest.mark.parametrize(
    ("raw", "encoding"),
    [
        ("\ufeffemail\nä@x.co\n".encode(), "utf-8-sig"),
        ("email\nä@x.co\n".encode("latin-1"), "cp1252"),
        ("email\nä@x.co\n".encode("utf-16"), "utf-16"),
        ("email\nä@x.co\n".encode("utf-32"), "utf-32"),
        ("email\nä@x.co\n".encode("utf-16-le"), "utf-16-le"),  # no BOM
        # No BOM and only ASCII: valid UTF-8 as bytes (a NUL is a character), which it was taken for.
        ("Email,Name\na@x.com,Ann\n".encode("utf-16-le"), "utf-16-le"),
        ("Email,Name\na@x.com,Ann\n".encode("utf-16-be"), "utf-16-be"),
        (b"email\na@x.co\n", "utf-8"),
        # Excel's "CSV (Comma delimited)" on Western Windows: cp1252 (curly apostrophe 0x92, en dash, euro)
        ("email,company\nana@example.com,O’Brien – Partners “Gold” €\n".encode("cp1252"), "cp1252"),
        ("email,name\nivan@x.ru,Иван Петров\nolga@x.ru,Ольга Смирнова\n".encode("cp1251"), "cp1251"),
        ("email,name\nl@x.pl,Łukasz Żółć\nk@x.pl,Krzysztof Wąż\n".encode("cp1250"), "cp1250"),
        ("email,name\nt@x.jp,山田太郎\n".encode("shift_jis"), "cp932"),
    ],
)
def test_detect_encoding(tmp_path: Path, raw: bytes, encoding: str) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(raw)
    assert detect_encoding(path) == encoding


def test_a_windows_ansi_csv_keeps_its_curly_quotes_dashes_and_euro(
    tmp_path: Path, warehouse_path: Path
) -> None:
    path = tmp_path / "ansi.csv"
    path.write_bytes(
        "email,first_name,company\nana@example.com,Ana,O’Brien – Partners “€”\n".encode("cp1252")
    )
    _extract(SourceSpec(str(path)), Warehouse(warehouse_path))
    assert query(warehouse_path, "SELECT first_name, company FROM ops.ansi") == [
        ("Ana", "O’Brien – Partners “€”")
    ]


def test_a_utf16_csv_from_excel_unicode_text_is_read(tmp_path: Path, warehouse_path: Path) -> None:
    path = tmp_path / "u16.txt"
    path.write_bytes("email\tPrénom\r\nzoe@x.co\tZoë\r\n".encode("utf-16"))
    mapping, _ = _extract(SourceSpec(str(path)), Warehouse(warehouse_path))
    assert mapping.fields == {"email": "email", "first_name": "Prénom"}
    assert query(warehouse_path, 'SELECT email, "Prénom" FROM ops.u16') == [("zoe@x.co", "Zoë")]


@pytest.mark.parametrize(
    ("raw", "fragments"),
    [
        (b"email\n\x00\x01\x02\xff\xfe\x00\x81\n", ["byte 9 is not UTF-8", "NUL bytes"]),
        (b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00", ["an Excel workbook"]),
    ],
)
def test_bytes_that_no_encoding_fits_are_a_one_line_error(
    tmp_path: Path, raw: bytes, fragments: list[str]
) -> None:
    path = tmp_path / "binary.csv"
    path.write_bytes(raw)
    with pytest.raises(OpsError) as exc:
        describe_source.fn(SourceSpec(str(path)))
    for fragment in fragments:
        assert fragment in exc.value.message
    assert "binary.csv" in exc.value.message and "CSV UTF-8" in (exc.value.hint or "")


def test_a_file_that_stops_decoding_midway_names_the_encoding_and_line(tmp_path: Path) -> None:
    from tasks.csv_source import CsvLayout, read_rows

    path = tmp_path / "mixed.csv"
    path.write_bytes(b"email\na@x.co\n" + "ü@x.co\n".encode("utf-16-le") + b"\n")
    with pytest.raises(OpsError) as exc:
        list(read_rows(path, CsvLayout("utf-8", ",", ("email",)), ["email"]))
    assert "as utf-8" in exc.value.message and "line 3" in exc.value.message


HUGE = "x" * 2_500_000


@pytest.mark.parametrize(
    ("body", "bad_line", "problem"),
    [
        ("ana@example.com,Ana,\"Reid, Inc.\",Oslo\nbo@example.com,Bo,Reid, Inc.,Rome\n", 3,
         "one field too many (5 where the header has 4): is a comma inside a value not quoted?"),
        ("ana@example.com,Ana,Acme,Oslo\nbo@example.com,Bo,Acme\n", 3, "one field missing (3 where the header has 4)"),
        ("ana@example.com,Ana,Acme,Oslo\ncy@example.com,Cy,\"multi\nline\",Paris\nbo@example.com,Bo,Acme\n", 5,
         "one field missing (3 where the header has 4)"),
        (f"ana@example.com,Ana,Acme,Oslo\nbo@example.com,Bo,{HUGE},Rome\n", 3,
         "the row is 2,500,020 characters long (at most 1,000,000)"),
        # the csv module's lenient mode read it as "Acme Inc", dropping the quotes
        ('ana@example.com,Ana,Acme,Oslo\nbo@example.com,Bo,"Acme" Inc,Rome\n', 3,
         "a quoted cell has text after its closing quote"),
    ],
)  # fmt: skip
def test_a_row_that_cannot_be_read_is_kept_with_its_line_number_and_the_rest_goes_through(
    tmp_path: Path, warehouse_path: Path, body: str, bad_line: int, problem: str
) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text("email,first_name,company,city\n" + body + "di@example.com,Di,Zeta,Lyon\n")
    mapping, table = _extract(SourceSpec(str(path)), Warehouse(warehouse_path))
    assert mapping.email_column == "email"  # the header is never read as one column
    assert set(mapping.fields) == {"email", "first_name", "company_name"}
    rows = query(warehouse_path, "SELECT email, first_name, _row_key, _row_problem FROM ops.ragged")
    assert rows[-1] == ("di@example.com", "Di", "di@example.com", None)
    bad = [r for r in rows if r[3] is not None]
    assert bad == [("bo@example.com", None, "bo@example.com", f"line {bad_line}: {problem}")]
    assert table.row_count == len(rows)


def _leads_csv(path: Path, rows: int, odd: dict[int, str]) -> Path:
    """A CSV of `rows` leads whose company cell on line N is `odd[N]` (line 1 is the header)."""
    lines = ["email,first_name,company,city"]
    for i in range(rows):
        company = odd.get(i + 2, f"Co{i}")
        lines.append(f"u{i}@example.com,Name{i},{company},City{i}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_quote_that_is_never_closed_is_a_one_line_error_naming_its_line_not_a_cut_file(
    tmp_path: Path, warehouse_path: Path
) -> None:
    # It made lines 11-2,001 one cell of one `invalid` row: 10 rows arrived, 1,990 were gone without a word.
    path = _leads_csv(tmp_path / "stray.csv", 2000, {11: '"Acme'})
    with pytest.raises(OpsError) as raised:
        _extract(SourceSpec(str(path)), Warehouse(warehouse_path))
    message = str(raised.value)
    assert "\n" not in message and message.startswith("Cannot read stray.csv: ")
    assert (
        "the quote that opens a cell on line 11 is never closed: lines 11-2,001 would be one cell" in message
    )
    assert query(warehouse_path, "SELECT count(*) FROM ops.source_tables") == [(0,)]  # nothing half-read


@pytest.mark.parametrize(
    ("odd", "problem"),
    [
        ({11: '"Acme', 500: '"Beta'}, "a quoted cell has text after its closing quote"),
        ({11: '"Acme', 500: 'Beta",X'}, "one field too many (5 where the header has 4)"),
    ],
)
def test_a_quote_closed_lines_later_is_a_one_line_error_naming_both_lines(
    tmp_path: Path, warehouse_path: Path, odd: dict[int, str], problem: str
) -> None:
    path = _leads_csv(tmp_path / "stray.csv", 2000, odd)
    with pytest.raises(OpsError) as raised:
        _extract(SourceSpec(str(path)), Warehouse(warehouse_path))
    assert str(raised.value).startswith(
        "Cannot read stray.csv: the quote that opens a cell on line 11 closes on line 500, and lines 11-500 "
        f"read as one row: {problem}. Is that quote stray?"
    )


_READERS = ["duckdb-reader", "row-by-row-reader", "cp1252"]


def _for_reader(path: Path, reader: str) -> Path:
    """`path` as the reader is made to read it: as written (DuckDB), with a ragged last line (DuckDB
    refuses the file: the row-by-row reader), or in cp1252 (not UTF-8: the row-by-row reader at once)."""
    if reader == "row-by-row-reader":
        path.write_text(path.read_text() + "zz@example.com,Z,X,Y,Extra\n")
    elif reader == "cp1252":
        path.write_bytes((path.read_text() + "zoe@example.com,Zoë,Co,City\n").encode("cp1252"))
    return path


@pytest.mark.parametrize("reader", _READERS)
@pytest.mark.parametrize(
    ("odd", "problem"),
    [
        ({11: '"Acme', 500: 'Beta"'}, "lines 12-500 look like rows of their own"),
        ({11: '"Acme', 12: 'Beta"'}, "line 12 looks like a row of its own"),
    ],
)
def test_two_stray_quotes_that_close_into_a_good_row_are_a_one_line_error_not_lost_lines(
    tmp_path: Path, warehouse_path: Path, reader: str, odd: dict[int, str], problem: str
) -> None:
    # Lines 11-500 became one row whose company was "Acme,Name9,... u498@example.com,Name498,Beta": 489
    # leads were gone, and the extract said nothing.
    path = _for_reader(_leads_csv(tmp_path / "stray.csv", 2000, odd), reader)
    end = max(odd)
    with pytest.raises(OpsError) as raised:
        _extract(SourceSpec(str(path)), Warehouse(warehouse_path))
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(
        f"Cannot read stray.csv: the quote that opens a cell on line 11 closes on line {end}, and lines "
        f"11-{end} read as one row: {problem}. Is that quote stray?"
    )
    assert query(warehouse_path, "SELECT count(*) FROM ops.source_tables") == [(0,)]  # nothing half-read


@pytest.mark.parametrize("reader", _READERS)
def test_cells_that_span_lines_on_purpose_are_read_as_they_are_by_every_reader(
    tmp_path: Path, warehouse_path: Path, reader: str
) -> None:
    odd = {3: '"Main St, Apt 4\nSpringfield"', 5: '"notes\n\nmore, later"', 7: '"one,\ntwo,\nthree"'}
    path = _for_reader(_leads_csv(tmp_path / "spans.csv", 2000, odd), reader)
    _, table = _extract(SourceSpec(str(path)), Warehouse(warehouse_path))
    assert table.row_count == 2000 + (reader != "duckdb-reader")
    rows = query(
        warehouse_path, "SELECT email, company FROM ops.spans WHERE company LIKE '%' || chr(10) || '%'"
    )
    assert rows == [
        ("u1@example.com", "Main St, Apt 4\nSpringfield"),
        ("u3@example.com", "notes\n\nmore, later"),
        ("u5@example.com", "one,\ntwo,\nthree"),
    ]
    if reader == "duckdb-reader":  # DuckDB's copy stands: the csv module only looked at the rows over lines
        from tasks.csv_source import no_swallowed_lines, read_layout

        assert no_swallowed_lines(path, read_layout(path), "email")


@pytest.mark.parametrize("ragged", [False, True], ids=["duckdb-reader", "row-by-row-reader"])
def test_a_quote_inside_an_unquoted_cell_and_a_nul_byte_are_read_exactly_by_both_readers(
    tmp_path: Path, warehouse_path: Path, ragged: bool
) -> None:
    # A ragged line makes DuckDB refuse the file, so the row-by-row reader reads it: both must agree.
    odd = {3: 'Bob "the" Co', 4: "A\x00B", 5: '"Quoted, Inc."'} | ({6: "X,Y"} if ragged else {})
    path = _leads_csv(tmp_path / "odd.csv", 2000, odd)
    _, table = _extract(SourceSpec(str(path)), Warehouse(warehouse_path))
    assert table.row_count == 2000
    rows = query(warehouse_path, "SELECT company, _row_problem FROM ops.odd WHERE rowid BETWEEN 1 AND 4")
    assert rows[:3] == [('Bob "the" Co', None), ("A\x00B", None), ("Quoted, Inc.", None)]
    assert rows[3] == ((None, "line 6: one field too many (5 where the header has 4): is a comma inside a "
                        "value not quoted?") if ragged else ("Co4", None))  # fmt: skip


def test_a_clean_file_keeps_the_fast_reader_and_blank_lines_and_empty_cells_are_null(
    tmp_path: Path, warehouse_path: Path
) -> None:
    path = tmp_path / "clean.csv"
    path.write_text('email,name,,name\r\na@x.co,"O""Brien",1,\r\n\r\nb@x.co,"two\nlines",,x\r\n')
    assert describe_source.fn(SourceSpec(str(path))) == ["email", "name", "column2", "name_1"]
    _extract(SourceSpec(str(path)), Warehouse(warehouse_path))
    rows = query(warehouse_path, "SELECT email, name, column2, name_1, _row_problem FROM ops.clean")
    assert rows == [("a@x.co", 'O"Brien', "1", None, None), ("b@x.co", "two\nlines", None, "x", None)]


@pytest.mark.parametrize(
    ("header", "delimiter"),
    [("email,name", ","), ("email;name", ";"), ("email\tname", "\t"), ("email|name", "|"),
     ('"a;b",email,name', ","), ("email", ",")],
)  # fmt: skip
def test_the_delimiter_comes_from_the_header_line(header: str, delimiter: str) -> None:
    from tasks.csv_source import sniff_delimiter

    assert sniff_delimiter(header) == delimiter


def test_a_bom_latin1_semicolon_csv_is_read_with_row_keys(tmp_path: Path, warehouse_path: Path) -> None:
    path = tmp_path / "Leads Export.csv"
    path.write_bytes("E-mail;Prénom;Ville\n  Zoë@Example.com ;Zoë;Köln\nbob@x.co;Bob;\n".encode("latin-1"))
    mapping, table = _extract(SourceSpec(str(path)), Warehouse(warehouse_path))
    assert mapping.email_column == "E-mail"
    assert table.name == "leads_export" and table.row_count == 2
    rows = query(
        warehouse_path, 'SELECT "E-mail", "Prénom", "Ville", _row_key, _run_id FROM ops.leads_export'
    )
    assert rows == [("  Zoë@Example.com ", "Zoë", "Köln", "zoë@example.com", "r1"), ("bob@x.co", "Bob", None,
                                                                                     "bob@x.co", "r1")]  # fmt: skip
    assert query(warehouse_path, "SELECT table_name, source, key_column, email_column, row_count FROM "
                 "ops.source_tables") == [("leads_export", str(path), None, "E-mail", 2)]  # fmt: skip


def test_a_utf8_bom_does_not_end_up_in_the_first_column_name(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_text("Email,Name\na@x.co,A\n", encoding="utf-8-sig")
    assert describe_source.fn(SourceSpec(str(path))) == ["Email", "Name"]


def test_a_key_column_becomes_the_row_key(tmp_path: Path, warehouse_path: Path) -> None:
    path = tmp_path / "k.csv"
    path.write_text("id,email\n7,a@x.co\n,b@x.co\n")
    _, table = _extract(SourceSpec(str(path)), Warehouse(warehouse_path), key="id")
    assert table.key_column == "id"
    assert query(warehouse_path, "SELECT _row_key FROM ops.k") == [("7",), (None,)]


def test_an_unknown_key_column_is_refused(tmp_path: Path, warehouse_path: Path) -> None:
    path = tmp_path / "k.csv"
    path.write_text("email,name\na@x.co,Ann\n")
    with pytest.raises(OpsError, match="The `key_column` column 'nope'") as raised:
        _extract(SourceSpec(str(path)), Warehouse(warehouse_path), key="nope")
    assert str(raised.value).endswith("(pick one of: email, name)")  # the file's columns, not _row_problem


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"email,name\n", "has no rows"),
        (b"name,company\nA,B\n", "No email column"),
    ],
)
def test_bad_files_are_one_line_errors(
    tmp_path: Path, warehouse_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(OpsError, match=message):
        _extract(SourceSpec(str(path)), Warehouse(warehouse_path))


def test_a_missing_file_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(OpsError, match="No such file"):
        describe_source.fn(SourceSpec(str(tmp_path / "nope.csv")))


def test_a_folder_named_like_a_file_is_called_a_folder(tmp_path: Path) -> None:
    (tmp_path / "leads.csv").mkdir()
    with pytest.raises(OpsError, match=r"leads\.csv is a folder, not a file"):
        describe_source.fn(SourceSpec(str(tmp_path / "leads.csv")))


def test_a_re_extract_replaces_the_table(tmp_path: Path, warehouse_path: Path) -> None:
    path = tmp_path / "t.csv"
    wh = Warehouse(warehouse_path)
    path.write_text("email\na@x.co\nb@x.co\n")
    _extract(SourceSpec(str(path)), wh)
    path.write_text("email\nc@x.co\n")
    _extract(SourceSpec(str(path)), wh)
    assert query(warehouse_path, "SELECT email FROM ops.t") == [("c@x.co",)]


def test_an_empty_re_extract_keeps_the_previous_copy(tmp_path: Path, warehouse_path: Path) -> None:
    path = tmp_path / "t.csv"
    wh = Warehouse(warehouse_path)
    path.write_text("email\na@x.co\n")
    _extract(SourceSpec(str(path)), wh)
    path.write_text("email\n")
    with pytest.raises(OpsError, match="has no rows"):
        _extract(SourceSpec(str(path)), wh)
    assert query(warehouse_path, "SELECT email FROM ops.t") == [("a@x.co",)]


def test_the_copy_of_a_source_is_written_without_dictionary_compression(
    tmp_path: Path, warehouse_path: Path
) -> None:
    # warehouse.db.NO_DICTIONARY_COMPRESSION: trying it on every text column of a million-row copy cost
    # about 2 s of CPU. A column of two repeated values is where DuckDB would take it by default.
    path = tmp_path / "t.csv"
    path.write_text(
        "email,title\n" + "".join(f"u{i}@x.co,{'CTO' if i % 2 else 'Founder'}\n" for i in range(3000))
    )
    _extract(SourceSpec(str(path)), Warehouse(warehouse_path))
    compression = query(
        warehouse_path,
        "SELECT DISTINCT compression FROM pragma_storage_info('ops.t') WHERE column_name = 'title'"
        " AND segment_type = 'VARCHAR'",
    )
    assert compression and ("Dictionary",) not in compression


def test_an_extract_creates_the_engagement_views_of_its_table(tmp_path: Path, warehouse_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("email,team\na@x.co,red\n")
    _extract(SourceSpec(str(path)), Warehouse(warehouse_path))
    rows = query(warehouse_path, "SELECT email, team, instantly_email_status FROM ops.t_engagement")
    assert rows == [("a@x.co", "red", "not_contacted")]


def _case_headers(path: Path) -> Path:
    """A table whose headers differ only by case (and one that is repeated), in the format of `path`."""
    header, row = (
        ["Email", "Notes", "notes", "NOTES"],
        ["dupcase@example.com", "visible note", "SECOND note", "third"],
    )
    if path.suffix == ".xlsx":
        write_workbook(path, {"Sheet1": [header, row]})
    else:
        pl.DataFrame([row], schema=header, orient="row").write_parquet(path)
    return path


@pytest.mark.parametrize("suffix", [".xlsx", ".parquet"])
def test_headers_that_differ_only_by_case_each_send_their_own_value(
    tmp_path: Path, warehouse_path: Path, suffix: str
) -> None:
    # An .xlsx sent "visible note" as both notes and notes_2: the mapping named the columns as calamine did
    # (Notes, notes), the warehouse as DuckDB does (Notes, notes_1), and "notes" bound to Notes.
    wh = Warehouse(warehouse_path)
    spec = SourceSpec(str(_case_headers(tmp_path / f"dupcase{suffix}")))
    assert describe_source.fn(spec) == ["Email", "Notes", "notes_1", "NOTES_2"]
    mapping, table = _extract(spec, wh)
    assert table.columns == ("Email", "Notes", "notes_1", "NOTES_2")
    assert preview_push.fn(wh, table, mapping).payloads == [
        {
            "email": "dupcase@example.com",
            "custom_variables": {"notes": "visible note", "notes_1": "SECOND note", "notes_2": "third"},
        }
    ]


def test_parquet_keeps_types_for_coercion(tmp_path: Path, warehouse_path: Path) -> None:
    path = tmp_path / "p.parquet"
    pl.DataFrame(
        {"email": ["a@x.co"], "joined": [dt.date(2024, 3, 1)], "tags": [["a", "b"]], "n": [3]}
    ).write_parquet(path)
    mapping, _ = _extract(SourceSpec(str(path)), Warehouse(warehouse_path))
    assert mapping.custom == {"joined": "joined", "tags": "tags", "n": "n"}
    assert query(warehouse_path, "SELECT joined, tags, n FROM ops.p") == [
        (dt.date(2024, 3, 1), ["a", "b"], 3)
    ]


def test_a_duckdb_file_table_is_copied(tmp_path: Path, warehouse_path: Path) -> None:
    src = tmp_path / "crm.duckdb"
    con = duckdb.connect(str(src))
    con.execute("CREATE SCHEMA sales; CREATE TABLE sales.people AS SELECT 'a@x.co' AS email, 1 AS id")
    con.close()
    spec = SourceSpec(f"duckdb:///{src}", table="sales.people")
    _, table = _extract(spec, Warehouse(warehouse_path))
    assert table.name == "people"
    assert query(warehouse_path, "SELECT email, id, _row_key FROM ops.people") == [("a@x.co", 1, "a@x.co")]


def test_a_duckdb_source_needs_a_table(tmp_path: Path) -> None:
    with pytest.raises(OpsError, match="The `table` parameter is needed"):
        describe_source.fn(SourceSpec(f"duckdb:///{tmp_path}/x.duckdb"))


# -- Postgres ---------------------------------------------------------------------------------------------


@pytest.fixture
def pg_table(postgres_scratch: PostgresScratch) -> str:
    """A uniquely named table in the test database of 25,000 rows of many types, dropped afterwards."""
    name = postgres_scratch.table(
        "push_extract",
        "id serial, email text, joined date, tags text[], meta jsonb, score numeric, seen timestamptz, "
        "ok boolean, uid uuid",
    )
    postgres_scratch.execute(
        f"INSERT INTO {name} (email, joined, tags, meta, score, seen, ok, uid) "
        "SELECT 'p' || g || '@x.co', DATE '2024-01-01' + g, ARRAY['a', 'b' || g], "
        "jsonb_build_object('k', g), g / 2.0, TIMESTAMPTZ '2024-01-01 00:00+00', g % 2 = 0, "
        "'00000000-0000-0000-0000-000000000001' FROM generate_series(1, 25000) AS g"
    )
    return name


def test_postgres_is_read_in_chunks_with_types_kept(
    postgres_url: str, pg_table: str, warehouse_path: Path
) -> None:
    spec = SourceSpec(postgres_url, table=pg_table)
    mapping, table = _extract(spec, Warehouse(warehouse_path), key="id")
    assert table.row_count == 25000  # more than two fetchmany chunks
    row = query(warehouse_path, f"SELECT email, joined, tags, meta, score, seen, ok, uid, _row_key FROM ops.{pg_table} "
                "WHERE id = 2")[0]  # fmt: skip
    assert row[:3] == ("p2@x.co", dt.date(2024, 1, 3), '["a", "b2"]')
    assert json.loads(row[3]) == {"k": 2} and row[4] == 1.0 and row[6] is True
    assert row[7] == "00000000-0000-0000-0000-000000000001" and row[8] == "2"
    assert "seen" in mapping.custom.values()


def test_postgres_columns_that_differ_only_by_case_are_named_as_in_every_other_source(
    postgres_url: str, warehouse_path: Path
) -> None:
    wh = Warehouse(warehouse_path)
    spec = SourceSpec(
        postgres_url, query="""SELECT 'a@x.co' AS "Email", 'x' AS "Notes", 'y' AS notes, 'z' AS notes"""
    )
    assert describe_source.fn(spec) == ["Email", "Notes", "notes_1", "notes_2"]
    mapping, table = _extract(spec, wh)
    assert preview_push.fn(wh, table, mapping).payloads[0]["custom_variables"] == {
        "notes": "x",
        "notes_1": "y",
        "notes_2": "z",
    }


def test_a_postgres_query_can_replace_the_table(
    postgres_url: str, pg_table: str, warehouse_path: Path
) -> None:
    spec = SourceSpec(postgres_url, query=f"SELECT email FROM {pg_table} WHERE id <= 10;")
    _, table = _extract(spec, Warehouse(warehouse_path))
    assert (table.name, table.row_count) == ("query", 10)


def test_a_database_source_is_recorded_without_its_password_and_matches_itself_again() -> None:
    # ops.source_tables names a database by `url_key`, as it always did (not by the *** messages show), so a
    # table pushed before messages showed stars is still the same source.
    spec = SourceSpec("postgresql://postgres:hunter2@127.0.0.1:1/test", table="leads")
    assert extract._recorded_source(spec) == "postgresql://postgres@127.0.0.1:1/test"
    assert extract._same_source("postgresql://postgres@127.0.0.1:1/test", spec)
    assert not extract._same_source("postgresql://postgres@127.0.0.1:1/other", spec)


def test_a_file_with_the_name_of_a_postgres_table_does_not_replace_its_copy(
    postgres_url: str, pg_table: str, tmp_path: Path, warehouse_path: Path
) -> None:
    wh = Warehouse(warehouse_path)
    url = postgres_url.replace("postgres@", "postgres:hunter2@", 1)  # trust auth ignores the password
    _extract(SourceSpec(url, table=pg_table), wh)
    clash = tmp_path / f"{pg_table.replace('_', '-')}.csv"
    clash.write_text("email\nz@x.co\n")
    with pytest.raises(OpsError) as exc:
        _extract(SourceSpec(str(clash)), wh)
    assert f"ops.{pg_table} already holds {url_key(url)}" in exc.value.message  # as recorded
    assert "set the `table` parameter to keep both" in str(exc.value) and "hunter2" not in str(exc.value)
    assert query(warehouse_path, f"SELECT count(*) FROM ops.{pg_table}") == [(25000,)]
    _extract(SourceSpec(str(clash), table="other_leads"), wh)  # the hint works: both kept
    assert query(warehouse_path, "SELECT email FROM ops.other_leads") == [("z@x.co",)]


def test_a_re_extract_of_the_same_file_by_another_spelling_of_its_path_is_allowed(
    tmp_path: Path, warehouse_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wh = Warehouse(warehouse_path)
    (tmp_path / "t.csv").write_text("email\na@x.co\n")
    _extract(SourceSpec(str(tmp_path / "t.csv")), wh)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "t.csv").write_text("email\nb@x.co\n")
    _extract(SourceSpec("./t.csv"), wh)
    assert query(warehouse_path, "SELECT email FROM ops.t") == [("b@x.co",)]


def test_a_relative_path_typed_in_another_folder_names_another_file_and_is_refused(
    tmp_path: Path, warehouse_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wh = Warehouse(warehouse_path)
    for folder, email in (("a", "a@x.co"), ("b", "b@x.co")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "crm.csv").write_text(f"email\n{email}\n")
    monkeypatch.chdir(tmp_path / "a")
    _extract(SourceSpec("crm.csv"), wh)
    assert query(warehouse_path, "SELECT source FROM ops.source_tables") == [
        (str(tmp_path / "a" / "crm.csv"),)
    ]
    monkeypatch.chdir(tmp_path / "b")  # `crm.csv` again, another file: it was replaced without a word
    with pytest.raises(OpsError, match=f"ops.crm already holds {tmp_path / 'a' / 'crm.csv'}, not crm.csv"):
        _extract(SourceSpec("crm.csv"), wh)
    assert query(warehouse_path, "SELECT email FROM ops.crm") == [("a@x.co",)]
    _extract(SourceSpec(str(tmp_path / "a" / "crm.csv")), wh)  # the first file by its full path: the same


@pytest.mark.parametrize(
    "name", ["push_results", "Connections", "sync_runs", "push_ledger", "campaign_rates"]
)
def test_a_source_named_like_one_of_the_warehouses_own_tables_is_refused_and_it_is_kept(
    name: str, tmp_path: Path, warehouse_path: Path
) -> None:
    # A LinkedIn export is `Connections.csv`: its copy replaced ops.connections, and later pushes failed.
    wh = Warehouse(warehouse_path)
    clash = tmp_path / f"{name}.csv"
    clash.write_text("email,Name\nn1@x.co,A\n")
    table = name.lower()
    columns = f"SELECT column_name FROM information_schema.columns WHERE table_name = '{table}'"
    (tmp_path / "first.csv").write_text("email\nf@x.co\n")
    _extract(SourceSpec(str(tmp_path / "first.csv")), wh)  # the warehouse and its own tables exist
    before = query(warehouse_path, columns)
    with pytest.raises(OpsError) as exc:
        _extract(SourceSpec(str(clash)), wh)
    assert str(exc.value) == (
        f"Cannot extract the source into ops.{table}: ops.{table} is one of the warehouse's own tables or "
        f"views. (set the `table` parameter to name it otherwise (e.g. {table}_leads))"
    )
    assert query(warehouse_path, columns) == before and before
    _extract(SourceSpec(str(clash), table=f"{table}_leads"), wh)  # the hint works


def test_a_source_whose_engagement_views_would_clash_with_another_source_table_is_refused(
    tmp_path: Path, warehouse_path: Path
) -> None:
    for name in ("fair", "fair_engagement"):
        (tmp_path / f"{name}.csv").write_text("email\nf@x.co\n")
    wh = Warehouse(warehouse_path)
    _extract(SourceSpec(str(tmp_path / "fair_engagement.csv")), wh)
    with pytest.raises(OpsError, match="the engagement views of ops.fair would replace the source table"):
        _extract(SourceSpec(str(tmp_path / "fair.csv")), wh)
    other = Warehouse(tmp_path / "other.duckdb")
    _extract(SourceSpec(str(tmp_path / "fair.csv")), other)
    with pytest.raises(OpsError, match="ops.fair_engagement is one of the warehouse's own tables or views"):
        _extract(SourceSpec(str(tmp_path / "fair_engagement.csv")), other)


def test_an_unreachable_postgres_is_a_one_line_error_without_the_password(warehouse_path: Path) -> None:
    spec = SourceSpec("postgresql://postgres:hunter2@127.0.0.1:1/test", table="x")
    with pytest.raises(OpsError) as exc:
        describe_source.fn(spec)
    assert "Cannot connect to Postgres at postgresql://postgres:***@127.0.0.1:1/test" in exc.value.message
    assert "hunter2" not in str(exc.value)


def test_an_empty_postgres_table_or_query_is_named_in_the_error(
    postgres_url: str, postgres_scratch: PostgresScratch, warehouse_path: Path
) -> None:
    empty = postgres_scratch.table("redact_empty", "email text, name text")
    url = postgres_url.replace("postgres@", "postgres:hunter2@", 1)  # trust auth ignores the password
    shown = redact_url(url)
    with pytest.raises(OpsError) as exc:
        _extract(SourceSpec(url, table=empty), Warehouse(warehouse_path))
    assert exc.value.message == f"The source table public.{empty} in {shown} has no rows."
    with pytest.raises(OpsError) as exc:
        _extract(SourceSpec(url, query=f"SELECT * FROM {empty}", table="q"), Warehouse(warehouse_path))
    assert exc.value.message == f"The query on {shown} returns no rows."
    assert "hunter2" not in str(exc.value)


def test_an_empty_sheet_is_named_in_the_error(tmp_path: Path, warehouse_path: Path) -> None:
    book = write_workbook(tmp_path / "book.xlsx", {"Notes": [["x"]], "Leads": [["email", "name"]]})
    with pytest.raises(OpsError) as exc:
        _extract(SourceSpec(str(book), sheet="Leads"), Warehouse(warehouse_path))
    assert exc.value.message == f"The sheet 'Leads' of {book} has no rows."


def test_an_unknown_postgres_table_is_a_one_line_error(postgres_url: str) -> None:
    with pytest.raises(OpsError, match="Cannot read from Postgres"):
        describe_source.fn(SourceSpec(postgres_url, table="no_such_table_here"))


def test_a_column_of_only_tabs_and_no_break_spaces_is_empty_in_every_row(
    tmp_path: Path, warehouse_path: Path
) -> None:
    # Blank as Python's str.strip() sees it: SQL's trim() alone keeps the tab and the no-break space.
    path = tmp_path / "tabs.csv"
    path.write_text("email,fax,city\r\na@x.co,\t,Oslo\r\nb@x.co,\u00a0 ,\r\n", encoding="utf-8")
    _, table = _extract(SourceSpec(str(path)), Warehouse(warehouse_path))
    assert table.empty_columns == ("fax",)


def test_a_column_whose_only_text_comes_after_the_sampled_rows_is_not_empty(
    tmp_path: Path, warehouse_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Columns with text in the first rows are decided there; the others are scanned whole.
    monkeypatch.setattr(extract, "EMPTY_SAMPLE_ROWS", 2)
    path = tmp_path / "late.csv"
    lines = ["email,fax,city,notes", "a@x.co,,Oslo,\t", "b@x.co,, ,", "c@x.co,,,\u00a0", "d@x.co, ,,late"]
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    _, table = _extract(SourceSpec(str(path)), Warehouse(warehouse_path))
    assert table.empty_columns == ("fax",)


def test_postgres_numeric_with_a_precision_is_kept_exact(postgres_url: str, warehouse_path: Path) -> None:
    """A numeric(30,0) id beyond 2^53 must not round through a float, nor an integral numeric be sent as 1.0."""
    wh = Warehouse(warehouse_path)
    spec = SourceSpec(
        postgres_url,
        query="SELECT 'a@x.co' AS email, 9007199254740993::numeric(30,0) AS ext_id, 1::numeric(10,0) AS seats, "
        "1234567.10::numeric(20,2) AS arr, 12345678901234567890123456789012345678901::numeric(45,0) AS huge, "
        "0.5::numeric AS loose, NULL::numeric(12,2) AS nothing",
        table="pg_numeric",
    )
    mapping, table = _extract(spec, wh)
    row = query(warehouse_path, "SELECT ext_id, seats, arr, huge, loose FROM ops.pg_numeric")[0]
    assert row == (
        decimal.Decimal("9007199254740993"),
        decimal.Decimal("1"),
        decimal.Decimal("1234567.10"),
        "12345678901234567890123456789012345678901",
        0.5,
    )
    sent = preview_push.fn(wh, table, mapping).payloads[0]["custom_variables"]
    assert (sent["ext_id"], sent["seats"], sent["arr"], sent["huge"]) == (
        "9007199254740993",
        1,
        1234567.1,
        "12345678901234567890123456789012345678901",
    )


def test_postgres_infinite_dates_and_timestamps_are_read_and_sent_as_the_text_infinity(
    postgres_url: str, postgres_scratch: PostgresScratch, warehouse_path: Path
) -> None:
    """psycopg refused the whole table (`timestamp too large (after year 10K): 'infinity'`). They are DuckDB's
    infinite values in the copy, as DuckDB's postgres scanner reads them; ordinary values are as before."""
    wh = Warehouse(warehouse_path)
    name = postgres_scratch.table(
        "pg_infinity",
        "id integer PRIMARY KEY, email text, seen timestamptz, stamp timestamp, joined date",
        [
            (1, "a@x.co", "infinity", "-infinity", "infinity"),
            (2, "b@x.co", "2024-01-01 10:00:00.5+02", "2024-01-01 05:00", "2024-01-02"),
            (3, "c@x.co", "-infinity", None, "-infinity"),
        ],
    )
    mapping, table = _extract(SourceSpec(postgres_url, table=name), wh)
    types = dict(query(warehouse_path, f"SELECT column_name, data_type FROM information_schema.columns "
                                       f"WHERE table_name = '{name}'"))  # fmt: skip
    assert [types[c] for c in ("seen", "stamp", "joined")] == [
        "TIMESTAMP WITH TIME ZONE",
        "TIMESTAMP",
        "DATE",
    ]
    text = "SELECT CAST(seen AS VARCHAR), CAST(stamp AS VARCHAR), CAST(joined AS VARCHAR) FROM ops.{} WHERE id <> 2"
    assert query(warehouse_path, text.format(name) + " ORDER BY id") == [
        ("infinity", "-infinity", "infinity"),
        ("-infinity", None, "-infinity"),
    ]
    ordinary = (
        f"SELECT seen = TIMESTAMPTZ '2024-01-01 08:00:00.5+00', stamp, joined FROM ops.{name} WHERE id = 2"
    )
    assert query(warehouse_path, ordinary) == [(True, dt.datetime(2024, 1, 1, 5, 0), dt.date(2024, 1, 2))]
    sent = [p["custom_variables"] for p in preview_push.fn(wh, table, mapping).payloads]
    assert [(s["seen"], s["stamp"], s["joined"]) for s in sent] == [
        ("infinity", "-infinity", "infinity"),
        ("2024-01-01T08:00:00.500000+00:00", "2024-01-01T05:00:00", "2024-01-02"),
        ("-infinity", None, "-infinity"),
    ]


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("date", "0044-03-15 BC"),  # DuckDB would read the text as the year 44 AD
        ("timestamp", "12024-01-01 00:00"),
        ("timestamptz", "0001-01-01 00:00:00+00 BC"),
    ],
)
def test_a_postgres_date_outside_the_years_1_to_9999_is_a_one_line_error_naming_its_column_and_row(
    postgres_url: str, postgres_scratch: PostgresScratch, warehouse_path: Path, column: str, value: str
) -> None:
    name = postgres_scratch.table(
        "pg_far_date",
        f"id integer PRIMARY KEY, email text, due {column}",
        [(2, "b@x.co", value), (1, "a@x.co", "2024-01-01")],
    )
    with pytest.raises(OpsError) as exc:
        _extract(SourceSpec(postgres_url, table=name), Warehouse(warehouse_path))
    assert exc.value.message.startswith(f"Cannot read from Postgres {postgres_url}: column 'due' holds '")
    assert "in row 2, outside the years 1-9999" in exc.value.message and "\n" not in str(exc.value)
    assert '(SELECT ..., "due"::text AS "due")' in str(exc.value)  # the hint: how to read it as text


def test_postgres_bytea_and_interval_are_sent_as_postgres_writes_them_whatever_the_servers_output_settings(
    postgres_url: str, postgres_scratch: PostgresScratch, warehouse_path: Path
) -> None:
    """They went out as Python reprs, `b'\\xde\\xad\\xbe\\xef'` and `1 day, 2:00:00`. The read fixes the output
    formats it depends on: a server set to escape bytea and write dates the SQL way reads the same."""
    name = postgres_scratch.table(
        "pg_bytes",
        "email text, blob bytea, wait interval, joined date, blobs bytea[], waits interval[]",
        [("a@x.co", b"\xde\xad\xbe\xef", dt.timedelta(days=1, hours=2), dt.date(2024, 1, 2), [b"\x01"],
          [dt.timedelta(minutes=90)])],
    )  # fmt: skip
    url = f"{postgres_url}?options=-c%20bytea_output%3Descape%20-c%20DateStyle%3DSQL%2CDMY"
    wh = Warehouse(warehouse_path)
    mapping, table = _extract(SourceSpec(url, table=name), wh)
    sent = preview_push.fn(wh, table, mapping).payloads[0]["custom_variables"]
    assert sent == {
        "blob": "\\xdeadbeef",
        "wait": "1 day 02:00:00",
        "joined": "2024-01-02",
        "blobs": '["\\\\x01"]',  # JSON of Postgres's text of each element
        "waits": '["01:30:00"]',
    }


def test_postgres_times_ranges_records_and_addresses_are_sent_as_postgres_writes_them(
    postgres_url: str, postgres_scratch: PostgresScratch, warehouse_path: Path
) -> None:
    """psycopg's objects printed otherwise: `10:00:00+02:00`, `[1, 5)`, `('1', 'a')` (a tuple's repr)."""
    name = postgres_scratch.name("pg_texts")
    postgres_scratch.execute(
        f"CREATE TABLE {name} AS SELECT 'a@x.co'::text AS email, '10:00:01.5'::time AS at,"
        " '10:00+02'::timetz AS at_tz, '[1,5)'::int4range AS span, '{[1,2),[4,6)}'::int4multirange AS spans,"
        " tstzrange('2024-01-01 00:00+00', NULL) AS stay, '1.2.3.4'::inet AS ip, '10.0.0.0/8'::cidr AS net,"
        " '{1.2.3.4}'::inet[] AS ips"
    )
    wh = Warehouse(warehouse_path)
    # A query: a table cannot hold an anonymous record.
    query = f"SELECT *, ROW(1, 'a b') AS pair FROM {name}"
    mapping, table = _extract(SourceSpec(postgres_url, query=query, table="pg_texts"), wh)
    sent = preview_push.fn(wh, table, mapping).payloads[0]["custom_variables"]
    assert sent == {
        "at": "10:00:01.5",
        "at_tz": "10:00:00+02",
        "span": "[1,5)",
        "spans": "{[1,2),[4,6)}",
        "stay": '["2024-01-01 00:00:00+00",)',
        "ip": "1.2.3.4",
        "net": "10.0.0.0/8",
        "pair": '(1,"a b")',
        "ips": '["1.2.3.4"]',
    }


def test_a_postgres_numeric_nan_or_infinity_is_sent_as_null_not_a_refusal_of_the_table(
    postgres_url: str, postgres_scratch: PostgresScratch, warehouse_path: Path
) -> None:
    """`Could not convert string "NaN" to DECIMAL(10,2)` refused the whole table."""
    name = postgres_scratch.name("pg_nan")
    postgres_scratch.execute(
        f"CREATE TABLE {name} (email text, score numeric(10,2), big numeric);"
        f" INSERT INTO {name} VALUES ('a@x.co', 'NaN', 'Infinity'), ('b@x.co', 1.5, '-Infinity'), ('c@x.co', 2, 3)"
    )
    wh = Warehouse(warehouse_path)
    mapping, table = _extract(SourceSpec(postgres_url, table=name), wh)
    sent = [p["custom_variables"] for p in preview_push.fn(wh, table, mapping).payloads]
    assert sent == [{"score": None, "big": None}, {"score": 1.5, "big": None}, {"score": 2.0, "big": 3.0}]


def test_postgres_values_do_not_depend_on_the_session_time_zone_and_arrays_are_valid_json(
    postgres_url: str, postgres_scratch: PostgresScratch, warehouse_path: Path
) -> None:
    """With PGTZ=Asia/Kolkata a tstzrange and a timestamptz[] came out in +05:30 (the next push PATCHed the
    lead); a float8[] holding NaN came out as `[NaN, 1.0]`, which is not JSON."""
    name = postgres_scratch.name("pg_zone")
    postgres_scratch.execute(
        f"CREATE TABLE {name} (email text PRIMARY KEY, r tstzrange, a timestamptz[], f float8[], n numeric[]);"
        f" INSERT INTO {name} VALUES ('a@x.co', '[2020-01-01 00:00+00,2020-02-01 00:00+00)',"
        " '{2020-01-01 00:00+00}', '{NaN,1}', '{1.5,NaN}')"
    )
    url = f"{postgres_url}?options=-c%20TimeZone%3DAsia%2FKolkata"
    wh = Warehouse(warehouse_path)
    mapping, table = _extract(SourceSpec(url, table=name), wh)
    sent = preview_push.fn(wh, table, mapping).payloads[0]["custom_variables"]
    assert sent == {
        "r": '["2020-01-01 00:00:00+00","2020-02-01 00:00:00+00")',
        "a": '["2020-01-01 00:00:00+00"]',
        "f": "[null, 1.0]",
        "n": '["1.5", null]',
    }


def _winner(spec: SourceSpec, wh: Warehouse) -> tuple[dict[str, object], list[str]]:
    """(the custom variables of the one lead pushed, the dry run's examples) of a two-row, one-email table."""
    mapping, table = _extract(spec, wh)
    preview = preview_push.fn(wh, table, mapping)
    assert preview.validation == {"valid": 1, "duplicate": 1}
    return preview.payloads[0]["custom_variables"], preview.examples


@pytest.mark.parametrize("key", ["id integer PRIMARY KEY", "id integer"], ids=["primary-key", "no-key"])
def test_an_update_that_changes_nothing_does_not_change_which_postgres_row_of_one_email_is_pushed(
    postgres_url: str, postgres_scratch: PostgresScratch, warehouse_path: Path, key: str
) -> None:
    """The first row of an email wins. A table was read in physical order, which a no-op UPDATE changes (the
    row moves to the end): the next push PATCHed the lead with the other row's data. It is read by its
    primary key, else by the whole row's text (json and point have no ordering of their own)."""
    wh = Warehouse(warehouse_path)
    name = postgres_scratch.table(
        "pg_order",
        f"{key}, email text, note text, meta json, spot point",
        [(1, "ann@x.co", "first", '{"a": 1}', "(1,2)"), (2, " Ann@X.co", "second", '{"b": 2}', "(3,4)")],
    )
    spec = SourceSpec(postgres_url, table=name)
    before = _winner(spec, wh)
    postgres_scratch.execute(f"UPDATE {name} SET note = note WHERE id = 1")
    with psycopg.connect(postgres_url) as pg:  # the update did move the row: physical order is now 2, 1
        assert [r[0] for r in pg.execute(f"SELECT id FROM {name}").fetchall()] == [2, 1]
    after = _winner(spec, wh)
    assert before == after
    assert before[0]["note"] == "first"
    assert before[1] == ["duplicate: row 2: same email as row 1 (case and spaces ignored)"]
    assert query(warehouse_path, f"SELECT id, _row_key FROM ops.{name}") == [(1, "ann@x.co"), (2, "ann@x.co")]


def test_a_postgres_query_is_read_in_its_own_order_which_decides_the_row_of_one_email_pushed(
    postgres_url: str, postgres_scratch: PostgresScratch, warehouse_path: Path
) -> None:
    name = postgres_scratch.table(
        "pg_query_order", "id integer PRIMARY KEY, email text, note text",
        [(1, "ann@x.co", "first"), (2, "ann@x.co", "second")],
    )  # fmt: skip
    spec = SourceSpec(postgres_url, query=f"SELECT * FROM {name} ORDER BY id DESC")
    assert _winner(spec, Warehouse(warehouse_path))[0]["note"] == "second"


def test_csv_lines_of_only_delimiters_are_not_rows(tmp_path: Path, warehouse_path: Path) -> None:
    # Excel saves a formatted empty row as ",,,"; it was an `invalid` row ("missing email") in every push.
    path = tmp_path / "export.csv"
    path.write_text("Email,Name,City\na@x.co,A,\n,,\n , \t,\nb@x.co,B,Rome\n,,\n,,\n")
    _, table = _extract(SourceSpec(str(path)), Warehouse(warehouse_path))
    assert table.row_count == 2
    assert query(warehouse_path, "SELECT Email FROM ops.export") == [("a@x.co",), ("b@x.co",)]


def test_a_csv_line_that_could_not_be_read_is_kept_among_blank_lines(
    tmp_path: Path, warehouse_path: Path
) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(
        "Email,Name\na@x.co,Zoë\n,\nb@x.co,Reid, Inc.\n".encode("cp1252")
    )  # the row-by-row reader
    _, table = _extract(SourceSpec(str(path)), Warehouse(warehouse_path))
    rows = query(warehouse_path, "SELECT Email, _row_problem IS NOT NULL FROM ops.bad")
    assert rows == [("a@x.co", False), ("b@x.co", True)]


def test_sheet_rows_blank_in_every_cell_are_not_rows(tmp_path: Path, warehouse_path: Path) -> None:
    # Formulas that return "" (=IF(A2="","",...)) leave rows of empty text under the data.
    import xlsxwriter

    path = tmp_path / "sheet.xlsx"
    with xlsxwriter.Workbook(str(path)) as book:
        sheet = book.add_worksheet()
        sheet.write_row(0, 0, ["Email", "Name"])
        sheet.write_row(1, 0, ["a@x.co", "A"])
        sheet.write_string(2, 0, "")
        sheet.write_string(2, 1, " ")
        sheet.write_row(3, 0, ["b@x.co", "B"])
        sheet.write_string(4, 1, "")
    _, table = _extract(SourceSpec(str(path)), Warehouse(warehouse_path))
    assert query(warehouse_path, "SELECT Email, Name FROM ops.sheet") == [("a@x.co", "A"), ("b@x.co", "B")]
    assert table.row_count == 2


def test_a_postgres_table_of_the_same_name_in_another_schema_does_not_replace_its_copy(
    postgres_url: str, postgres_scratch: PostgresScratch, warehouse_path: Path
) -> None:
    # Was: crm."Contacts" and sales."Contacts" are both ops.contacts from one URL, and the second push
    # replaced the first's rows without a word (its ledger and engagement view then mixed both tables).
    schemas = [postgres_scratch.schema(f"t_{kind}") for kind in ("crm", "sales")]
    for schema in schemas:
        postgres_scratch.execute(
            f'CREATE TABLE {schema}."Contacts" (email text);'
            f"INSERT INTO {schema}.\"Contacts\" VALUES ('a@{schema}.example')"
        )
    wh = Warehouse(warehouse_path)
    _extract(SourceSpec(postgres_url, table=f"{schemas[0]}.Contacts"), wh)
    _extract(SourceSpec(postgres_url, table=f"{schemas[0]}.Contacts"), wh)  # the same table: replaced
    assert query(warehouse_path, "SELECT source_table, source_query FROM ops.source_tables") == [
        (f"{schemas[0]}.Contacts", None)
    ]
    with pytest.raises(OpsError) as exc:
        _extract(SourceSpec(postgres_url, table=f"{schemas[1]}.Contacts"), wh)
    assert f"ops.contacts already holds {postgres_url} (table {schemas[0]}.Contacts), not" in str(exc.value)
    assert f"""'SELECT * FROM "{schemas[1]}"."Contacts"' and """ in str(exc.value)
    assert query(warehouse_path, "SELECT email FROM ops.contacts") == [(f"a@{schemas[0]}.example",)]


def test_two_queries_of_one_database_under_one_name_do_not_replace_each_other(
    postgres_url: str, warehouse_path: Path
) -> None:
    wh = Warehouse(warehouse_path)
    _extract(SourceSpec(postgres_url, query="SELECT 'a@x.co' AS email;"), wh)
    _extract(SourceSpec(postgres_url, query="SELECT 'a@x.co' AS email"), wh)  # the same query
    with pytest.raises(OpsError, match=r"ops.query already holds .* \(a query\), not .* \(a query\)"):
        _extract(SourceSpec(postgres_url, query="SELECT 'b@x.co' AS email"), wh)


@pytest.mark.parametrize("encoding", ["utf-8", "cp1252"])  # DuckDB's reader, and the row-by-row one
def test_excels_sep_line_names_the_delimiter_and_is_not_the_header(
    tmp_path: Path, warehouse_path: Path, encoding: str
) -> None:
    # Was: "The header of sep.csv is on line 2 (Email, Name, Umsatz), not on line 1 (sep=), which has no
    # email column. (delete the lines above the header ...)": Excel writes and reads that first line.
    path = tmp_path / "sep.csv"
    path.write_bytes("sep=;\r\nEmail;Name;Umsatz\r\nzoë@x.co;Zoë;1,5\r\nb@x.co;B;2\r\n".encode(encoding))
    mapping, table = _extract(SourceSpec(str(path)), Warehouse(warehouse_path))
    assert mapping.email_column == "Email" and table.row_count == 2
    assert query(warehouse_path, "SELECT Email, Name, Umsatz FROM ops.sep") == [
        ("zoë@x.co", "Zoë", "1,5"),
        ("b@x.co", "B", "2"),
    ]


def test_a_header_with_a_cell_over_lines_under_a_title_line_is_named_whole_on_one_line(
    tmp_path: Path,
) -> None:
    # Was: "The header of title.csv is on line 2 (Email), not on line 1 (Leads export)": the probe read lines.
    path = tmp_path / "title.csv"
    path.write_text('Leads export\n"Email\nAddress";Name\na@x.co;Ann\n')
    spec = SourceSpec(str(path))
    error = extract.misplaced_header(spec, describe_source.fn(spec))
    assert error is not None and "\n" not in str(error)
    assert "title.csv is on line 2 (Email Address, Name), not on line 1 (Leads export), which has" in str(
        error
    )


@pytest.mark.parametrize("title", [["Leads export"], ["Leads export", Formula("=NA()", "#N/A")]])
def test_a_title_row_with_an_excel_error_value_is_named_like_a_title_row_without_one(
    tmp_path: Path, title: list[object]
) -> None:
    book = write_workbook(
        tmp_path / "export.xlsx", {"Leads": [title, ["email", "first_name"], ["a@x.co", "Ann"]]}
    )
    spec = SourceSpec(str(book))
    error = extract.misplaced_header(spec, describe_source.fn(spec))
    assert error is not None
    assert (
        "export.xlsx is 1 row(s) below its first row with text (email, first_name), not that row (Leads export), "
        "which has no email column." in str(error)
    )


def test_a_row_of_only_an_excel_error_value_above_the_header_is_skipped_and_rows_keep_their_numbers(
    tmp_path: Path, warehouse_path: Path
) -> None:
    # Was: "No email column found (columns: __UNNAMED__0, __UNNAMED__1)".
    rows: list[list[object]] = [[Formula("=NA()", "#N/A")], ["email", "first_name"], ["a@x.co", "Ann"]]
    rows += [["nope", "Bo"], ["A@x.co", "Ann again"]]
    book = write_workbook(tmp_path / "export.xlsx", {"Leads": rows})
    wh = Warehouse(warehouse_path)
    mapping, table = _extract(SourceSpec(str(book)), wh)
    assert query(warehouse_path, "SELECT _source_row FROM ops.export ORDER BY rowid") == [(3,), (4,), (5,)]
    assert preview_push.fn(wh, table, mapping).examples == [
        "invalid: row 4: invalid email 'nope': no @",
        "duplicate: row 5: same email as row 3 (case and spaces ignored)",
    ]


@pytest.mark.parametrize("column", ["_row_problem", "_ROW_KEY"])
def test_a_source_column_named_like_one_of_ours_is_refused(tmp_path: Path, column: str) -> None:
    # Was: a `_row_problem` column made every row `invalid` ("oops; the row was not read").
    path = tmp_path / "model.parquet"
    pl.DataFrame({"Email": ["a@x.co"], column: ["oops"]}).write_parquet(path)
    with pytest.raises(
        OpsError, match=f"has a column named {column}, a column ops-instantly adds to ops.model"
    ):
        describe_source.fn(SourceSpec(str(path)))


def test_a_source_column_named_like_an_engagement_column_in_another_case_is_refused(tmp_path: Path) -> None:
    # Was: pushed without it (left out as a written-back column), and in ops.leads_engagement
    # `instantly_reply_count` read this column while the real count became `instantly_reply_count_1`.
    path = tmp_path / "leads.csv"
    path.write_text("Email,Instantly_Reply_Count,instantly_link,Notes\na@x.co,7,x,n\n")
    with pytest.raises(OpsError) as raised:
        describe_source.fn(SourceSpec(str(path)))
    assert raised.value.message == (
        f"The source {path} has columns named Instantly_Reply_Count, instantly_link, which the engagement views"
        " of ops.leads would take for their own instantly_reply_count, instantly_link (DuckDB ignores the case"
        " of column names)."
    )
    assert raised.value.hint == "rename them in the source; delete them if they are stale copies of ours"


def test_a_postgres_column_named_like_an_engagement_column_can_be_selected_under_another_name(
    postgres_url: str,
) -> None:
    clash = SourceSpec(postgres_url, query="SELECT 'a@x.co' AS email, 3 AS \"INSTANTLY_STATUS\"", table="crm")
    with pytest.raises(
        OpsError, match=r"a column named INSTANTLY_STATUS, .* their own instantly_status \("
    ) as raised:
        describe_source.fn(clash)
    assert raised.value.hint is not None and "under another name with" in raised.value.hint
    renamed = SourceSpec(postgres_url, query="SELECT 'a@x.co' AS email, 3 AS crm_status", table="crm")
    assert describe_source.fn(renamed) == ["email", "crm_status"]


def test_engagement_columns_a_write_back_added_are_read_and_left_out_of_the_leads(tmp_path: Path) -> None:
    # Spelled as `sync --write-back` writes them: ours from an earlier sync (the views replace them).
    path = tmp_path / "written.csv"
    path.write_text("email,instantly_reply_count,instantly_status\na@x.co,2,Active\n")
    mapping = resolve_mapping(describe_source.fn(SourceSpec(str(path))))
    assert mapping.custom == {} and mapping.excluded == ("instantly_reply_count", "instantly_status")


@pytest.mark.parametrize("probe", ["xlsx-xml", "calamine"])
@pytest.mark.parametrize("above", [0, 2], ids=["header-on-row-1", "two-empty-rows-above"])
def test_reasons_name_the_sheet_row_as_excel_shows_it(
    tmp_path: Path, warehouse_path: Path, above: int, probe: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Was `row 3: same email as row 1` (positions in the warehouse copy, the blank row left out) for sheet
    row 5 repeating sheet row 2 under a header on row 1, with row 4 blank. The rows above the header are
    found in an .xlsx's XML, and with calamine for the other formats (`probe`)."""
    from tasks import excel_source

    if probe == "calamine":
        monkeypatch.setattr(excel_source, "_xlsx_first_row", lambda *_: None)
    rows: list[list[object]] = [["Email", "Name"], ["ann@x.co", "Ann"], ["bob@x.co", "Bob"], []]
    rows += [[" ANN@x.co", "Ann again"], ["nope", "Cy"]]
    book = write_workbook(tmp_path / "leads.xlsx", {"Cover": [["Q3 leads"]], "Leads Q3": [[]] * above + rows})
    spec = SourceSpec(str(book), sheet="Leads Q3")
    wh = Warehouse(warehouse_path)
    mapping, table = _extract(spec, wh)
    assert query(warehouse_path, "SELECT _source_row FROM ops.leads ORDER BY rowid") == [
        (n + above,) for n in (2, 3, 5, 6)
    ]
    assert preview_push.fn(wh, table, mapping).examples == [
        f"duplicate: row {5 + above}: same email as row {2 + above} (case and spaces ignored)",
        f"invalid: row {6 + above}: invalid email 'nope': no @",
    ]
    assert "_source_row" not in mapping.columns and "_source_row" not in table.columns


def test_a_formula_that_returns_nothing_above_the_header_is_an_empty_row(
    tmp_path: Path, warehouse_path: Path
) -> None:
    """A1 `=""` (Excel stores `<v></v>`) counted as the first row with a value: every row number was 2 low."""
    import xlsxwriter

    path = tmp_path / "formula.xlsx"
    with xlsxwriter.Workbook(str(path)) as book:
        sheet = book.add_worksheet("Leads")
        sheet.write_formula(0, 0, '=""', None, "")
        for r, row in ((2, ["Email", "Name"]), (3, ["ann@x.co", "Ann"]), (5, ["ANN@x.co", "Dup"])):
            sheet.write_row(r, 0, row)
    wh = Warehouse(warehouse_path)
    mapping, table = _extract(SourceSpec(str(path)), wh)
    assert preview_push.fn(wh, table, mapping).examples == [
        "duplicate: row 6: same email as row 4 (case and spaces ignored)"
    ]


def test_rows_of_a_parquet_file_are_numbered_in_the_order_read(tmp_path: Path, warehouse_path: Path) -> None:
    path = tmp_path / "people.parquet"
    pl.DataFrame({"email": ["a@x.co", "b@x.co", "A@x.co"]}).write_parquet(path)
    wh = Warehouse(warehouse_path)
    mapping, table = _extract(SourceSpec(str(path)), wh)
    assert query(warehouse_path, "SELECT _source_row FROM ops.people ORDER BY rowid") == [(1,), (2,), (3,)]
    assert preview_push.fn(wh, table, mapping).examples == [
        "duplicate: row 3: same email as row 1 (case and spaces ignored)"
    ]


def test_a_source_column_named_source_row_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text("email,_source_row\na@x.co,7\n")
    with pytest.raises(OpsError, match="_source_row"):
        describe_source.fn(SourceSpec(str(path)))
