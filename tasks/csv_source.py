"""CSV files as people export them: any common encoding, ragged rows, one huge cell, line numbers.

A CSV is read in two ways with one result:

1. The fast path: DuckDB's reader with every option fixed (delimiter, quote, column names from our own
   reading of the header, UTF-8 only, strict), so its sniffer can never mistake the file's shape.
2. When the fast path refuses the file (a row with a field too many or too few, a line over
   `MAX_ROW_CHARS`, a stray quote) or the file is not UTF-8, Python's `csv` module reads it row by row
   (decoded with the detected codec, in its strict mode), keeps every good row and turns each bad line into
   a row with only its email and key and a `_row_problem` ("line 4: one field too many ..."), which the push
   reports as an `invalid` outcome. The rest of the file goes through.

A quote that opens a cell and is never closed would make the rest of the file one cell, and one closed only
lines later swallows the lines between: a row that runs over several lines inside a quoted cell and is then
not a good row (or the file ends inside the quote) stops the read with a one-line error naming the lines,
rather than losing them in one `invalid` row. So does one that is a good row but whose later lines read as
rows of their own (the header's number of fields, an `@` in the email column): two stray quotes a few
lines apart, which made the lines between part of one cell without a word. A cell that spans lines on
purpose (an address, notes) does not look like that, and is read as it is. DuckDB's reader cannot tell the
two apart, so when it reads a cell with a line break that also holds the delimiter (the lines a stray quote
swallows bring theirs; with one column, any line break), the csv module looks at the rows over several
lines (`no_swallowed_lines`), without reading the file into a table again. A quote inside an unquoted cell
(`Bob "the" Smith`) is read literally by both readers.

Blank lines: an empty line and a line of only spaces or tabs are no row, above the header or between rows
(`blank_line`); one inside a quoted cell is the cell's. DuckDB's reader skips empty lines only: a line of
spaces is a field too few for it (the row-by-row reader then reads the file), and in a file of one column a
row of blanks, which the extract leaves out like a line of only delimiters. The header is read as a CSV
record too (`first_record`): a quoted header cell over lines (`"Email<newline>Address"`) is one cell.

Line numbers: each row carries the file line it starts on (`_source_row`, which the push's reasons name, and
the `line N` of a `_row_problem`). The row-by-row reader knows it. For DuckDB's copy, a file with no cell over
lines has one row a line, so the empty lines DuckDB skipped, found in the file's bytes (`blank_lines`), give
every row's line (`row_lines`); a file with one is counted by the csv module (`record_lines`, or in the pass
of `no_swallowed_lines`), so both readers number a file alike.

Encodings: a BOM decides (UTF-8, UTF-16, UTF-32); valid UTF-8 is UTF-8; otherwise charset-normalizer
guesses among the Windows code pages Excel writes ("CSV (Comma delimited)" is the system's ANSI code page,
cp1252 in Western Europe and the Americas), preferring cp1252 whenever it fits, then among the East Asian
multi-byte ones.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import re
import string
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from ops_core.errors import OpsError
from ops_core.sql import quote_ident, quote_literal
from tasks.mapping import SOURCE_ROW

if TYPE_CHECKING:
    import polars as pl

MAX_ROW_CHARS = 1_000_000  # our choice: a longer row is not a lead; it is reported `invalid` by line number
FIELD_SIZE_LIMIT = 1 << 28  # the csv module's own limit (default 128 KiB) must not stop a file at one cell
CHUNK_ROWS = 20_000  # rows per batch handed to DuckDB by the row-by-row reader
_DELIMITERS = (",", ";", "\t", "|")
_SAMPLE_BYTES = 1 << 16  # bytes around the first non-UTF-8 byte that charset-normalizer looks at
# The code pages Excel on Windows writes a "CSV (Comma delimited)" file in, then the multi-byte ones.
_WINDOWS_CODE_PAGES = [
    "cp1252",
    "cp1250",
    "cp1251",
    "cp1253",
    "cp1254",
    "cp1255",
    "cp1256",
    "cp1257",
    "cp1258",
]
_MULTI_BYTE = ["cp932", "gb18030", "big5", "cp949"]
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: its BOM starts with the UTF-16 LE one
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# DuckDB's identifiers are case-insensitive in ASCII letters only ("Notes" is "notes"; "É" is not "é").
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


@dataclass(frozen=True)
class CsvLayout:
    """How to read one CSV file: its codec, delimiter, column names (in file order), the lines above the
    header (blank ones, and Excel's `sep=;` line: the header is the first other line) and the header's own
    lines (more than one when a quoted header cell spans lines)."""

    encoding: str
    delimiter: str
    columns: tuple[str, ...]
    skip: int = 0
    header_lines: int = 1

    @property
    def utf8(self) -> bool:
        return self.encoding in ("utf-8", "utf-8-sig")


def _open_binary(path: Path) -> gzip.GzipFile | io.BufferedReader:
    return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else path.open("rb")


def detect_encoding(path: Path, chunk: int = 1 << 20) -> str:
    """The codec of a text file: `utf-8-sig`/`utf-16`/`utf-32` from a BOM, `utf-8`, else a guess.

    Raises:
        OpsError: the bytes are not text in any encoding we know (names what was tried).
    """
    with _open_binary(path) as fh:
        head = fh.read(8)
        if head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
            raise OpsError(
                f"Cannot read {path.name}: it is an Excel workbook (or another zip file), not a CSV.",
                hint="give it its .xlsx/.xls name, or save it as 'CSV UTF-8' from Excel",
            )
        for bom, name in _BOMS:
            if head.startswith(bom):
                return name
        fh.seek(0)
        # NUL bytes are valid UTF-8, so UTF-16 without a BOM (mostly ASCII: a NUL in every other byte) would
        # pass the check below as UTF-8 and fail later in the reader: look for it first.
        sample = fh.read(_SAMPLE_BYTES)
        if b"\x00" in sample:
            utf16 = _utf16_without_bom(sample)
            if utf16:
                return utf16
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        offset = 0
        try:
            while block := fh.read(chunk):
                decoder.decode(block)
                offset += len(block)
            decoder.decode(b"", final=True)
            return "utf-8"
        except UnicodeDecodeError as exc:
            bad_at = offset + exc.start
        fh.seek(max(0, bad_at - _SAMPLE_BYTES // 2))
        sample = fh.read(_SAMPLE_BYTES)
    return _guess_legacy_encoding(path, sample, bad_at)


def _guess_legacy_encoding(path: Path, sample: bytes, bad_at: int) -> str:
    from charset_normalizer import from_bytes

    if b"\x00" in sample:
        utf16 = _utf16_without_bom(sample)
        if utf16:
            return utf16
        raise _undecodable(path, bad_at, "it holds NUL bytes (a binary file, or UTF-16 without a BOM?)")
    for candidates in (_WINDOWS_CODE_PAGES, _MULTI_BYTE):
        matches = list(from_bytes(sample, cp_isolation=candidates))
        if any("cp1252" in m.could_be_from_charset for m in matches):
            return "cp1252"
        if matches:
            return str(matches[0].encoding)
    raise _undecodable(path, bad_at, "no Windows code page or East Asian encoding fits it either")


def _utf16_without_bom(sample: bytes) -> str | None:
    """`utf-16-le`/`utf-16-be` when the sample reads as mostly-ASCII UTF-16 (a NUL in every other byte)."""
    sample = sample[: len(sample) // 2 * 2]
    pairs = len(sample) // 2
    if not pairs:
        return None
    for name, nul_side in (("utf-16-le", 1), ("utf-16-be", 0)):
        if sample[nul_side::2].count(0) >= 0.6 * pairs and sample[1 - nul_side :: 2].count(0) == 0:
            try:
                sample.decode(name)
            except UnicodeDecodeError:
                continue
            return name
    return None


def _undecodable(path: Path, offset: int, why: str) -> OpsError:
    return OpsError(
        f"Cannot read {path.name}: byte {offset:,} is not UTF-8 and {why}.",
        hint="save the file as UTF-8 (Excel: 'CSV UTF-8 (Comma delimited)')",
    )


def open_text(path: Path, encoding: str) -> IO[str]:
    """The file as text in `encoding`, with universal newlines left to the csv module."""
    if path.name.lower().endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding=encoding, newline="")
    return path.open(encoding=encoding, newline="")


def sniff_delimiter(header_line: str) -> str:
    """The delimiter of a header line: the most frequent of , ; TAB | outside quotes (ties: comma)."""
    counts = dict.fromkeys(_DELIMITERS, 0)
    quoted = False
    for char in header_line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(_DELIMITERS, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def column_names(header: Sequence[str]) -> tuple[str, ...]:
    """Header cells as unique column names, as DuckDB names them: a blank cell is `column<i>` (0-based),
    a name repeated in any case gets `_1`, `_2` ... (so names stay what earlier versions stored). The one
    rule for every source's column names (tasks/extract.py applies it to sheets and Postgres too): DuckDB
    identifiers ignore case, so "Notes" and "notes" would be one column to it."""
    out: list[str] = []
    taken: set[str] = set()
    for i, cell in enumerate(header):
        name = cell if cell.strip() else f"column{i}"
        candidate, n = name, 0
        while candidate.translate(_ASCII_LOWER) in taken:
            n += 1
            candidate = f"{name}_{n}"
        taken.add(candidate.translate(_ASCII_LOWER))
        out.append(candidate)
    return tuple(out)


def first_lines(path: Path, count: int) -> list[tuple[int, list[str]]]:
    """Of the records that start on the file's first `count` lines, those that are not blank, as (line number,
    1-based, the record starts on; cells), each split with the delimiter it shows itself (a title line above
    the header shows none); a quoted cell over lines is one cell (`first_record`). A line that does not decode
    ends the list.
    """
    encoding = detect_encoding(path)
    lines: list[str] = []
    with open_text(path, encoding) as text:
        try:
            for line in text:
                lines.append(line)
                if len(lines) >= count + HEADER_MAX_LINES:
                    break
        except UnicodeDecodeError:
            pass
    out: list[tuple[int, list[str]]] = []
    at = 0
    while at < min(count, len(lines)):
        if not lines[at].strip():
            at += 1
            continue
        taken, cells, _ = first_record(lines[at : at + HEADER_MAX_LINES])
        out.append((at + 1, cells))
        at += taken
    return out


HEADER_MAX_LINES = 10  # our choice: a quote in a header line not closed within this many lines is stray


def first_record(lines: Sequence[str], delimiter: str | None = None) -> tuple[int, list[str], str]:
    """The CSV record that starts at `lines[0]` (a header, or a title line above it), read without knowing the
    delimiter yet: (how many of `lines` it takes, its cells, its delimiter: `delimiter`, else the one it shows).

    A quote `lines[0]` leaves open makes the record run on to the line that closes it (`"Email<newline>
    Address",Name`: one cell); when no line does, or the csv module reads those lines otherwise (a quote
    inside an unquoted cell, `Screen 5"`, is a literal quote), the record is `lines[0]` alone, as before (pure).
    """
    end = 1
    while end < len(lines) and "".join(lines[:end]).count('"') % 2:
        end += 1
    if end > 1:
        chosen = delimiter or sniff_delimiter("".join(lines[:end]))
        reader = csv.reader(lines[:end], delimiter=chosen, quotechar='"', doublequote=True, strict=True)
        try:
            cells = next(reader, [])
            if reader.line_num == end:
                return end, cells, chosen
        except csv.Error:
            pass
    chosen = delimiter or sniff_delimiter(lines[0])
    return 1, next(csv.reader([lines[0]], delimiter=chosen), []), chosen


# Excel's delimiter line: a first line `sep=;` tells Excel the delimiter, and Excel exports in some locales
# (and tools that write for them) start with it. It is not the header: the header is the line after it.
_SEP_LINE = re.compile(r"^\ufeff?sep=(.)\1*\s*$", re.IGNORECASE)


def _sep_line(line: str) -> str | None:
    """The delimiter an Excel `sep=X` line names, or None for any other line (pure)."""
    match = _SEP_LINE.match(line.rstrip("\r\n"))
    return match[1] if match else None


def read_layout(path: Path) -> CsvLayout:
    """Encoding, delimiter and column names of a CSV file (reads the header only, after the encoding scan).

    Raises:
        OpsError: undecodable bytes, or a file with no header.
    """
    encoding = detect_encoding(path)
    skip = 0
    named: str | None = None
    with open_text(path, encoding) as text:
        try:
            first_line = text.readline()
            while first_line and (not first_line.strip() or (named is None and _sep_line(first_line))):
                named = named or _sep_line(first_line)
                skip += 1
                first_line = text.readline()
        except UnicodeDecodeError as exc:
            raise _decode_error(path, encoding, exc, 1) from None
        lines = [first_line]
        try:  # a quoted header cell over lines: `first_record` reads them as one cell
            while (
                len(lines) < HEADER_MAX_LINES and "".join(lines).count('"') % 2 and (line := text.readline())
            ):
                lines.append(line)
        except UnicodeDecodeError:
            pass  # the header is its first lines; the reader names the line that does not decode
    taken, header, delimiter = first_record(lines, named)
    if not any(cell.strip() for cell in header):
        return CsvLayout(encoding, delimiter, ())
    return CsvLayout(encoding, delimiter, column_names(header), skip, taken)


def _decode_error(path: Path, encoding: str, exc: UnicodeDecodeError, line: int) -> OpsError:
    byte = exc.object[exc.start : exc.start + 1].hex() if isinstance(exc.object, bytes) else "?"
    line = max(line, _line_of_first_bad_byte(path, encoding))
    return OpsError(
        f"Cannot read {path.name} as {encoding}: byte 0x{byte} near line {line:,} is not valid {encoding}.",
        hint="save the file as UTF-8 (Excel: 'CSV UTF-8 (Comma delimited)')",
    )


def _line_of_first_bad_byte(path: Path, encoding: str) -> int:
    """The line (1-based) holding the first byte that does not decode (text readers decode ahead)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    lines = 1
    with _open_binary(path) as fh:
        while block := fh.read(1 << 20):
            try:
                lines += decoder.decode(block).count("\n")
            except UnicodeDecodeError as exc:
                good = block[: max(0, exc.start)]
                return lines + codecs.decode(good, encoding, errors="ignore").count("\n")
    return lines


