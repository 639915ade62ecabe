"""Column mapping and value coercion: pure table tests."""

from __future__ import annotations

import datetime as dt
import decimal
import re
import sys
import unicodedata
import uuid
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ops_core.errors import OpsError
from ops_core.interface import cli_interface
from tasks.mapping import (
    MappingOverrides,
    build_lead,
    coerce_scalar,
    coerce_text,
    custom_variable_name,
    detect_fields,
    holds_already,
    load_mapping_file,
    normalise_email,
    parse_overrides,
    patch_body,
    payload_hash,
    resolve_mapping,
    unique_names,
)

PROPERTY = settings(max_examples=400, deadline=None, derandomize=True)


def _nfkd_ascii(text: str) -> str:
    """What the names were made of before transliteration: NFKD, then only the ASCII left."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


# Text that names a column without transliteration: ASCII, what NFKD folds to ASCII (accents, ligatures,
# full-width forms, ™) and the symbols it drops (emoji, dashes, combining marks); not the letters and digits
# it drops. A third of each, from the assigned code points.
_ASSIGNED = [
    c for c in map(chr, range(0x80, sys.maxunicode + 1)) if unicodedata.category(c) not in ("Cn", "Cs", "Co")
]
FOLDED_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(min_codepoint=0x20, max_codepoint=0x7E),
        st.sampled_from([c for c in _ASSIGNED if _nfkd_ascii(c)]),
        st.sampled_from([c for c in _ASSIGNED if not _nfkd_ascii(c) and not c.isalnum()]),
    ),
    max_size=24,
)


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        (["email"], {"email": "email"}),
        (["E-mail"], {"email": "E-mail"}),
        (["Email Address", "First Name", "LastName"], {"email": "Email Address", "first_name": "First Name",
                                                        "last_name": "LastName"}),
        (["e_mail", "firstname", "surname", "Organization"],
         {"email": "e_mail", "first_name": "firstname", "last_name": "surname",
          "company_name": "Organization"}),
        (["EMAIL", "company_name", "Job Title", "Phone Number", "Website", "Personalization"],
         {"email": "EMAIL", "company_name": "company_name", "job_title": "Job Title", "phone": "Phone Number",
          "website": "Website", "personalization": "Personalization"}),
        # "email" beats "work email" (earlier synonym), whatever the column order
        (["Work Email", "Email"], {"email": "Email"}),
        (["Company", "Company Name"], {"company_name": "Company Name"}),
        (["notes", "city"], {}),
        # other languages (accents and case do not matter)
        (["E-Mail", "Vorname", "Nachname", "Firma", "Position", "Telefon", "Webseite"],
         {"email": "E-Mail", "first_name": "Vorname", "last_name": "Nachname", "company_name": "Firma",
          "job_title": "Position", "phone": "Telefon", "website": "Webseite"}),
        (["Courriel", "Prénom", "Nom", "Société", "Poste", "Téléphone", "Site web"],
         {"email": "Courriel", "first_name": "Prénom", "last_name": "Nom", "company_name": "Société",
          "job_title": "Poste", "phone": "Téléphone", "website": "Site web"}),
        (["Correo electrónico", "Nombre", "Apellido", "Empresa", "Cargo", "Teléfono", "Sitio web"],
         {"email": "Correo electrónico", "first_name": "Nombre", "last_name": "Apellido",
          "company_name": "Empresa", "job_title": "Cargo", "phone": "Teléfono", "website": "Sitio web"}),
        (["Nome", "Cognome", "Azienda", "Email"],
         {"email": "Email", "first_name": "Nome", "last_name": "Cognome", "company_name": "Azienda"}),
        # letters without an ASCII fold are not transliterated for matching: a bilingual header still matches
        (["Email / Почта", "Имя"], {"email": "Email / Почта"}),
        # Google Contacts: the value columns, never the label columns
        (["First Name", "Last Name", "E-mail 1 - Label", "E-mail 1 - Value", "Phone 1 - Label",
          "Phone 1 - Value", "Organization Name", "Organization Title", "Website 1 - Value"],
         {"email": "E-mail 1 - Value", "first_name": "First Name", "last_name": "Last Name",
          "company_name": "Organization Name", "job_title": "Organization Title", "phone": "Phone 1 - Value",
          "website": "Website 1 - Value"}),
        # HubSpot contacts export
        (["Record ID", "First Name", "Last Name", "Email", "Phone Number", "Job Title", "Associated Company",
          "Website URL"],
         {"email": "Email", "first_name": "First Name", "last_name": "Last Name",
          "company_name": "Associated Company", "job_title": "Job Title", "phone": "Phone Number",
          "website": "Website URL"}),
        # Apollo export: "Company" beats "Company Name for Emails", "Mobile Phone" the direct line
        (["First Name", "Last Name", "Title", "Company", "Company Name for Emails", "Email", "Email Status",
          "Work Direct Phone", "Mobile Phone", "Website", "Person Linkedin Url"],
         {"email": "Email", "first_name": "First Name", "last_name": "Last Name", "company_name": "Company",
          "job_title": "Title", "phone": "Mobile Phone", "website": "Website"}),
    ],
)  # fmt: skip
def test_detect_fields_matches_common_header_spellings(columns: list[str], expected: dict[str, str]) -> None:
    assert detect_fields(columns) == expected


@pytest.mark.parametrize(
    ("column", "name"),
    [
        ("Signup Date", "signup_date"),
        ("Signup Date (UTC)", "signup_date_utc"),
        ("signupDate", "signup_date"),
        ("Café crème", "cafe_creme"),
        ("2024 revenue", "c_2024_revenue"),
        ("   ", "column"),
        ("___x___", "x"),
        ("a" * 100, "a" * 64),
        ("Téléphone portable", "telephone_portable"),
        ("📧 Notes", "notes"),  # symbols without an ASCII fold are still dropped
        # letters without an ASCII fold are transliterated (anyascii), not dropped
        ("Größe/Size", "grosse_size"),
        ("Straße", "strasse"),
        ("Ærø", "aero"),
        ("Œuvre", "oeuvre"),
        ("Город", "gorod"),
        ("Компания", "kompaniya"),
        ("名前", "mingqian"),
        ("ЧАСТОТА", "chastota"),  # one word in capitals, not ch_astota
        ("ЖаннаКим", "zhanna_kim"),  # camelCase in any script
        ("名前ID", "mingqian_id"),
        ("Клиенты 2024", "klienty_2024"),
    ],
)
def test_custom_variable_names_are_snake_case_ascii_identifiers(column: str, name: str) -> None:
    assert custom_variable_name(column) == name


@PROPERTY
@given(st.text(max_size=40))
def test_every_column_name_gives_a_lower_case_ascii_identifier(column: str) -> None:
    assert re.fullmatch(r"[a-z][a-z0-9_]{0,63}", custom_variable_name(column))


@PROPERTY
@given(FOLDED_TEXT)
def test_a_column_that_folds_to_ascii_keeps_the_name_it_had_before_transliteration(column: str) -> None:
    assert custom_variable_name(column) == custom_variable_name(_nfkd_ascii(column))


def test_unique_names_suffix_collisions_and_avoid_reserved_names() -> None:
    assert unique_names(["a", "a", "b", "a", "email"], reserved=["email"]) == [
        "a",
        "a_2",
        "b",
        "a_3",
        "email_2",
    ]


def test_resolve_mapping_puts_every_other_column_in_custom_variables_without_collisions() -> None:
    mapping = resolve_mapping(["Email", "First Name", "Signup Date", "signup_date", "Notes"])
    assert mapping.fields == {"email": "Email", "first_name": "First Name"}
    assert mapping.custom == {"signup_date": "Signup Date", "signup_date_2": "signup_date", "notes": "Notes"}


def test_resolve_mapping_transliterates_non_latin_headers_into_distinct_names() -> None:
    mapping = resolve_mapping(["Email", "Город", "Компания", "Größe", "Ærø", "名前", "Gorod"])
    assert mapping.custom == {
        "gorod": "Город",
        "kompaniya": "Компания",
        "grosse": "Größe",
        "aero": "Ærø",
        "mingqian": "名前",
        "gorod_2": "Gorod",
    }


def test_resolve_mapping_ignores_the_warehouse_bookkeeping_columns() -> None:
    mapping = resolve_mapping(["email", "x", "_row_key", "_loaded_at", "_run_id"])
    assert mapping.custom == {"x": "x"}


def test_resolve_mapping_without_an_email_column_is_a_one_line_error_with_a_hint() -> None:
    with pytest.raises(OpsError) as exc:
        resolve_mapping(["name", "company"])
    assert "No email column" in exc.value.message and "name, company" in exc.value.message
    assert "(the `mapping_file` parameter)" in (exc.value.hint or "")  # a flow run's form
    with pytest.raises(OpsError) as exc, cli_interface():
        resolve_mapping(["name", "company"])
    assert "(--mapping FILE)" in (exc.value.hint or "")


def test_overrides_force_rename_and_exclude_columns() -> None:
    overrides = MappingOverrides(
        fields={"email": "Contact", "company_name": None, "first_name": "Given"},
        rename={"Signup Date": "signed_up_on"},
        exclude=frozenset({"Secret"}),
    )
    mapping = resolve_mapping(["Email", "Contact", "Given", "Company", "Signup Date", "Secret"], overrides)
    assert mapping.fields == {"email": "Contact", "first_name": "Given"}
    assert mapping.custom == {"email_2": "Email", "company": "Company", "signed_up_on": "Signup Date"}
    assert mapping.excluded == ("Secret",)
    assert ("Secret", "(excluded)") in mapping.rows()


def test_loader_bookkeeping_columns_are_left_out_by_default() -> None:
    columns = ["email", "city", "_dlt_load_id", "_dlt_id", "_airbyte_extracted_at", "_airbyte_raw_id",
               "_fivetran_synced", "_fivetran_deleted", "_sdc_batched_at", "_sdc_sequence"]  # fmt: skip
    mapping = resolve_mapping(columns)
    assert mapping.custom == {"city": "city"}
    assert set(mapping.excluded) == set(columns[2:])
    assert ("_dlt_id", "(left out: loader bookkeeping column)") in mapping.rows()


def test_a_mapping_file_can_send_a_loader_column_after_all() -> None:
    overrides = parse_overrides(
        {"include": ["_fivetran_synced"], "rename": {"_dlt_id": "dlt_row"}}, origin="m.yaml"
    )
    mapping = resolve_mapping(["email", "_fivetran_synced", "_dlt_id", "_dlt_load_id"], overrides)
    assert mapping.custom == {"fivetran_synced": "_fivetran_synced", "dlt_row": "_dlt_id"}
    assert mapping.excluded == ("_dlt_load_id",)


def test_engagement_columns_written_back_by_sync_are_left_out_like_loader_columns() -> None:
    from tasks.writeback import PG_TYPES

    written_back = list(PG_TYPES)  # the columns `sync --write-back` adds to the Postgres source table
    mapping = resolve_mapping(["id", "email", "city", *written_back])
    assert mapping.custom == {"id": "id", "city": "city"}
    assert mapping.excluded == tuple(written_back)
    assert ("instantly_reply_count", "(left out: engagement column from sync --write-back)") in mapping.rows()
    # A mapping file can still send one, as it can a loader column.
    sent = resolve_mapping(["email", *written_back], parse_overrides({"include": ["instantly_status"]}))
    assert sent.custom == {"instantly_status": "instantly_status"}


def test_custom_variables_of_columns_empty_in_every_row_are_not_sent() -> None:
    mapping = resolve_mapping(["email", "first_name", "city", "fax"]).without_empty({"fax", "first_name"})
    assert mapping.custom == {"city": "city"}
    # blank lead fields are left out per row, not per column
    assert mapping.fields == {"email": "email", "first_name": "first_name"}
    assert ("fax", "(left out: empty in every row)") in mapping.rows()
    lead = build_lead({"email": "a@b.co", "first_name": None, "city": "Oslo", "fax": None}, mapping)
    assert lead == {"email": "a@b.co", "custom_variables": {"city": "Oslo"}}


@pytest.mark.parametrize(("cell", "expected"), [(" Ann@X.co\u200b", "ann@x.co"), (12.0, "12"), (None, None)])
def test_a_cells_email_key_is_its_text_under_the_one_email_rule(cell: object, expected: str | None) -> None:
    assert normalise_email(cell) == expected


def test_overrides_naming_a_missing_column_fail() -> None:
    with pytest.raises(OpsError, match="'Nope'"):
        resolve_mapping(["email"], MappingOverrides(exclude=frozenset({"Nope"})))


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ([1, 2], "must be an object"),
        ({"colums": {}}, "unknown key(s) colums"),
        ({"fields": {"emial": "x"}}, "unknown lead field(s) emial"),
        ({"fields": {"email": None}}, "cannot be null"),
        ({"fields": ["email"]}, "`fields` must map"),
        ({"rename": {"a": 1}}, "`rename` must map"),
        ({"exclude": "a"}, "`exclude` must be a list"),
        ({"include": {"a": 1}}, "`include` must be a list"),
    ],
)
def test_invalid_mapping_files_are_reported_in_one_line(data: object, problem: str) -> None:
    with pytest.raises(OpsError) as exc:
        parse_overrides(data, origin="m.yaml")
    assert problem in exc.value.message and "m.yaml" in exc.value.message


def test_rename_to_a_non_identifier_is_refused() -> None:
    with pytest.raises(OpsError, match="Invalid custom variable name"):
        resolve_mapping(["email", "x"], MappingOverrides(rename={"x": "Not OK"}))


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_mapping_files_load_from_yaml_or_json(tmp_path: Path, suffix: str) -> None:
    text = (
        "fields:\n  email: Contact\nrename:\n  Score: lead_score\nexclude: [Secret]\n"
        if suffix == ".yaml"
        else '{"fields": {"email": "Contact"}, "rename": {"Score": "lead_score"}, "exclude": ["Secret"]}'
    )
    path = tmp_path / f"mapping{suffix}"
    path.write_text(text)
    assert load_mapping_file(path) == MappingOverrides(
        fields={"email": "Contact"}, rename={"Score": "lead_score"}, exclude=frozenset({"Secret"})
    )


def test_a_mapping_file_that_is_not_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("fields: [unclosed\n  x: {")
    with pytest.raises(OpsError, match="not valid YAML or JSON at line"):
        load_mapping_file(path)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("  hi ", "hi"),
        ("   ", None),
        (3, 3),
        (2.5, 2.5),
        (float("nan"), None),
        (float("inf"), None),
        (True, True),
        (dt.date(2024, 3, 1), "2024-03-01"),
        (dt.datetime(2024, 3, 1, 12, 30, tzinfo=dt.UTC), "2024-03-01T12:30:00+00:00"),
        # in UTC whatever the zone it was read in (a TIMESTAMPTZ comes back in the machine's zone)
        (
            dt.datetime(2024, 3, 1, 14, 30, tzinfo=dt.timezone(dt.timedelta(hours=2))),
            "2024-03-01T12:30:00+00:00",
        ),
        (dt.datetime(2024, 3, 1), "2024-03-01T00:00:00"),  # a datetime keeps its time, midnight too
        (dt.time(9, 5), "09:05:00"),
        (decimal.Decimal("12.00"), 12),
        (decimal.Decimal("1.25"), 1.25),
        (uuid.UUID(int=1), "00000000-0000-0000-0000-000000000001"),
        (["a", "b"], '["a", "b"]'),
        ({"k": [1, dt.date(2024, 1, 2)]}, '{"k": [1, "2024-01-02"]}'),
        (b"\x01\xff", "01ff"),
        (dt.timedelta(minutes=2), 120.0),
        # Instantly parses JSON in JavaScript: integers beyond 2^53 - 1 would be rounded, so they go as text
        (2**53 - 1, 2**53 - 1),
        (-(2**53 - 1), -(2**53 - 1)),
        (2**53, "9007199254740992"),
        (-(2**53) - 5, "-9007199254740997"),
        (9223372036854775807, "9223372036854775807"),
        (decimal.Decimal("12345678901234567890"), "12345678901234567890"),
    ],
)
def test_custom_variable_values_are_coerced_to_scalars(value: object, expected: object) -> None:
    assert coerce_scalar(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"), [(None, None), (" Ann ", "Ann"), (12.0, "12"), (1.5, "1.5"), (False, "false")]
)
def test_lead_field_values_are_stripped_strings(value: object, expected: str | None) -> None:
    assert coerce_text(value) == expected


def test_build_lead_normalises_the_email_and_drops_blank_fields() -> None:
    mapping = resolve_mapping(["Email", "First Name", "Last Name", "Tags", "Joined"])
    row = {
        "Email": "  Ann@Example.COM ",
        "First Name": "Ann",
        "Last Name": " ",
        "Tags": ["x"],
        "Joined": None,
    }
    lead = build_lead(row, mapping)
    assert lead == {
        "email": "ann@example.com",
        "first_name": "Ann",
        "custom_variables": {"tags": '["x"]', "joined": None},
    }
    assert patch_body(lead, mapping) == {
        "first_name": "Ann",
        "last_name": None,
        "custom_variables": {"tags": '["x"]', "joined": None},
    }


def test_payload_hash_ignores_key_order_and_sees_every_value() -> None:
    a = {"email": "a@b.co", "custom_variables": {"x": 1, "y": "2"}}
    b = {"custom_variables": {"y": "2", "x": 1}, "email": "a@b.co"}
    assert payload_hash(a) == payload_hash(b)
    assert payload_hash(a) != payload_hash({**a, "first_name": "A"})


def test_the_documented_header_table_is_the_one_the_code_uses() -> None:
    import re

    from ops_instantly._paths import REPO_ROOT
    from tasks.mapping import LOADER_COLUMN_PREFIXES, SYNONYMS, WRITTEN_BACK_COLUMNS

    doc = (REPO_ROOT / "docs" / "lead-tables.md").read_text()
    for name, spellings in SYNONYMS.items():
        row = re.search(rf"^\| `{name}` \| (.*) \|$", doc, re.MULTILINE)
        assert row is not None, f"docs/lead-tables.md has no row for {name}"
        assert re.findall(r"`([a-z0-9]+)`", row.group(1)) == list(spellings), name
    for prefix in LOADER_COLUMN_PREFIXES:
        assert f"`{prefix}`" in doc
    for column in WRITTEN_BACK_COLUMNS:
        assert f"`{column}`" in doc


def test_a_patch_body_keeps_the_leads_other_custom_variables_under_ours() -> None:
    mapping = resolve_mapping(["email", "first_name", "city"])
    lead = {"email": "a@b.co", "first_name": "Ana", "custom_variables": {"city": "Bergen"}}
    current = {"firstName": "Ana", "email": "a@b.co", "city": "Oslo", "owner_note": "VIP", "n": 3, "x": None}
    body = patch_body(lead, mapping, current)
    assert body == {
        "first_name": "Ana",
        "custom_variables": {"owner_note": "VIP", "n": 3, "x": None, "city": "Bergen"},
    }
    assert patch_body(lead, mapping)["custom_variables"] == {"city": "Bergen"}


def test_holds_already_needs_equal_values_of_the_same_json_type() -> None:
    lead = {
        "first_name": "Ann",
        "company_name": None,
        "payload": {"firstName": "Ann", "score": 1, "vip": True},
    }
    assert holds_already(lead, {"first_name": "Ann", "company_name": None, "custom_variables": {"score": 1}})
    assert holds_already(lead, {"custom_variables": {"vip": True, "gone": None}})  # null matches absent
    assert not holds_already(lead, {"custom_variables": {"score": "1"}})
    assert not holds_already(lead, {"custom_variables": {"vip": 1}})
    assert not holds_already(lead, {"first_name": "Anne"})
    assert not holds_already(lead, {"company_name": "Acme"})
    assert not holds_already(lead, {"custom_variables": {"city": "Berlin"}})
