"""`InstantlyCredentials`: an Instantly API key, base URL, optional workspace and rate budget."""

from __future__ import annotations

import contextlib
import math
import os
import threading
from contextvars import ContextVar
from functools import partial
from typing import Any, TypedDict, cast

from prefect.blocks.core import Block
from prefect.client.schemas.objects import BlockDocument
from pydantic import (
    ConfigDict,
    Field,
    SecretStr,
    SerializationInfo,
    ValidationError,
    field_serializer,
    field_validator,
)

from blocks._assets import logo_url
from blocks._load import check_saved, invalid_block, load_block
from blocks._local import saved_names_without_api
from instantly_client import DEFAULT_BASE_URL, BatchLimiter, InstantlyClient
from ops_core.errors import OpsError, one_line
from ops_core.interface import set_option
from ops_core.settings import (
    CREDENTIALS_BLOCK_ENV,
    DEFAULT_RATE_PER_MINUTE,
    DEFAULT_RATE_PER_SECOND,
    MAX_RATE_PER_MINUTE,
    MAX_RATE_PER_SECOND,
    instantly_api_key,
    instantly_env,
    instantly_rates,
)
from ops_core.urls import PASSWORD_PATTERN, has_password, redact_url, url_key

__all__ = [
    "DEFAULT_RATE_PER_MINUTE",
    "DEFAULT_RATE_PER_SECOND",
    "InstantlyCredentials",
    "resolve_credentials",
]


# Why a block refuses a base URL with a password, and what to do instead (one line). The client never sends
# it: it authenticates with the API key (a Bearer header, which keeps httpx from turning a URL's `user:secret@`
# into Basic auth), and a proxy's password belongs in the proxy setting httpx reads from the environment.
BASE_URL_PASSWORD_REFUSAL = (
    "a base URL without a password: the Prefect UI shows base_url in plain text, and the client never sends "
    "it (the API key authenticates); for a proxy that needs one, set HTTPS_PROXY=http://user:secret@proxy:port "
    "in the worker's environment"
)

# Set while `from_env` builds a block: a password in INSTANTLY_BASE_URL stays in the environment (never saved in
# a block nor shown in the UI), so it is accepted there, and shown as *** wherever the URL is. A context
# variable, not pydantic's validation context: Block's own __init__ validates without the caller's context.
_FROM_ENV: ContextVar[bool] = ContextVar("instantly_credentials_from_env", default=False)


