"""Where the blocks' logos live: SVG files in this repository (`blocks/logos/`), served from its published copy.

The Prefect 3.8.8 client accepts only http(s) logo and documentation URLs (`BlockType.logo_url` is a pydantic
`HttpUrl`): a `data:` URI is refused when the block type is registered, and would break every later `.load()`
if written to the server by other means.
"""

from __future__ import annotations

REPO_FILES_URL = "https://raw.githubusercontent.com/ops-instantly/ops-instantly/main"


def logo_url(block_type_slug: str) -> str:
    """The URL of `blocks/logos/<slug>.svg` in the published repository (pure)."""
    return f"{REPO_FILES_URL}/blocks/logos/{block_type_slug}.svg"
