"""Column mapping and value coercion: pure table tests."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from pathlib import Path

import pytest

from ops_instantly.errors import OpsError
from tasks.mapping import (
    MappingOverrides,
    build_lead,
    coerce_scalar,
    coerce_text,
    custom_variable_name,
    detect_fields,
    load_mapping_file,
    parse_overrides,
    patch_body,
    payload_hash,
    resolve_mapping,
    unique_names,
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
        ("Größe/Size", "groe_size"),
    ],
)
def test_custom_variable_names_are_snake_case_ascii_identifiers(column: str, name: str) -> None:
    assert custom_variable_name(column) == name


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


def test_resolve_mapping_ignores_the_warehouse_bookkeeping_columns() -> None:
    mapping = resolve_mapping(["email", "x", "_row_key", "_loaded_at", "_run_id"])
    assert mapping.custom == {"x": "x"}


def test_resolve_mapping_without_an_email_column_is_a_one_line_error_with_a_hint() -> None:
    with pytest.raises(OpsError) as exc:
        resolve_mapping(["name", "company"])
    assert "No email column" in exc.value.message and "name, company" in exc.value.message
    assert "--mapping" in (exc.value.hint or "")


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
        (dt.time(9, 5), "09:05:00"),
        (decimal.Decimal("12.00"), 12),
        (decimal.Decimal("1.25"), 1.25),
        (uuid.UUID(int=1), "00000000-0000-0000-0000-000000000001"),
        (["a", "b"], '["a", "b"]'),
        ({"k": [1, dt.date(2024, 1, 2)]}, '{"k": [1, "2024-01-02"]}'),
        (b"\x01\xff", "01ff"),
        (dt.timedelta(minutes=2), 120.0),
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