class _TimeoutOption(TypedDict, total=False):
    """InstantlyClient's `timeout`, given only when set (the client keeps its own default otherwise)."""

    timeout: float


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
    _code_example = """```python
from blocks import InstantlyCredentials

credentials = InstantlyCredentials.load("default")
with credentials.get_client() as client:
    print([campaign.name for campaign in client.campaigns.list()])
```"""
    # Prefect types these ClassVar[HttpUrl | None]; a URL string serves (its BlockType model validates it).
    _documentation_url = "https://developer.instantly.ai/"  # type: ignore[assignment]
    _logo_url = logo_url("instantly-credentials")  # type: ignore[assignment]

    # A pydantic error quotes the value it refused (`input_value=...`): never, for a base URL with a password.
    model_config = ConfigDict(hide_input_in_errors=True)

    api_key: SecretStr = Field(
        ..., title="API key", description="Instantly API v2 key (Settings, Integrations, API Keys)."
    )
    base_url: str = Field(
        DEFAULT_BASE_URL,
        title="Base URL",
        description="API base URL, ending in /api/v2. Shown in plain text: no password (`user:secret@`); "
        "for a proxy that needs one, set HTTPS_PROXY in the worker's environment.",
        # The Prefect UI's form checks the block schema: a value with a password fails this `if`/`then`, whose
        # message quotes only the `const` (a failing `pattern` would quote the value, password and all).
        json_schema_extra={
            "if": {"type": "string", "pattern": PASSWORD_PATTERN},
            "then": {"const": BASE_URL_PASSWORD_REFUSAL},
        },
    )
    workspace_id: str | None = Field(
        None,
        title="Workspace ID",
        description="Optional workspace id, sent as x-as-workspace (agency keys acting on a sub-workspace).",
    )
    rate_per_second: float = Field(
        DEFAULT_RATE_PER_SECOND,
        gt=0,
        le=MAX_RATE_PER_SECOND,
        title="Requests per second",
        description="Requests per second this process may send.",
    )
    rate_per_minute: float = Field(
        DEFAULT_RATE_PER_MINUTE,
        gt=0,
        le=MAX_RATE_PER_MINUTE,
        title="Requests per minute",
        description="Requests per minute this process may send.",
    )
    global_rate_limit: str | None = Field(
        None,
        title="Shared rate limit",
        description="Name of a Prefect global concurrency limit with slot decay (e.g. `prefect gcl create "
        "instantly --limit 10 --slot-decay-per-second 90`) shared by every process using this workspace; "
        "every request also takes a slot from it (fetched a few at a time). Empty: per-process limits only.",
    )

    @field_validator("base_url")
    @classmethod
    def _base_url_without_password(cls, base_url: str) -> str:
        """Refuse a password in the base URL (`user:secret@`, `?password=`): a saved block's base_url is shown
        in plain text by the Prefect UI. Only `from_env` accepts one (it never reaches a saved block)."""
        if has_password(base_url) and not _FROM_ENV.get():
            raise ValueError(f"expected {BASE_URL_PASSWORD_REFUSAL}")
        return base_url

    def _to_block_document(self, *args: Any, **kwargs: Any) -> BlockDocument:
        # Every save goes through here: a block built by `from_env` may hold a password, never a saved one.
        if has_password(self.base_url):
            raise ValueError(f"Not saved: base_url must be {BASE_URL_PASSWORD_REFUSAL}.")
        return super()._to_block_document(*args, **kwargs)

    @field_serializer("base_url")
    def _base_url_shown(self, base_url: str, info: SerializationInfo) -> str:
        """The base URL as a run's recorded parameters (and any other dump) show it: with *** for the password
        that INSTANTLY_BASE_URL may carry (`from_env`). Only a dump that asks for the secrets keeps it."""
        if info.context and info.context.get("include_secrets") is True:
            return base_url
        return redact_url(base_url)

    def __repr_args__(self) -> list[tuple[str | None, Any]]:
        return [
            (key, redact_url(value) if key == "base_url" else value) for key, value in super().__repr_args__()
        ]

    @classmethod
    def from_env(cls) -> InstantlyCredentials:
        """Build credentials from INSTANTLY_API_KEY, INSTANTLY_BASE_URL, INSTANTLY_WORKSPACE_ID and
        INSTANTLY_RATE_PER_*.

        INSTANTLY_BASE_URL may carry a password (`user:secret@`), unlike a block's base_url: the environment
        never reaches the Prefect UI, and messages, reprs and run parameters show it as ***.

        Raises:
            OpsError: no key, or a setting out of range, named with its value (`instantly_env`).
        """
        settings = {"api_key": SecretStr(instantly_api_key()), **instantly_env()}
        token = _FROM_ENV.set(True)
        try:
            return cls(**settings)
        finally:
            _FROM_ENV.reset(token)

    def get_client(self, *, timeout: float | None = None) -> InstantlyClient:
        """A client for this workspace: the one way every flow and task gets one.

        Requests share the workspace's rate budget within this process (the block's rates, paced and
        adapting to 429s) and, when `global_rate_limit` names a Prefect global concurrency limit, with every
        other process that uses it.

        Args:
            timeout: seconds to wait for each response (default: the client's 30 s).

        Raises:
            OpsError: `global_rate_limit` names a limit that does not exist or has no slot decay.
        """
        timeout_option: _TimeoutOption = {} if timeout is None else {"timeout": timeout}
        return InstantlyClient(
            api_key=self.api_key.get_secret_value(),
            base_url=self.base_url,
            workspace_id=self.workspace_id,
            rate_per_second=self.rate_per_second,
            rate_per_minute=self.rate_per_minute,
            global_limiter=self._global_limiter(),
            **timeout_option,
        )

    def _global_limiter(self) -> BatchLimiter | None:
        if not self.global_rate_limit:
            return None
        budget = min(self.rate_per_second, self.rate_per_minute / 60)
        return prefect_global_limiter(self.global_rate_limit, budget_per_second=budget)

    @property
    def workspace_key(self) -> str:
        """A stable, secret-free name for the key (the push ledger keys rows by the workspace id from the API,
        and by this only when the key cannot read its workspace): the base URL without its password (`url_key`)."""
        import hashlib

        if self.workspace_id:
            return self.workspace_id
        digest = hashlib.sha256(self.api_key.get_secret_value().encode()).hexdigest()[:12]
        return f"{url_key(self.base_url.rstrip('/'))}#{digest}"