def duckdb_read_csv(path: Path, layout: CsvLayout) -> str:
    """A DuckDB `read_csv(...)` with every option fixed (no sniffing): the fast path for UTF-8 files."""
    columns = ", ".join(f"{quote_literal(c)}: 'VARCHAR'" for c in layout.columns)
    # skip: the blank lines above the header; DuckDB takes the first line for the header, blank or not.
    return (
        f"read_csv({quote_literal(str(path))}, header = true, skip = {layout.skip}, auto_detect = false, "
        f"columns = {{{columns}}}, delim = {quote_literal(layout.delimiter)}, quote = '\"', escape = '\"', "
        f"strict_mode = true, null_padding = false, max_line_size = {MAX_ROW_CHARS}, encoding = 'utf-8')"
    )


def spanning_cells_sql(layout: CsvLayout) -> str:
    """A SQL condition, over a table of the layout's columns read by `duckdb_read_csv`, true for a row that
    two stray quotes may have merged lines into: a cell holding a line break and the delimiter (with one
    column, a line break). False for every row: no line of the file was swallowed into another's cell."""
    breaks = "(contains({c}, chr(10)) OR contains({c}, chr(13)))"
    if len(layout.columns) > 1:
        breaks += f" AND contains({{c}}, {quote_literal(layout.delimiter)})"
    return " OR ".join(breaks.format(c=quote_ident(c)) for c in layout.columns)


