"""Loading a saved block by name: the one place that turns "no such block" into a one-line error."""

from __future__ import annotations

import difflib
from typing import TypeVar

from prefect.blocks.core import Block

from ops_core.errors import OpsError

B = TypeVar("B", bound=Block)

__all__ = ["load_block"]


def load_block(block_type: type[B], name: str, *, hint: str) -> B:
    """The saved block `name` of `block_type` (needs the Prefect API).

    Args:
        block_type: the block class, e.g. `PostgresSource`.
        name: the saved block's name.
        hint: how to create such a block, shown with the error.

    Raises:
        OpsError: no such block; names the closest saved block of that type when one is close.
    """
    try:
        return block_type.load(name)
    except ValueError:  # Prefect's "Unable to find block document named ..."
        pass
    close = _closest_block_name(block_type, name)
    raise OpsError(
        f"No {block_type.__name__} block named {name!r}" + (f" (did you mean {close!r}?)." if close else "."),
        hint=hint,
    ) from None


def _closest_block_name(block_type: type[Block], name: str) -> str | None:
    """The saved block of this type whose name is closest to a misspelt one, if any is close."""
    try:
        from prefect.client.orchestration import get_client

        with get_client(sync_client=True) as client:
            documents = client.read_block_documents_by_type(block_type.get_block_type_slug())
    except Exception:  # a hint only: never hide the real error behind another
        return None
    names = [d.name for d in documents if d.name]
    found = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    return found[0] if found else None
