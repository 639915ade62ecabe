"""Background jobs (SPEC ``GET /background-jobs/{id}``), e.g. from ``POST /leads/move``."""

from __future__ import annotations

from typing import Any

from ._base import ReadModel

__all__ = ["JOB_TERMINAL_STATUSES", "BackgroundJob"]

# SPEC BackgroundJob.status terminal values (not "completed"/"error" as some helpers assume; notes C9).
JOB_TERMINAL_STATUSES: frozenset[str] = frozenset({"success", "failed", "cancelled"})


class BackgroundJob(ReadModel):
    """An asynchronous job. ``status``: pending, in-progress, success, failed, draining, paused, cancelled."""

    id: str | None = None
    workspace_id: str | None = None
    user_id: str | None = None
    type: str | None = None
    entity_id: str | None = None
    entity_type: str | None = None
    data: dict[str, Any] | None = None
    progress: float | None = None
    status: str | None = None
    created_at: str | None = None
    updated_at: str | None = None

    @property
    def is_terminal(self) -> bool:
        return self.status in JOB_TERMINAL_STATUSES
