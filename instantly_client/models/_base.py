"""Base classes: tolerant read models, strict write models."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class ReadModel(BaseModel):
    """A model of something the API returns: unknown fields are kept, every field is optional."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class WriteModel(BaseModel):
    """A model of something we send: unknown fields are rejected before they reach the API."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def to_body(self) -> dict[str, Any]:
        """The JSON body: the fields that were set (explicit ``None`` included), by API name."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)