def header_line(layout: CsvLayout) -> int:
    """The file line (1-based) the header ends on (rows start on the next one): its first line is the first
    after the blank lines and `sep=` line above it, and a quoted header cell over lines takes more."""
    return layout.skip + layout.header_lines


def blank_lines(path: Path, after: int) -> list[int] | None:
    """The empty lines (1-based) after line `after`, which the DuckDB reader skips, found in the bytes of a
    UTF-8 file without reading it as rows (byte searches over 16 MB blocks: a few hundredths of a second a
    million lines). Every empty line counts, also one inside a quoted cell: for a file with no cell over lines.

    Returns:
        None for a file with a carriage return that ends no line feed (a lone CR, which the csv module takes
        for a line end and this scan does not): `record_lines` counts its lines.
    """
    found: list[int] = []
    ends = 0  # line feeds before data[0]
    carry = b""
    with _open_binary(path) as fh:
        while True:
            block = fh.read(_SCAN_BLOCK)
            data = carry + block
            # Empty lines before the last line feed are decided; the next block may carry the one after it.
            cut = len(data) if not block else data.rfind(b"\n")
            if cut < 0:
                carry = data
                continue
            if data.count(b"\r", 0, cut + 1) != data.count(b"\r\n", 0, cut + 1):
                return None
            pos, count = 0, ends
            for at in _empty_next(data, cut):
                count += data.count(b"\n", pos, at + 1)
                pos = at + 1
                if count + 1 > after:
                    found.append(count + 1)
            ends += data.count(b"\n", 0, cut)
            carry = data[cut:]
            if not block:
                return found


