"""Row validation: pure table tests."""

from __future__ import annotations

import pytest

from tasks.validate import MAX_FIELD_LENGTH, MAX_LONG_TEXT, RowValidator, email_problem, length_problem


@pytest.mark.parametrize(
    ("email", "problem"),
    [
        ("ann@example.com", None),
        ("ann.lee+tag@mail.example.co.uk", None),
        ("o'brien@example.ie", None),
        ("x@xn--bcher-kva.example", None),
        (None, "missing email"),
        ("", "missing email"),
        ("ann.example.com", "no @"),
        ("@example.com", "nothing before the @"),
        ("ann@", "nothing after the @"),
        ("a@b@example.com", "more than one @"),
        ("ann@localhost", "the domain 'localhost' has no dot"),
        ("ann@example.c", "bad domain ending 'c'"),
        ("ann@-example.com", "bad domain part '-example'"),
        ("ann@exa mple.com", "contains a space"),
        ("an n@example.com", "contains a space"),
        ("ann..lee@example.com", "two dots in a row before the @"),
        ("ann@example..com", "has an empty part"),
        (".ann@example.com", "starts or ends with a dot"),
        ("ann,lee@example.com", "character ',' is not allowed before the @"),
        ("a" * 65 + "@example.com", "longer than 64 characters"),
        ("a@" + "b" * 250 + ".com", "longer than 254"),
        ("ann@example.123", "bad domain ending '123'"),
        # What Outlook, Gmail and Excel exports put in an email cell (was: "contains a space", "character ':'
        # is not allowed before the @", "more than one @"): the reason names the address to write.
        ("ann lee <ann@example.com>", "a name with the address: write the address alone, ann@example.com"),
        ('"lee, ann" <ann@example.com>', "write the address alone, ann@example.com"),
        (
            "mailto:ann@example.com",
            "a mailto: link (an Excel hyperlink?): write the address alone, ann@example.com",
        ),
        ("ann@example.com; bo@example.com", "several addresses in one cell: keep one"),
        ("ann@example.com,bo@example.com", "several addresses in one cell"),
        ("ann@example.com bo@example.com", "several addresses in one cell"),
        ("ann@müller.example", "the domain 'müller.example' is not ASCII: write it as xn--mller-kva.example"),
    ],
)
def test_email_problems_say_what_is_wrong(email: str | None, problem: str | None) -> None:
    found = email_problem(email)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found, found


@pytest.mark.parametrize(
    ("lead", "problem"),
    [
        ({"email": "a@b.co", "first_name": "x" * MAX_FIELD_LENGTH}, None),
        ({"email": "a@b.co", "first_name": "x" * (MAX_FIELD_LENGTH + 1)}, "first_name is 1,001 characters"),
        ({"email": "a@b.co", "personalization": "x" * MAX_LONG_TEXT}, None),
        (
            {"email": "a@b.co", "custom_variables": {"notes": "x" * (MAX_LONG_TEXT + 1)}},
            "custom variable notes",
        ),
        ({"email": "a@b.co", "custom_variables": {"n": 10**30}}, None),
    ],
)
def test_over_long_values_are_found(lead: dict[str, object], problem: str | None) -> None:
    found = length_problem(lead)
    assert (found is None) if problem is None else (found is not None and problem in found)


def test_duplicates_are_case_and_space_insensitive_and_the_first_row_wins() -> None:
    validator = RowValidator()
    rows = [
        {"email": "ann@example.com"},
        {"email": "bob@example.com"},
        {"email": "ann@example.com"},  # build_lead has already lower-cased and trimmed " ANN@Example.com "
        {},
        {"email": "nope"},
    ]
    verdicts = [validator.check(lead, lead.get("email"), n) for n, lead in enumerate(rows, start=1)]
    assert verdicts[0] is None and verdicts[1] is None
    assert verdicts[2] is not None and verdicts[2].outcome == "duplicate"
    assert verdicts[2].reason == "row 3: same email as row 1 (case and spaces ignored)"
    assert verdicts[3] is not None and (verdicts[3].outcome, verdicts[3].reason) == (
        "invalid",
        "row 4: missing email",
    )
    assert verdicts[4] is not None and verdicts[4].outcome == "invalid"
    assert validator.counts == {"valid": 2, "duplicate": 1, "invalid": 2}


def test_with_a_key_column_blank_and_repeated_keys_are_rejected() -> None:
    validator = RowValidator(key_given=True)
    assert validator.check({"email": "a@x.co"}, "k1", 1) is None
    blank = validator.check({"email": "b@x.co"}, None, 2)
    assert blank is not None and blank.outcome == "rejected" and "key column is blank" in blank.reason
    repeated = validator.check({"email": "c@x.co"}, "k1", 3)
    assert repeated is not None and repeated.outcome == "duplicate" and "repeats row 1" in repeated.reason
    same_email = validator.check({"email": "a@x.co"}, "k4", 4)
    assert same_email is not None and same_email.outcome == "duplicate"


def test_an_invalid_first_row_does_not_make_a_later_valid_row_a_duplicate() -> None:
    validator = RowValidator()
    assert validator.check({"email": "a@x.co", "first_name": "x" * 5000}, "a@x.co", 1) is not None
    assert validator.check({"email": "a@x.co"}, "a@x.co", 2) is None


def test_reasons_name_a_csv_rows_line_and_the_line_of_the_row_it_repeats() -> None:
    validator = RowValidator(key_given=True, place="line")
    assert validator.check({"email": "a@x.co"}, "k1", 3) is None
    repeated = validator.check({"email": "b@x.co"}, "k1", 5)
    same_email = validator.check({"email": "a@x.co"}, "k8", 9)
    assert repeated is not None and repeated.reason == "line 5: key 'k1' repeats line 3"
    assert (
        same_email is not None
        and same_email.reason == "line 9: same email as line 3 (case and spaces ignored)"
    )
