"""Parameter types shared by the flows (the UI's run form is built from them)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from ops_core.urls import PASSWORD_PATTERN, PASSWORD_REFUSAL

__all__ = ["TextWithoutPassword"]

# A text parameter that may hold a URL or connection string: the deployment's schema refuses one with a
# password (ops_core.urls.PASSWORD_PATTERN), so the server never stores it with a run. It says so without
# quoting the value: a `pattern` that fails is reported as "'<the value>' does not match '<pattern>'", which
# showed the password on the UI's screen; a failing `const` under `if`/`then` quotes only the constant.
# Only the schema carries the rule: a flow called in-process (the CLI) is not held to it, and checks
# passwords itself.
TextWithoutPassword = Annotated[
    str,
    Field(
        json_schema_extra={
            "if": {"type": "string", "pattern": PASSWORD_PATTERN},
            "then": {"const": PASSWORD_REFUSAL},
        }
    ),
]
