"""Bounds of the flow parameters that CLI options set too: one home for both.

A flow's `Field(ge=..., le=...)` and the CLI option that feeds it (`typer.Option(min=..., max=...)`) read the
same constant, so the command line refuses a value at once, and `--help` shows the range, rather than the
run failing later on "Flow run received invalid parameters". Here, in the standard-library-only `ops_core`,
because the CLI builds its options before it imports Prefect or the flows.
"""

from __future__ import annotations

__all__ = [
    "MAX_LEADS_PER_ADD",
    "MAX_LOOKBACK_DAYS",
    "MAX_TIMEOUT_SECONDS",
    "MAX_WAIT_SECONDS",
    "MIN_TIMEOUT_SECONDS",
]

MAX_LEADS_PER_ADD = 1000  # SPEC POST /leads/add leads maxItems (push: --batch-size / batch_size)

# push: --timeout / timeout_seconds, the wait for each API response. Our choice: a tenth of a second is the
# least that is not a typo, and no Instantly response takes ten minutes.
MIN_TIMEOUT_SECONDS = 0.1
MAX_TIMEOUT_SECONDS = 600

MAX_WAIT_SECONDS = 86_400  # push: --wait / wait_seconds, for another push of the same table (a day)

MAX_LOOKBACK_DAYS = 366  # sync: --lookback-days / lookback_days, daily analytics pulled again (a year)