# A process takes slots of the global limit in batches of about this many seconds of its budget: at 100
# requests/s that is one Prefect API call per 10 requests instead of one per request.
GLOBAL_BATCH_SECONDS = 0.1


def prefect_global_limiter(name: str, *, budget_per_second: float) -> BatchLimiter:
    """A limiter that takes slots of the Prefect global concurrency limit `name`, a small batch per call.

    The limit must exist and have slot decay (it is then a rate limit: its `slot_decay_per_second` is the
    shared rate, its `limit` the largest burst). Each process takes `ceil(budget * 0.1)` slots per call (at
    most the limit's size), not sooner than the limit has room for them were it alone, and hands them to its
    requests one by one; its own paced limiter spaces them. The clients of one process share one such limiter.

    Raises:
        OpsError: no limit has that name, or it has no slot decay (one line, naming the limit).
    """
    from prefect.client.orchestration import get_client
    from prefect.concurrency.sync import rate_limit
    from prefect.exceptions import ObjectNotFound
    from prefect.settings import PREFECT_API_URL

    hint = f"create it with `prefect gcl create {name} --limit 10 --slot-decay-per-second 90`"
    with get_client(sync_client=True) as prefect:
        try:
            limit = prefect.read_global_concurrency_limit_by_name(name)
        except ObjectNotFound:
            raise OpsError(
                f"No Prefect global concurrency limit named {name!r} (the credentials block's global_rate_limit).",
                hint=hint,
            ) from None
    if not limit.slot_decay_per_second:
        raise OpsError(
            f"The Prefect global concurrency limit {name!r} has no slot decay, so it cannot limit a rate.",
            hint=f"`prefect gcl update {name} --slot-decay-per-second 90`, or {hint.replace('create it', 'use one')}",
        )
    batch = max(1, min(limit.limit, math.ceil(budget_per_second * GLOBAL_BATCH_SECONDS)))
    min_interval = _room_after(batch, limit.limit, limit.slot_decay_per_second)
    key = (str(PREFECT_API_URL.value()), name, batch, min_interval)
    with _GLOBAL_LIMITERS_LOCK:
        if key not in _GLOBAL_LIMITERS:
            # strict: a limit deleted while we run is an error, not a silent "no limit".
            take = partial(rate_limit, name, strict=True)
            _GLOBAL_LIMITERS[key] = BatchLimiter(
                lambda n: take(occupy=n), batch=batch, min_interval=min_interval
            )
            _log_in_run(
                f"Requests share the Prefect global concurrency limit {name!r} ({limit.limit} slots, "
                f"{limit.slot_decay_per_second:g}/s): {batch} slots per call, at most one call per "
                f"{min_interval:.3g} s."
            )
        return _GLOBAL_LIMITERS[key]


def _log_in_run(message: str) -> None:
    """An INFO line in the current flow or task run's logs (the Prefect UI's Logs tab); nothing outside a run."""
    from prefect import get_run_logger
    from prefect.exceptions import MissingContextError

    with contextlib.suppress(MissingContextError):
        get_run_logger().info(message)


def _room_after(batch: int, size: int, decay_per_second: float) -> float:
    """Seconds after a grant of `batch` slots until a limit of `size` slots has room for another `batch`, were
    this process alone (with a tenth to spare). Asking sooner is refused, and a refusal costs more than the
    wait: Prefect 3.8's server sends a Retry-After of (slots + recently refused slots) / decay, and records the
    refusal in a way that restarts the limit's decay clock (the decay since the last grant is lost)."""
    return max(0, 2 * batch - size) / decay_per_second * 1.1


# One BatchLimiter per Prefect API, limit and batch in a process: every client of a process (a push opens one to
# look its campaigns up and one to send) draws on the same slots in hand, instead of each holding its own.
_GLOBAL_LIMITERS: dict[tuple[str, str, int, float], BatchLimiter] = {}
_GLOBAL_LIMITERS_LOCK = threading.Lock()


