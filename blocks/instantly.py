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

    check_global_rate_limit(name)
    # strict: a limit deleted mid-run is an error, not a silent "no limit".
    return CallableLimiter(lambda: rate_limit(name, strict=True))


def check_global_rate_limit(name: str) -> None:
    """Fail in one line, before any request, when the global concurrency limit `name` does not exist.

    Without this, the first request of a run raised Prefect's ConcurrencySlotAcquisitionError from deep
    inside the client, after the run had started its work.

    Raises:
        OpsError: no such limit on the Prefect API in use, or the API could not be asked.
    """
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    hint = (
        f"create it (`prefect gcl create {name} --limit 90 --slot-decay-per-second 90`) or clear "
        "global_rate_limit on the credentials block"
    )
    try:
        with get_client(sync_client=True) as client:
            client.read_global_concurrency_limit_by_name(name)
    except ObjectNotFound:
        raise OpsError(
            f"The credentials block's global_rate_limit names {name!r}, but there is no Prefect global "
            "concurrency limit of that name.",
            hint=hint,
        ) from None
    except Exception as exc:
        raise OpsError(
            f"Could not check the global concurrency limit {name!r} on the Prefect API: {_one_line(exc)}",
            hint=hint,
        ) from None


CREDENTIALS_BLOCK_ENV = "OPS_CREDENTIALS_BLOCK"  # names the block to use when a command names none
DEFAULT_BLOCK_NAME = "default"  # what `ops-instantly login` saves when given no --name


def resolve_credentials(block_name: str | None = None) -> InstantlyCredentials:
    """The credentials a command or flow uses, the first that applies:

    1. the block named here (`--credentials NAME`, a flow's block parameter);
    2. the block named by the environment variable OPS_CREDENTIALS_BLOCK;
    3. INSTANTLY_API_KEY (with INSTANTLY_BASE_URL, ...) from the environment;
    4. the block named `default`, which `ops-instantly login` saves.

    Steps 1, 2 and 4 need the Prefect API (the server in PREFECT_API_URL, or a temporary one).

    Raises:
        OpsError: a named block does not exist (with the closest existing name), or nothing applies.
    """
    name = (block_name or os.environ.get(CREDENTIALS_BLOCK_ENV, "")).strip()
    if name:
        return _load_block(name)
    if os.environ.get("INSTANTLY_API_KEY", "").strip():
        return InstantlyCredentials.from_env()
    try:
        return InstantlyCredentials.load(DEFAULT_BLOCK_NAME)
    except ValueError:
        problem = f"no InstantlyCredentials block named {DEFAULT_BLOCK_NAME!r}"
    except Exception as exc:  # the Prefect API could not be asked
        problem = (
            f"the Prefect API could not be asked for the block {DEFAULT_BLOCK_NAME!r} ({_one_line(exc)})"
        )
    raise OpsError(
        f"No Instantly credentials: INSTANTLY_API_KEY is not set and {problem}.",
        hint="run `ops-instantly login` (saves the key as the block 'default'), export INSTANTLY_API_KEY, "
        "or pass --credentials BLOCK",
    )


def _load_block(name: str) -> InstantlyCredentials:
    try:
        return InstantlyCredentials.load(name)
    except ValueError:
        pass
    close = _closest_block_name(name)
    raise OpsError(
        f"No InstantlyCredentials block named {name!r}" + (f" (did you mean {close!r}?)." if close else "."),
        hint="create it with `ops-instantly login --name NAME` or in the Prefect UI",
    ) from None


def _closest_block_name(name: str) -> str | None:
    """The saved InstantlyCredentials block whose name is closest to a misspelt one, if any is close."""
    import difflib

    try:
        from prefect.client.orchestration import get_client

        with get_client(sync_client=True) as client:
            documents = client.read_block_documents_by_type(InstantlyCredentials.get_block_type_slug())
    except Exception:  # a hint only: never hide the real error behind another
        return None
    names = [d.name for d in documents if d.name]
    found = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    return found[0] if found else None


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]
