"""A saved login is used without --credentials; `login` reads a piped key; a misspelt block name is one line."""

from __future__ import annotations

import io
import sys
from typing import Any

import pytest

from blocks import InstantlyCredentials
from tests.cli._cli_helpers import assert_one_line_error, run_cli


def test_login_reads_a_piped_key_and_commands_then_need_no_credentials_option(
    sandbox: Any, no_default_block: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("INSTANTLY_API_KEY", raising=False)
    monkeypatch.delenv("OPS_CREDENTIALS_BLOCK", raising=False)
    # `echo KEY | ops-instantly login`: standard input is a pipe, not a terminal.
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{sandbox.api_key}\n"))
    login = run_cli(capsys, "login", "--base-url", sandbox.base_url)
    assert login.code == 0, login.err
    assert "saved as InstantlyCredentials block 'default'" in login.out
    assert sandbox.api_key not in login.out + login.err
    assert InstantlyCredentials.load("default").api_key.get_secret_value() == sandbox.api_key

    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    listed = run_cli(capsys, "campaigns", "list")  # no --credentials, no INSTANTLY_API_KEY
    assert listed.code == 0, listed.err
    assert "0 campaign(s)" in listed.out


def test_ops_credentials_block_names_the_block_and_a_misspelt_name_is_one_line(
    sandbox: Any, no_default_block: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("INSTANTLY_API_KEY", raising=False)
    InstantlyCredentials(api_key=sandbox.api_key, base_url=sandbox.base_url).save(
        "staging-ws", overwrite=True
    )

    monkeypatch.setenv("OPS_CREDENTIALS_BLOCK", "staging-ws")
    assert run_cli(capsys, "campaigns", "list").code == 0

    monkeypatch.setenv("OPS_CREDENTIALS_BLOCK", "stagign-ws")
    assert_one_line_error(
        run_cli(capsys, "campaigns", "list"),
        "No InstantlyCredentials block named 'stagign-ws' (did you mean 'staging-ws'?)",
    )
    monkeypatch.delenv("OPS_CREDENTIALS_BLOCK")
    assert_one_line_error(
        run_cli(capsys, "campaigns", "list", "--credentials", "staging-wz"), "did you mean 'staging-ws'?"
    )


def test_with_no_key_and_no_default_block_the_error_says_how_to_log_in(
    no_default_block: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("INSTANTLY_API_KEY", raising=False)
    monkeypatch.delenv("OPS_CREDENTIALS_BLOCK", raising=False)
    assert_one_line_error(
        run_cli(capsys, "campaigns", "list"), "INSTANTLY_API_KEY is not set", "no InstantlyCredentials block"
    )


def test_login_with_nothing_to_read_explains_every_way_to_give_the_key(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("INSTANTLY_API_KEY", raising=False)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # piped, but empty
    assert_one_line_error(run_cli(capsys, "login", "--name", "empty"), "No API key given", "pipe it in")