_SCAN_BLOCK = 1 << 24  # bytes read at a time by `blank_lines` and `count_lines`


def count_lines(path: Path) -> int:
    """The file's lines: its line feeds, and a last line without one (one byte count a block: about 0.1 s
    for a 100 MB file, most of it reading)."""
    lines, last = 0, b"\n"
    with _open_binary(path) as fh:
        while block := fh.read(_SCAN_BLOCK):
            lines += block.count(b"\n")
            last = block[-1:]
    return lines + (last != b"\n")


def _empty_next(data: bytes, cut: int) -> list[int]:
    """The offsets below `cut` of the line feeds whose next line is empty (pure; one search of the block for
    each line end when it has none, as nearly every file)."""
    found = []
    for pattern in (b"\n\n", b"\n\r\n"):
        at = data.find(pattern)
        while 0 <= at < cut:
            found.append(at)
            at = data.find(pattern, at + 1)
    return sorted(found)


def consecutive_rows(header: int, blanks: Sequence[int], rows: int) -> bool:
    """Whether the `rows` rows are on the lines right after the `header` line, one a line: no empty line
    among them (one after the last row does not count) (pure)."""
    return all(b - header - 1 - j >= rows for j, b in enumerate(sorted(blanks)))


def row_lines(header: int, blanks: Sequence[int], rows: int) -> pl.Series:
    """The line each of `rows` rows starts on, for a file whose rows are one line each and whose lines after
    the `header` line are rows except the empty `blanks` (pure, columnar: no loop over rows).

    Row k (0-based) is on line header + 1 + k + (the blank lines before it); the j-th blank line (0-based)
    comes after `blanks[j] - header - 1 - j` rows.
    """
    import polars as pl

    position = pl.int_range(0, rows, dtype=pl.Int64, eager=True)
    after_rows = pl.Series([b - header - 1 - j for j, b in enumerate(sorted(blanks))], dtype=pl.Int64)
    before = after_rows.search_sorted(position, side="right") if len(after_rows) else 0
    return (position + header + 1 + before).alias(SOURCE_ROW)


