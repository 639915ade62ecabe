"""Deployment steps for `prefect deploy` (referenced from prefect.yaml's `build:` section).

A flow parameter typed as a block (`credentials: InstantlyCredentials`) is shown by the Prefect UI as a
picker of the saved blocks of that type, and is stored in the deployment as a reference,
`{"$ref": {"block_document_id": "<uuid>"}}`: never the block's data, so never its secret. prefect.yaml cannot
write that id (it is known only once the block is saved), and `prefect deploy` replaces a literal
`block_document_id` reference with the block's *data*. `block_reference` looks the id up at deploy time, so
that `parameters: {credentials: "{{ instantly-credentials.reference }}"}` becomes the reference the UI shows
as the chosen block.
"""

from __future__ import annotations

from typing import Any

__all__ = ["block_reference"]


def block_reference(block_type_slug: str, block_document_name: str) -> dict[str, Any]:
    """The reference to a saved block, as a deployment parameter value.

    Args:
        block_type_slug: the block type, e.g. `instantly-credentials`.
        block_document_name: the saved block's name, e.g. `default`.

    Returns:
        `{"reference": {"$ref": {"block_document_id": "<uuid>"}}}` (the step's output).

    Raises:
        ValueError: no such block on the Prefect API (the message names the block and how to save it).
    """
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            document = client.read_block_document_by_name(
                name=block_document_name, block_type_slug=block_type_slug, include_secrets=False
            )
        except ObjectNotFound:
            raise ValueError(
                f"No {block_type_slug} block named {block_document_name!r} on this Prefect API: save it first "
                f"(for Instantly credentials: `ops-instantly login --name {block_document_name}`)."
            ) from None
    return {"reference": {"$ref": {"block_document_id": str(document.id)}}}
