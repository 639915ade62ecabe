"""The workspace an API key acts on (SPEC ``GET /api/v2/workspaces/current``, schema ``Workspace``)."""

from __future__ import annotations

from ._base import ReadModel

__all__ = ["Workspace"]


class Workspace(ReadModel):
    """A workspace. ``id`` (uuid) is its identity: stable across API keys and base URLs."""

    id: str
    name: str | None = None
    owner: str | None = None
    timestamp_created: str | None = None
    timestamp_updated: str | None = None
    plan_id: str | None = None
