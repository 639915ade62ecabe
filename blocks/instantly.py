"""`InstantlyCredentials`: an Instantly API key, base URL, optional workspace and rate budget."""

from __future__ import annotations

import os

from prefect.blocks.core import Block
from pydantic import Field, SecretStr

from instantly_client import DEFAULT_BASE_URL, CallableLimiter, InstantlyClient
from ops_instantly.errors import OpsError
from ops_instantly.settings import (
    DEFAULT_RATE_PER_MINUTE,
    DEFAULT_RATE_PER_SECOND,
    MAX_RATE_PER_MINUTE,
    MAX_RATE_PER_SECOND,
    instantly_env,
)

__all__ = [
    "DEFAULT_RATE_PER_MINUTE",
    "DEFAULT_RATE_PER_SECOND",
    "InstantlyCredentials",
    "resolve_credentials",
]


class InstantlyCredentials(Block):
    """Credentials for one Instantly workspace.

    Example:
        ```python
        from blocks import InstantlyCredentials

        creds = InstantlyCredentials.load("production")
        with creds.get_client() as client:
            print([c.name for c in client.campaigns.list()])
        ```
    """

    _block_type_name = "Instantly Credentials"
    _block_type_slug = "instantly-credentials"
    _description = "An Instantly.ai API v2 key, its base URL, workspace and request budget."
    _code_example = 'creds = InstantlyCredentials.load("production")\nclient = creds.get_client()'

    api_key: SecretStr = Field(..., description="Instantly API v2 key (Settings, Integrations, API Keys).")
    base_url: str = Field(DEFAULT_BASE_URL, description="API base URL, ending in /api/v2.")
    workspace_id: str | None = Field(
        None,
        description="Optional workspace id, sent as x-as-workspace (agency keys acting on a sub-workspace).",
    )
    rate_per_second: float = Field(
        DEFAULT_RATE_PER_SECOND,
        gt=0,
        le=MAX_RATE_PER_SECOND,
        description="Requests per second this process may send.",
    )
    rate_per_minute: float = Field(
        DEFAULT_RATE_PER_MINUTE,
        gt=0,
        le=MAX_RATE_PER_MINUTE,
        description="Requests per minute this process may send.",
    )
    global_rate_limit: str | None = Field(
        None,
        description="Name of a Prefect global concurrency limit with slot decay (e.g. `prefect gcl create "
        "instantly --limit 90 --slot-decay-per-second 90`) shared by every process using this workspace; "
        "each request also takes a slot from it. Empty: per-process limits only.",
    )

    @classmethod
    def from_env(cls) -> InstantlyCredentials:
        """Build credentials from INSTANTLY_API_KEY, INSTANTLY_BASE_URL, INSTANTLY_WORKSPACE_ID and
        INSTANTLY_RATE_PER_*.

        Raises:
            OpsError: no key, or a setting out of range, named with its value (`instantly_env`).
        """
        key = os.environ.get("INSTANTLY_API_KEY", "").strip()
        if not key:
            raise OpsError(
                "No Instantly API key: INSTANTLY_API_KEY is not set and no credentials block was named.",
                hint="export INSTANTLY_API_KEY=... or pass --credentials BLOCK (see `ops-instantly login`)",
            )
        return cls(api_key=SecretStr(key), **instantly_env())

    def get_client(self) -> InstantlyClient:
        """A client for this workspace; requests share the workspace's rate budget in this process."""
        return InstantlyClient(
            api_key=self.api_key.get_secret_value(),
            base_url=self.base_url,
            workspace_id=self.workspace_id,
            rate_per_second=self.rate_per_second,
            rate_per_minute=self.rate_per_minute,
            global_limiter=_prefect_rate_limit(self.global_rate_limit) if self.global_rate_limit else None,
        )

    @property
    def workspace_key(self) -> str:
        """A stable, secret-free name for the workspace (used as the push ledger's workspace column)."""
        import hashlib

        if self.workspace_id:
            return self.workspace_id
        digest = hashlib.sha256(self.api_key.get_secret_value().encode()).hexdigest()[:12]
        return f"{self.base_url.rstrip('/')}#{digest}"


def _prefect_rate_limit(name: str) -> CallableLimiter:
    """A limiter that takes one slot of the Prefect global concurrency limit `name` per request."""
    from prefect.concurrency.sync import rate_limit

    # strict: a missing limit is an error, not a silent "no limit".
    return CallableLimiter(lambda: rate_limit(name, strict=True))


def resolve_credentials(block_name: str | None = None) -> InstantlyCredentials:
    """Load the named block, or fall back to the INSTANTLY_* environment when no name is given."""
    if not block_name:
        return InstantlyCredentials.from_env()
    try:
        return InstantlyCredentials.load(block_name)
    except ValueError as exc:
        raise OpsError(
            f"No InstantlyCredentials block named {block_name!r}.",
            hint="create it with `ops-instantly login --name NAME` or in the Prefect UI",
        ) from exc
