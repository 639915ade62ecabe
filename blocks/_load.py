"""Loading a saved block by name: the one place that turns "no such block" into a one-line error."""

from __future__ import annotations

from typing import TypeVar, cast

from prefect.blocks.core import Block
from pydantic import ValidationError

from blocks._local import saved_names_without_api
from ops_core.errors import OpsError, did_you_mean

B = TypeVar("B", bound=Block)

__all__ = ["check_saved", "invalid_block", "load_block", "validation_problems"]


def load_block(block_type: type[B], name: str, *, hint: str) -> B:
    """The saved block `name` of `block_type` (needs the Prefect API).

    Args:
        block_type: the block class, e.g. `PostgresSource`.
        name: the saved block's name.
        hint: how to create such a block, shown with the error.

    Raises:
        OpsError: no such block (naming the closest saved block of that type when one is close), or the saved
            block fails the block's checks (`invalid_block`).
    """
    check_saved(block_type, name, hint=hint)
    try:
        # Prefect's async_dispatch: called outside an event loop, `load` returns the block itself.
        return cast(B, block_type.load(name))
    except RuntimeError as exc:  # Prefect's "Unable to load ... due to failed validation"
        if isinstance(exc.__cause__, ValidationError):
            raise invalid_block(block_type, name, exc.__cause__) from None
        raise
    except ValueError:  # Prefect's "Unable to find block document named ..."
        pass
    raise _no_such_block(block_type, name, hint, _saved_names(block_type)) from None


def invalid_block(block_type: type[Block], name: str, exc: ValidationError) -> OpsError:
    """The one-line error for a saved block that fails its checks (saved before a check existed, or in a form
    that did not apply it): what is wrong, never the value, and how to mend it."""
    return OpsError(
        f"The {block_type.__name__} block {name!r} cannot be used: {validation_problems(exc)}.",
        hint=f"edit it in the Prefect UI (Blocks > {name} > Edit) or save it again",
    )


def validation_problems(exc: ValidationError) -> str:
    """A pydantic error as one line, each field with what it expected, never the value it refused (pure):
    `base_url: expected a base URL without a password: ...`."""
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc'])}: {error['msg'].removeprefix('Value error, ')}"
        for error in exc.errors(include_input=False, include_url=False)
    )


def check_saved(block_type: type[Block], name: str, *, hint: str) -> None:
    """Fail now, without starting Prefect's temporary API, when the block is certainly not saved
    (blocks/_local.py); when that cannot be known, do nothing (`load_block` asks the API).

    Raises:
        OpsError: as `load_block` does for a missing block.
    """
    names = saved_names_without_api(block_type.get_block_type_slug())
    if names is not None and name not in names:
        raise _no_such_block(block_type, name, hint, names)


def _no_such_block(block_type: type[Block], name: str, hint: str, names: list[str]) -> OpsError:
    return OpsError(f"No {block_type.__name__} block named {name!r}{did_you_mean(name, names)}.", hint=hint)


def _saved_names(block_type: type[Block]) -> list[str]:
    """The names of the saved blocks of this type, for a "did you mean" ([] when they cannot be read)."""
    try:
        from prefect.client.orchestration import get_client

        with get_client(sync_client=True) as client:
            documents = client.read_block_documents_by_type(block_type.get_block_type_slug())
    except Exception:  # a hint only: never hide the real error behind another
        return []
    return [d.name for d in documents if d.name]
