"""ops-instantly: Ops tables to Instantly.ai campaigns and engagement back into DuckDB.

Importing this package changes nothing: the CLI (`ops_instantly.cli`) puts the repo root on `sys.path` itself
(see `_paths`), and Prefect runs flows from the repo root, which it puts on `sys.path`.
"""

__version__ = "0.1.0"
