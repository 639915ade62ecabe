"""INSTANTLY_* settings are checked without Prefect, each bad value named in one line."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ops_core.errors import OpsError
from ops_core.settings import instantly_env

_VARIABLES = (
    "INSTANTLY_BASE_URL",
    "INSTANTLY_WORKSPACE_ID",
    "INSTANTLY_RATE_PER_SECOND",
    "INSTANTLY_RATE_PER_MINUTE",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_unset_and_empty_settings_are_left_to_the_block_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    assert instantly_env() == {}
    monkeypatch.setenv("INSTANTLY_RATE_PER_SECOND", " ")
    assert instantly_env() == {}


def test_set_settings_are_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INSTANTLY_BASE_URL", "http://127.0.0.1:8765/api/v2")
    monkeypatch.setenv("INSTANTLY_WORKSPACE_ID", "ws-1")
    monkeypatch.setenv("INSTANTLY_RATE_PER_SECOND", "7.5")
    monkeypatch.setenv("INSTANTLY_RATE_PER_MINUTE", "6000")
    assert instantly_env() == {
        "base_url": "http://127.0.0.1:8765/api/v2",
        "workspace_id": "ws-1",
        "rate_per_second": 7.5,
        "rate_per_minute": 6000.0,
    }


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "INSTANTLY_RATE_PER_SECOND",
            "abc",
            "INSTANTLY_RATE_PER_SECOND='abc' is invalid: Input should be a valid number",
        ),
        (
            "INSTANTLY_RATE_PER_SECOND",
            "100.5",
            "INSTANTLY_RATE_PER_SECOND='100.5' is invalid: Input should be less",
        ),
        (
            "INSTANTLY_RATE_PER_SECOND",
            "0",
            "INSTANTLY_RATE_PER_SECOND='0' is invalid: Input should be greater than 0",
        ),
        ("INSTANTLY_RATE_PER_MINUTE", "6001", "INSTANTLY_RATE_PER_MINUTE='6001' is invalid"),
        (
            "INSTANTLY_RATE_PER_MINUTE",
            "nan",
            "INSTANTLY_RATE_PER_MINUTE='nan' is invalid: Input should be a valid",
        ),
        (
            "INSTANTLY_BASE_URL",
            "api.instantly.ai",
            "INSTANTLY_BASE_URL='api.instantly.ai' is not an http(s) URL",
        ),
        (
            "INSTANTLY_BASE_URL",
            "ftp://user:SECRETpw@api.instantly.ai/api/v2",
            "INSTANTLY_BASE_URL='ftp://user:***@api.instantly.ai/api/v2' is not an http(s) URL",
        ),
    ],
)
def test_a_bad_setting_is_one_line_naming_the_variable_and_value(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(OpsError) as exc:
        instantly_env()
    assert str(exc.value).startswith(message) and "\n" not in str(exc.value)


def test_the_check_does_not_import_prefect() -> None:
    code = "import sys, ops_core.settings as s; s.instantly_env(); print('prefect' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_a_base_url_whose_password_reads_as_a_port_is_refused_without_showing_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("INSTANTLY_BASE_URL", "http://ops:Zm9vYmFy/Kw9x@127.0.0.1:8890/api/v2")
    with pytest.raises(OpsError) as caught:
        instantly_env()
    assert "its port is not a number" in str(caught.value) and "Zm9vYmFy" not in str(caught.value)
