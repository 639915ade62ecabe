"""ops_core.errors: one-line errors and their "did you mean"."""

from __future__ import annotations

import pytest

from ops_core.errors import did_you_mean

NAMES = ["Q3 founders", "staging-ws", "Agencies EU"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("q3 founders", " (did you mean 'Q3 founders'?)"),  # case only: spelt as the known name
        ("Q3 FOUNDERS", " (did you mean 'Q3 founders'?)"),
        ("stagign-ws", " (did you mean 'staging-ws'?)"),
        ("Q3 founder", " (did you mean 'Q3 founders'?)"),
        ("Retail", ""),  # nothing close: no suggestion
    ],
)
def test_did_you_mean_names_the_closest_known_name_ignoring_case(name: str, expected: str) -> None:
    assert did_you_mean(name, NAMES) == expected


def test_did_you_mean_without_names_suggests_nothing() -> None:
    assert did_you_mean("anything", []) == ""
