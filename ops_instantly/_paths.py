"""Where the project's own folders live.

`flows/`, `tasks/`, `blocks/` and `warehouse/` are run from the repo root (they are not installed under
those generic names, which PyPI already uses for unrelated packages). The installed CLI puts the repo
root on `sys.path` so it can import them.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def ensure_repo_on_path() -> Path:
    """Put the repo root on sys.path (idempotent) and return it."""
    root = str(REPO_ROOT)
    if (REPO_ROOT / "flows").is_dir() and root not in sys.path:
        sys.path.insert(0, root)
    return REPO_ROOT