def record_lines(path: Path, layout: CsvLayout) -> pl.Series | None:
    """The line each row starts on, read with the csv module as `read_rows` reads the file (for a file with
    a cell over lines, whose row lines only a reader of quotes knows), or None when the csv module refuses a
    line (`read_rows` then reads the file, and says why)."""
    import polars as pl

    csv.field_size_limit(max(csv.field_size_limit(), FIELD_SIZE_LIMIT))
    starts: list[int] = []
    with open_text(path, layout.encoding) as text:
        reader = csv.reader(text, delimiter=layout.delimiter, quotechar='"', doublequote=True, strict=True)
        previous_end = 0
        header_seen = False
        try:
            for record in reader:
                start, previous_end = previous_end + 1, reader.line_num
                if not record:  # an empty line, which DuckDB skips (a line of spaces is a row to it)
                    continue
                if not header_seen:  # the header, or a line of spaces above it
                    header_seen = previous_end > layout.skip
                    continue
                starts.append(start)
        except (csv.Error, UnicodeDecodeError):
            return None
    return pl.Series(SOURCE_ROW, starts, dtype=pl.Int64)


def row_problem(fields: int, expected: int, chars: int) -> str | None:
    """Why a parsed CSV record cannot be a row (pure), or None."""
    if chars > MAX_ROW_CHARS:
        return f"the row is {chars:,} characters long (at most {MAX_ROW_CHARS:,})"
    if fields > expected:
        extra = "one field too many" if fields == expected + 1 else f"{fields - expected} fields too many"
        return f"{extra} ({fields} where the header has {expected}): is a comma inside a value not quoted?"
    if fields < expected:
        missing = "one field missing" if fields == expected - 1 else f"{expected - fields} fields missing"
        return f"{missing} ({fields} where the header has {expected})"
    return None


