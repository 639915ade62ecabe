"""Parameter types shared by the flows (the UI's run form is built from them)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from ops_core.urls import NO_PASSWORD_PATTERN

__all__ = ["TextWithoutPassword"]

# A text parameter that may hold a URL or connection string: the deployment's schema refuses one with a
# password (ops_core.urls.NO_PASSWORD_PATTERN), so the server never stores it with a run. Only the schema
# carries the pattern: a flow called in-process (the CLI) is not held to it, and checks passwords itself.
TextWithoutPassword = Annotated[str, Field(json_schema_extra={"pattern": NO_PASSWORD_PATTERN})]
