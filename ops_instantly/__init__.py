"""ops-instantly: Ops tables to Instantly.ai campaigns and engagement back into DuckDB."""

__version__ = "0.1.0"