def read_rows(
    path: Path, layout: CsvLayout, keep_on_error: Sequence[str], *, email_column: str | None = None
) -> Iterator[list[tuple[str | int | None, ...]]]:
    """Chunks of rows (column values in layout order, then `_row_problem`, then the line the row starts on),
    every record of the file.

    A record that cannot be a row keeps only the columns in `keep_on_error` (the email and key columns),
    so the push can name it, and gets `"line N: why"`. Blank lines are skipped, empty cells are None.

    Raises:
        OpsError: bytes that do not decode in the layout's encoding (names the encoding and the line); a
            stray quote that swallowed lines (see the module: a quote never closed, a row over several lines
            that is not a good row or whose later lines look like rows of their own, with `@` in
            `email_column`), naming the lines.
    """
    csv.field_size_limit(max(csv.field_size_limit(), FIELD_SIZE_LIMIT))
    expected = len(layout.columns)
    keep = [layout.columns.index(c) for c in keep_on_error if c in layout.columns]
    email = layout.columns.index(email_column) if email_column in layout.columns else None
    chunk: list[tuple[str | int | None, ...]] = []
    with open_text(path, layout.encoding) as text:
        lines = _LastLine(text)
        # strict: the csv module's lenient mode ends a file inside a quoted cell without a word, and drops
        # the quotes of `"Acme" Inc`; strict mode raises both, and the reader goes on at the next line.
        reader = csv.reader(lines, delimiter=layout.delimiter, quotechar='"', doublequote=True, strict=True)
        previous_end = 0
        header_seen = False
        try:
            while True:
                start = previous_end + 1
                lines.taken.clear()
                try:
                    record: list[str] | None = next(reader)
                    problem = None
                except StopIteration:
                    break
                except csv.Error as exc:
                    record, problem = None, _csv_problem(exc)
                    if start < reader.line_num or problem == _QUOTE_NEVER_CLOSED:
                        raise _quote_error(path, start, reader.line_num, problem) from None
                previous_end = reader.line_num
                if record is not None and blank_line(record, lines.taken):
                    continue
                if not header_seen:  # the header
                    header_seen = previous_end > layout.skip
                    continue
                if record is not None:
                    problem = row_problem(len(record), expected, sum(len(v) for v in record))
                    if problem is None:
                        if start < previous_end:  # a quoted cell ran over lines: on purpose, or stray quotes?
                            own = _rows_of_their_own(lines.taken, layout.delimiter, expected, email)
                            if own:
                                raise _quote_error(path, start, previous_end, _looks_like_rows(start, own))
                        chunk.append((*[v if v != "" else None for v in record], None, start))
                    elif start < previous_end:  # a quoted cell ran over lines and the row is not one
                        raise _quote_error(path, start, previous_end, problem)
                if problem is not None:
                    if record is None:  # the csv module stopped inside the line: read it leniently
                        record = next(csv.reader([lines.last], delimiter=layout.delimiter), [])
                    values: list[str | None] = [None] * expected
                    for i in keep:
                        if i < len(record) and len(record[i]) <= MAX_ROW_CHARS // 10:
                            values[i] = record[i] or None
                    chunk.append((*values, f"line {start:,}: {problem}", start))
                if len(chunk) >= CHUNK_ROWS:
                    yield chunk
                    chunk = []
        except UnicodeDecodeError as exc:
            raise _decode_error(path, layout.encoding, exc, previous_end + 1) from None
    if chunk:
        yield chunk


def no_swallowed_lines(
    path: Path, layout: CsvLayout, email_column: str | None, starts: list[int] | None = None
) -> bool:
    """For a file DuckDB's reader read whole, with a cell that spans lines (`spanning_cells_sql`): look at
    each row that spans lines with the csv module, without reading the rows into a table.

    Args:
        starts: when given, gets the line each row starts on (`record_lines`), in the same pass.

    Returns:
        True when every such row spans lines on purpose (DuckDB's copy stands); False when the csv module
        reads the file otherwise than DuckDB did (`read_rows` then reads it and says why, line by line).

    Raises:
        OpsError: a row whose later lines look like rows of their own (two stray quotes), naming the
            lines, as `read_rows` does.
    """
    csv.field_size_limit(max(csv.field_size_limit(), FIELD_SIZE_LIMIT))
    expected = len(layout.columns)
    email = layout.columns.index(email_column) if email_column in layout.columns else None
    with open_text(path, layout.encoding) as text:
        lines = _LastLine(text)
        reader = csv.reader(lines, delimiter=layout.delimiter, quotechar='"', doublequote=True, strict=True)
        previous_end = 0
        header_seen = False
        try:
            while True:
                start = previous_end + 1
                lines.taken.clear()
                try:
                    record = next(reader)
                except StopIteration:
                    return True
                previous_end = reader.line_num
                if not record or not header_seen:  # a blank line; the header, or a line of spaces above it
                    header_seen = header_seen or previous_end > layout.skip
                    continue
                if starts is not None:
                    starts.append(start)
                if start == previous_end:
                    continue
                if row_problem(len(record), expected, sum(len(v) for v in record)) is not None:
                    return False
                own = _rows_of_their_own(lines.taken, layout.delimiter, expected, email)
                if own:
                    raise _quote_error(path, start, previous_end, _looks_like_rows(start, own))
        except (csv.Error, UnicodeDecodeError):
            return False


