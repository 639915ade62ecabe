"""A source's header checked without Prefect: what `connect-table` refuses is what the push refuses."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ops_core.errors import OpsError
from tasks.mapping import MappingOverrides
from tasks.source_header import SourceSpec, check_header


@pytest.mark.parametrize(
    ("header", "overrides", "key", "error"),
    [
        ("email,_row_key", MappingOverrides(), None, "a column ops-instantly adds to ops.leads itself"),
        ("email,INSTANTLY_STATUS", MappingOverrides(), None, "would take for their own instantly_status"),
        ("Work Email,id", MappingOverrides(fields={"email": "Mail"}), None, "'Mail'"),
        ("email,id", MappingOverrides(), "crm_id", "column 'crm_id' is not in"),
    ],
)
def test_check_header_refuses_what_the_push_refuses(
    tmp_path: Path, header: str, overrides: MappingOverrides, key: str | None, error: str
) -> None:
    csv = tmp_path / "leads.csv"
    csv.write_text(f"{header}\na@example.com,1\n")
    with pytest.raises(OpsError) as caught:
        check_header(SourceSpec(str(csv)), overrides, key)
    assert error in str(caught.value)


def test_a_usable_header_passes_and_nothing_imports_prefect(tmp_path: Path) -> None:
    csv = tmp_path / "leads.csv"
    csv.write_text("Email,id\na@example.com,1\n")
    code = (
        "import sys; from tasks.mapping import MappingOverrides; from tasks.source_header import SourceSpec, "
        f"check_header; check_header(SourceSpec({str(csv)!r}), MappingOverrides(), 'id'); "
        "print('prefect' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