DEFAULT_BLOCK_NAME = "default"  # what `ops-instantly login` saves when given no --name


def resolve_credentials(block: InstantlyCredentials | str | None = None) -> InstantlyCredentials:
    """The credentials a command or flow uses, the first that applies:

    1. the block given here (a flow's `credentials` parameter) or named here (`--credentials NAME`);
    2. the block named by the environment variable OPS_CREDENTIALS_BLOCK;
    3. INSTANTLY_API_KEY (with INSTANTLY_BASE_URL, ...) from the environment;
    4. the block named `default`, which `ops-instantly login` saves.

    Steps 1, 2 and 4 need the Prefect API (the server in PREFECT_API_URL, or a temporary one). Whichever
    applies, INSTANTLY_RATE_PER_SECOND / INSTANTLY_RATE_PER_MINUTE, when set, are this process's rates (a
    worker's share of a budget its block's rates do not know about); the block itself is not changed.

    Raises:
        OpsError: a named block does not exist (with the closest existing name), nothing applies, or an
            INSTANTLY_RATE_* variable is invalid.
    """
    rates = instantly_rates()  # checked first: a bad value fails before any block is loaded
    if isinstance(block, InstantlyCredentials):
        return _with_rates(block, rates)
    name = (block or os.environ.get(CREDENTIALS_BLOCK_ENV, "")).strip()
    if name:
        return _with_rates(load_block(InstantlyCredentials, name, hint=_CREATE_HINT), rates)
    if os.environ.get("INSTANTLY_API_KEY", "").strip():
        return InstantlyCredentials.from_env()
    check_credentials_saved(None)
    try:
        # Prefect's async_dispatch: called outside an event loop, `load` returns the block itself.
        return _with_rates(cast(InstantlyCredentials, InstantlyCredentials.load(DEFAULT_BLOCK_NAME)), rates)
    except RuntimeError as exc:  # Prefect's "Unable to load ... due to failed validation"
        if not isinstance(exc.__cause__, ValidationError):
            raise
        raise invalid_block(InstantlyCredentials, DEFAULT_BLOCK_NAME, exc.__cause__) from None
    except ValueError:
        problem = f"no InstantlyCredentials block named {DEFAULT_BLOCK_NAME!r}"
    except Exception as exc:  # the Prefect API could not be asked
        problem = (
            f"the Prefect API could not be asked for the block {DEFAULT_BLOCK_NAME!r} ({one_line(exc)[:200]})"
        )
    raise _no_credentials(problem)


def _with_rates(credentials: InstantlyCredentials, rates: dict[str, float]) -> InstantlyCredentials:
    """A copy of the block with the process's rates (INSTANTLY_RATE_*), or the block itself when none is set."""
    return credentials.model_copy(update=rates) if rates else credentials


def check_credentials_saved(block: str | None) -> None:
    """Fail at once, without starting Prefect's temporary API, when the block `resolve_credentials(block)`
    would load is certainly not saved (blocks/_local.py); otherwise do nothing.

    Raises:
        OpsError: the same error `resolve_credentials` raises for it.
    """
    name = (block or os.environ.get(CREDENTIALS_BLOCK_ENV, "")).strip()
    if name:
        check_saved(InstantlyCredentials, name, hint=_CREATE_HINT)
    elif not os.environ.get("INSTANTLY_API_KEY", "").strip():
        names = saved_names_without_api(InstantlyCredentials.get_block_type_slug())
        if names is not None and DEFAULT_BLOCK_NAME not in names:
            raise _no_credentials(f"no InstantlyCredentials block named {DEFAULT_BLOCK_NAME!r}")


_CREATE_HINT = "create it with `ops-instantly login --name NAME` or in the Prefect UI"


def _no_credentials(problem: str) -> OpsError:
    return OpsError(
        f"No Instantly credentials: INSTANTLY_API_KEY is not set and {problem}.",
        hint="run `ops-instantly login` (saves the key as the block 'default'), export INSTANTLY_API_KEY, "
        f"or {set_option('credentials', metavar='BLOCK')}",
    )
