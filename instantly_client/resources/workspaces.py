"""``client.workspaces``: SPEC ``GET /api/v2/workspaces/current``."""

from __future__ import annotations

from ..models.workspace import Workspace
from ._base import Resource

__all__ = ["Workspaces"]


class Workspaces(Resource):
    """The workspace of the API key (or of the ``x-as-workspace`` header)."""

    def current(self) -> Workspace:
        """``GET /workspaces/current``: "the workspace based on the API key sent in the headers" (SPEC).

        Raises:
            AuthenticationError: the key is refused.
            PermissionDeniedError: the key lacks the ``workspaces:read`` scope.
        """
        return Workspace.model_validate(self._request("GET", "/workspaces/current"))
