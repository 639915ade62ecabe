"""ops-instantly: Ops tables to Instantly.ai campaigns and engagement back into DuckDB."""

from ops_instantly._paths import ensure_repo_on_path

__version__ = "0.1.0"

# flows/, tasks/, blocks/ and warehouse/ are run from the repo root, not installed (see _paths).
ensure_repo_on_path()
