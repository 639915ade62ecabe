"""`--json` on the listing and show commands: one JSON document on stdout and nothing else there.

Objects from the API are printed as the API returned them (`as_returned`), so a `campaigns show --json`
body is one `campaigns create --file -` accepts. Progress and notes go to stderr, as always.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import typer
from pydantic import BaseModel
from pydantic_core import to_jsonable_python

__all__ = ["JSON_OPTION", "as_returned", "print_json"]

JSON_OPTION = typer.Option(
    False, "--json", help="Print one JSON document on stdout (for jq and scripts) instead of a table."
)


def as_returned(model: BaseModel) -> dict[str, Any]:
    """An API object's fields as the API sent them: by API name, unset fields left out (not `null`)."""
    return model.model_dump(mode="json", by_alias=True, exclude_unset=True)


def print_json(data: Any) -> None:
    """Write `data` (JSON types, pydantic models, dataclasses, datetimes) as one indented JSON document."""
    text = json.dumps(to_jsonable_python(data, by_alias=True), indent=2, ensure_ascii=False)
    sys.stdout.write(text + "\n")
    sys.stdout.flush()
