"""The INSTANTLY_* environment settings, read and checked without importing Prefect.

`InstantlyCredentials.from_env` builds on `instantly_env`, and the CLI calls it before anything else, so a
bad value (`INSTANTLY_RATE_PER_SECOND=abc`) fails in a fraction of a second, before Prefect starts or a
source is read.
"""

from __future__ import annotations

import math
import os
from typing import Any
from urllib.parse import urlsplit

from ops_core.errors import OpsError
from ops_core.interface import set_option
from ops_core.urls import redact_url

__all__ = [
    "CREDENTIALS_BLOCK_ENV",
    "DEFAULT_RATE_PER_MINUTE",
    "DEFAULT_RATE_PER_SECOND",
    "MAX_RATE_PER_MINUTE",
    "MAX_RATE_PER_SECOND",
    "instantly_api_key",
    "instantly_env",
    "instantly_rates",
]

# The workspace ceiling, shared by every key and tool: 100 requests/s and 6,000 requests/min
# (docs/instantly-api-notes.md §6). The defaults leave headroom for the team's other tools.
MAX_RATE_PER_SECOND = 100.0
MAX_RATE_PER_MINUTE = 6000.0
DEFAULT_RATE_PER_SECOND = 50.0
DEFAULT_RATE_PER_MINUTE = 3000.0

CREDENTIALS_BLOCK_ENV = "OPS_CREDENTIALS_BLOCK"  # names the block to use when a command names none

_RATES = {
    "rate_per_second": ("INSTANTLY_RATE_PER_SECOND", MAX_RATE_PER_SECOND, DEFAULT_RATE_PER_SECOND),
    "rate_per_minute": ("INSTANTLY_RATE_PER_MINUTE", MAX_RATE_PER_MINUTE, DEFAULT_RATE_PER_MINUTE),
}


def _set(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None  # an empty variable means "unset"


def instantly_api_key() -> str:
    """INSTANTLY_API_KEY, for a command or flow given no credentials block.

    Raises:
        OpsError: the variable is unset or empty (one line; the key itself is never printed).
    """
    key = _set("INSTANTLY_API_KEY")
    if key is None:
        raise OpsError(
            "No Instantly API key: INSTANTLY_API_KEY is not set and no credentials block was named.",
            hint=f"export INSTANTLY_API_KEY=... or {set_option('credentials', metavar='BLOCK')} "
            "(see `ops-instantly login`)",
        )
    return key


def instantly_env() -> dict[str, Any]:
    """The INSTANTLY_* settings that are set, checked: `base_url`, `workspace_id`, `rate_per_second`,
    `rate_per_minute` (unset ones are left out, so the block's defaults apply). Never reads the API key.

    Raises:
        OpsError: one line naming the variable, its value and what is allowed.
    """
    found: dict[str, Any] = {}
    base_url = _set("INSTANTLY_BASE_URL")
    if base_url is not None:
        if not base_url.startswith(("https://", "http://")):
            raise OpsError(
                f"INSTANTLY_BASE_URL={redact_url(base_url)!r} is not an http(s) URL.",
                hint="e.g. https://api.instantly.ai/api/v2, or unset it",
            )
        try:
            urlsplit(base_url).port  # noqa: B018 - parsed for its ValueError
        except ValueError:  # e.g. a password with an unencoded `/`: the URL parser reads it as the port
            raise OpsError(
                f"INSTANTLY_BASE_URL={redact_url(base_url)!r} is not a valid URL: its port is not a number.",
                hint="percent-encode a `/`, `?`, `#` or `@` in a password (%2F, %3F, %23, %40)",
            ) from None
        found["base_url"] = base_url
    workspace = _set("INSTANTLY_WORKSPACE_ID")
    if workspace is not None:
        found["workspace_id"] = workspace
    return found | instantly_rates()


def instantly_rates() -> dict[str, float]:
    """INSTANTLY_RATE_PER_SECOND and INSTANTLY_RATE_PER_MINUTE when set, checked, as `rate_per_second` and
    `rate_per_minute`: this process's share of the workspace budget, whatever the credentials' source (the
    key from the environment or from a block, whose own rates they replace).

    Raises:
        OpsError: one line naming the variable, its value and what is allowed.
    """
    found: dict[str, float] = {}
    for field, (name, ceiling, default) in _RATES.items():
        raw = _set(name)
        if raw is None:
            continue
        problem = _rate_problem(raw, ceiling)
        if problem is None:
            found[field] = float(raw)
        else:
            raise OpsError(
                f"{name}={raw!r} is invalid: {problem}.",
                hint=f"a number of requests above 0, at most {ceiling:g}; unset it for the default "
                f"({default:g})",
            )
    return found


def _rate_problem(raw: str, ceiling: float) -> str | None:
    """Why `raw` is not a rate above 0 and at most `ceiling`, or None when it is one."""
    try:
        value = float(raw)
    except ValueError:
        return "Input should be a valid number"
    if math.isnan(value):
        return "Input should be a valid number"
    if value > ceiling:
        return f"Input should be less than or equal to {ceiling:g}"
    if value <= 0:
        return "Input should be greater than 0"
    return None