def blank_line(record: Sequence[str], lines: Sequence[str]) -> bool:
    """Whether a record the csv module read from `lines` is a blank line, not a row (pure): an empty line, or
    one of only spaces and tabs (which the csv module reads as a one-cell record, a row with fields missing).
    A line of spaces inside a quoted cell is the cell's: its record spans lines."""
    return not record or (len(lines) == 1 and not lines[0].strip())


_QUOTE_NEVER_CLOSED = "the file ends inside a quoted cell"


def _csv_problem(exc: csv.Error) -> str:
    """What the csv module's strict mode says, in our words (its messages are for programmers)."""
    message = str(exc)
    if message == "unexpected end of data":
        return _QUOTE_NEVER_CLOSED
    if "expected after" in message:  # "',' expected after '\"'": `"Acme" Inc`
        return "a quoted cell has text after its closing quote"
    return message


class _LastLine:
    """The lines of a text file, remembering the last one handed out (to read a refused line leniently) and
    the first `_TAKEN_LINES` handed out since `taken` was last cleared (the lines of one record)."""

    def __init__(self, text: IO[str]) -> None:
        self._text = text
        self.last = ""
        self.taken: list[str] = []

    def __iter__(self) -> _LastLine:
        return self

    def __next__(self) -> str:
        self.last = next(self._text)
        if len(self.taken) < _TAKEN_LINES:
            self.taken.append(self.last)
        return self.last


_TAKEN_LINES = 1_000  # lines of one record looked at for rows of their own (a longer span: its first ones)


def _rows_of_their_own(lines: Sequence[str], delimiter: str, expected: int, email: int | None) -> list[int]:
    """The offsets (1 = the record's second line) of the lines after a record's first that read, each on
    its own line, as a row: the header's number of fields, and an `@` in the email column when there is
    one (pure). A cell that spans lines on purpose has none; lines a stray quote swallowed are such rows."""
    found = []
    for offset, line in enumerate(lines[1:], 1):
        cells = next(csv.reader([line], delimiter=delimiter), [])  # alone: a quote in it opens no span
        if len(cells) == expected and (email is None or "@" in cells[email]):
            found.append(offset)
    return found


def _looks_like_rows(start: int, offsets: Sequence[int]) -> str:
    """`line 12 looks like a row of its own`, `lines 12-15 look like rows of their own` (pure)."""
    first, last = start + offsets[0], start + offsets[-1]
    if len(offsets) == 1:
        return f"line {first:,} looks like a row of its own"
    if last - first + 1 == len(offsets):
        return f"lines {first:,}-{last:,} look like rows of their own"
    return f"{len(offsets):,} of its lines look like rows of their own, the first line {first:,}"


def _quote_error(path: Path, start: int, end: int, problem: str) -> OpsError:
    """A row that runs from line `start` to `end` inside a quoted cell and is then not a row, or a file that
    ends inside a quoted cell: a stray quote that swallowed the lines after it. Refused whole, so no line
    is lost inside one `invalid` row."""
    if problem == _QUOTE_NEVER_CLOSED:
        what = (
            f"is never closed: lines {start:,}-{end:,} would be one cell"
            if end > start
            else "is never closed"
        )
    else:
        problem = problem.split(": ")[0]  # its advice is for a line of its own
        what = f"closes on line {end:,}, and lines {start:,}-{end:,} read as one row: {problem}"
    return OpsError(
        f"Cannot read {path.name}: the quote that opens a cell on line {start:,} {what}. Is that quote stray?",
        hint='remove it, or write a quote inside a quoted cell as two: ""',
    )
