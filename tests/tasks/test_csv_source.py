"""CSV headers (tasks/csv_source.py): column names and the header line, read by both readers; real files."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.csv_source import column_names, read_layout
from tasks.extract import SourceSpec, describe_source, extract_source
from tasks.mapping import resolve_mapping
from tasks.push import preview_push
from tests.tasks.push_helpers import query
from warehouse.db import Warehouse

# A ragged last line makes DuckDB refuse the file (the row-by-row reader reads it); cp1252 (the rows have
# an ë) is not UTF-8: the row-by-row reader at once.
_READERS = ["duckdb-reader", "row-by-row-reader", "cp1252"]


def _write(
    path: Path, text: str, reader: str, *, delimiter: str = ",", newline: str = "\n", bom: bool = False
) -> Path:
    if reader == "row-by-row-reader":
        text += "zz@example.com,1,2,3,4,5,6\n"
    raw = (
        text.replace(",", delimiter)
        .replace("\n", newline)
        .encode("cp1252" if reader == "cp1252" else "utf-8")
    )
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + raw)
    return path


def _push_preview(path: Path, warehouse_path: Path) -> tuple[int, list[str], list[dict[str, object]]]:
    """The dry run of `path`: row count, the reasons rows were refused, and the payloads."""
    wh = Warehouse(warehouse_path)
    spec = SourceSpec(str(path))
    mapping = resolve_mapping(describe_source.fn(spec))
    table = extract_source.fn(spec, wh, email_column=mapping.email_column, key_column=None, run_id="r1")
    preview = preview_push.fn(wh, table, mapping)
    return table.row_count, preview.examples, preview.payloads


@pytest.mark.parametrize(
    ("header", "names"),
    [
        (["Email", "Notes", "Notes"], ("Email", "Notes", "Notes_1")),
        (["Email", "Notes", "notes", "NOTES"], ("Email", "Notes", "notes_1", "NOTES_2")),
        (["Email", "Notes", "notes", "notes_1"], ("Email", "Notes", "notes_1", "notes_1_1")),
        (["Email", "", "Column1", " "], ("Email", "column1", "Column1_1", "column3")),
        (["Émail", "émail"], ("Émail", "émail")),  # DuckDB folds ASCII letters only: two names to it
    ],
)  # fmt: skip
def test_column_names_are_unique_in_any_case_as_duckdb_names_them(
    header: list[str], names: tuple[str, ...]
) -> None:
    assert column_names(header) == names


@pytest.mark.parametrize("reader", _READERS)
def test_headers_that_differ_only_by_case_are_named_like_repeated_ones_with_their_values(
    tmp_path: Path, warehouse_path: Path, reader: str
) -> None:
    # "Binder Error: Duplicate struct entry name "notes"": DuckDB's identifiers are case-insensitive.
    path = _write(tmp_path / "dup1.csv", "Email,Notes,notes,NOTES\na@b.com,x,y,zoë\n", reader)
    assert describe_source.fn(SourceSpec(str(path))) == ["Email", "Notes", "notes_1", "NOTES_2"]
    rows, _, payloads = _push_preview(path, warehouse_path)
    assert rows == 1 + (reader == "row-by-row-reader")
    copy = query(
        warehouse_path, 'SELECT "Notes", notes_1, "NOTES_2" FROM ops.dup1 WHERE "Email" = \'a@b.com\''
    )
    assert copy == [("x", "y", "zoë")]
    assert payloads[0] == {
        "email": "a@b.com",
        "custom_variables": {"notes": "x", "notes_1": "y", "notes_2": "zoë"},
    }


@pytest.mark.parametrize("reader", _READERS)
@pytest.mark.parametrize(
    ("above", "delimiter", "newline", "bom"),
    [
        ("\n", ",", "\n", False),
        ("\n\n\n", ",", "\r\n", False),
        ("\n", ";", "\n", False),
        ("\n", ",", "\n", True),
        ("\n \t\n", ";", "\r\n", True),  # a line of blanks is as blank as an empty one
    ],
    ids=["lf", "crlf", "semicolon", "bom", "spaces-crlf-semicolon-bom"],
)
def test_blank_lines_above_the_header_are_skipped_not_read_as_a_row(
    tmp_path: Path, warehouse_path: Path, reader: str, above: str, delimiter: str, newline: str, bom: bool
) -> None:
    # The DuckDB reader took the blank first line for the header: `(2 rows)`, "row 1: invalid email 'email'".
    if reader == "cp1252" and bom:
        pytest.skip("a UTF-8 BOM makes the file UTF-8")
    text = above + "Email,First Name\nx@a.com,Zoë\n"
    path = _write(tmp_path / "t_blank.csv", text, reader, delimiter=delimiter, newline=newline, bom=bom)
    assert describe_source.fn(SourceSpec(str(path))) == ["Email", "First Name"]
    rows, refused, payloads = _push_preview(path, warehouse_path)
    if reader == "row-by-row-reader":
        assert rows == 2 and len(refused) == 1 and "fields too many" in refused[0]  # only the ragged line
    else:
        assert (rows, refused) == (1, [])
    assert payloads == [{"email": "x@a.com", "first_name": "Zoë"}]


@pytest.mark.parametrize(
    ("text", "delimiter", "columns", "skip"),
    [
        ("sep=;\nEmail;Name\n", ";", ("Email", "Name"), 1),
        ("\ufeffSEP=|\r\n\r\nEmail|Name\r\n", "|", ("Email", "Name"), 2),  # a BOM, a blank line after it
        (
            "sep=,,,\nEmail,Name\n",
            ",",
            ("Email", "Name"),
            1,
        ),  # padded with delimiters, as some tools write it
        ("sep=\t\nEmail\tName\n", "\t", ("Email", "Name"), 1),
        ("Email;Name\nsep=,\n", ";", ("Email", "Name"), 0),  # only a first line names the delimiter
    ],
)
def test_excels_sep_line_is_skipped_and_names_the_delimiter(
    tmp_path: Path, text: str, delimiter: str, columns: tuple[str, ...], skip: int
) -> None:
    path = tmp_path / "sep.csv"
    path.write_text(text, encoding="utf-8")
    layout = read_layout(path)
    assert (layout.delimiter, layout.columns, layout.skip) == (delimiter, columns, skip)


# (file text, the line each row starts on): blank lines above the header and between rows, quoted cells over
# lines (one with the delimiter and an empty line in it), all counted as the file's own lines.
_ROW_LINES = [
    ("email,name\nann@x.co,Ann\nANN@x.co,Zoë\n", [2, 3], "line 3: same email as line 2"),
    (
        "\n\nemail,name\n\nann@x.co,Ann\n\n\nbob@x.co,Zoë\n Ann@X.co ,Ann 2\n",
        [5, 8, 9],
        "line 9: same email as line 5",
    ),
    (
        'email,name\nann@x.co,"two\nlines"\n\nbob@x.co,"Zoë, over\n\nthree lines"\nANN@x.co,Ann\n',
        [2, 5, 8],
        "line 8: same email as line 2",
    ),
    (
        'email,name\nann@x.co,"two\nlines"\nbob@x.co,Zoë\nann@x.co,Ann\n',
        [2, 4, 5],
        "line 5: same email as line 2",
    ),
    # Lines of only spaces or tabs between rows are blank lines (were `invalid: line 3: one field missing`);
    # one inside a quoted cell is the cell's.
    ("email,name\nann@x.co,Ann\n   \nbob@x.co,Zoë\n\t \nANN@x.co,Ann 2\n", [2, 4, 6], "line 6: same email as line 2"),
    ('email,name\nann@x.co,"two\n   \nlines"\nbob@x.co,Zoë\nANN@x.co,Ann\n', [2, 5, 6], "line 6: same email as line 2"),
    ("email\nann@x.co\n  \nbob@x.co\nANN@x.co\n", [2, 4, 5], "line 5: same email as line 2"),  # one column
    # A header cell over lines is one cell (was the header `e`, then the rows one line early).
    ('"e\nmail",name\nann@x.co,Ann\nANN@x.co,Zoë\n', [3, 4], "line 4: same email as line 3"),
    ('email,"first\nname"\nann@x.co,Ann\nANN@x.co,Zoë\n', [3, 4], "line 4: same email as line 3"),
]  # fmt: skip


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
@pytest.mark.parametrize(("text", "lines", "reason"), _ROW_LINES)
@pytest.mark.parametrize("reader", _READERS)
def test_reasons_name_the_file_line_each_row_starts_on_whichever_reader_reads_it(
    tmp_path: Path, warehouse_path: Path, reader: str, newline: str, text: str, lines: list[int], reason: str
) -> None:
    """Was `row 2: same email as row 1` (positions in the warehouse copy) beside the reader's own `line 13:
    one field too many`: every reader gives `_source_row` the line the row starts on, and reasons name it."""
    path = _write(tmp_path / "dupes.csv", text, reader, newline=newline)
    _, examples, _ = _push_preview(path, warehouse_path)
    numbers = query(warehouse_path, "SELECT _source_row, _row_problem FROM ops.dupes ORDER BY rowid")
    assert [n for n, _ in numbers[: len(lines)]] == lines
    assert f"duplicate: {reason} (case and spaces ignored)" in examples
    if reader == "row-by-row-reader":  # the ragged last line: its own line, in both schemes
        last, problem = numbers[-1]
        assert len(numbers) == len(lines) + 1 and last == lines[-1] + 1
        assert problem.startswith(f"line {last}: ")


@pytest.mark.parametrize(
    ("text", "delimiter", "columns", "lines"),
    [
        ('"Email\nAddress";Name\na@x.co;Ann\n', ";", ("Email\nAddress", "Name"), 2),
        ('\n"e\r\nmail","Last\n\nName",x\r\na@x.co,B,1\r\n', ",", ("e\r\nmail", "Last\n\nName", "x"), 4),
        ('Email,Screen 5"\na@x.co,"x, y"\n', ",", ("Email", 'Screen 5"'), 1),  # a quote inside a cell: literal
        ('Email,"Name\na@x.co,Ann\n', ",", ("Email", "Name\n"), 1),  # never closed: the first line, as before
    ],
)  # fmt: skip
def test_a_quoted_header_cell_over_lines_is_one_cell_and_the_header_ends_on_its_last_line(
    tmp_path: Path, text: str, delimiter: str, columns: tuple[str, ...], lines: int
) -> None:
    """`"e<newline>mail",first_name` was read a line at a time: the header `e`, and "the header is on line 2
    (mail", first_name)"."""
    from tasks.csv_source import header_line

    path = tmp_path / "h.csv"
    path.write_bytes(text.encode())
    layout = read_layout(path)
    assert (layout.delimiter, layout.columns) == (delimiter, columns)
    assert header_line(layout) == layout.skip + lines


def test_a_header_cell_over_lines_named_like_an_email_column_is_the_email_column(
    tmp_path: Path, warehouse_path: Path
) -> None:
    path = tmp_path / "hdr.csv"
    path.write_text('"Email\nAddress",Name\na@x.co,Ann\nb@x.co,Bob\n')
    assert resolve_mapping(describe_source.fn(SourceSpec(str(path)))).email_column == "Email\nAddress"
    rows, refused, payloads = _push_preview(path, warehouse_path)
    assert (rows, refused) == (2, [])
    assert payloads == [
        {"email": "a@x.co", "custom_variables": {"name": "Ann"}},
        {"email": "b@x.co", "custom_variables": {"name": "Bob"}},
    ]


def test_the_lines_of_rows_come_from_the_blank_lines_between_them() -> None:
    from tasks.csv_source import row_lines

    assert row_lines(1, [], 3).to_list() == [2, 3, 4]
    assert row_lines(3, [4, 7, 8], 4).to_list() == [5, 6, 9, 10]
    assert row_lines(1, [5], 3).to_list() == [2, 3, 4]  # a blank line after the last row


def test_empty_lines_are_found_across_blocks_and_line_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tasks import csv_source

    path = tmp_path / "gaps.csv"
    path.write_bytes(b"\n\r\nemail\r\na@x.co\r\n\r\n\nb@x.co\n\n")
    for block in (1 << 24, 1, 2, 3):  # a line end, or an empty line, split between two reads
        monkeypatch.setattr(csv_source, "_SCAN_BLOCK", block)
        assert csv_source.blank_lines(path, 3) == [5, 6, 8]
        assert csv_source.blank_lines(path, 1) == [2, 5, 6, 8]
    assert csv_source.consecutive_rows(3, [5, 6, 8], 2) is False
    assert csv_source.consecutive_rows(3, [6], 2) is True  # after the last row
    assert csv_source.count_lines(path) == 8
    path.write_bytes(b"email\na@x.co")
    assert csv_source.count_lines(path) == 2
    path.write_bytes(b"email\ra@x.co\r\rb@x.co\r")  # old Mac line ends: the csv module counts them
    assert csv_source.blank_lines(path, 1) is None
