"""Staged pages and cursor checkpoints on disk, so an interrupted sync resumes where it stopped.

The sync holds DuckDB's write lock only while it loads, so pages fetched from the API wait on disk, beside
the warehouse file (a DuckLake: under ~/.cache/ops-instantly), until the load:
`<warehouse>.sync/<workspace digest>/<stream>/<chain>/`. Each chain
(one cursor walk) has numbered page files and a `checkpoint.json` written after each page (atomically,
by rename), holding the cursor to resume from and whether the chain is done. A successful load deletes the
staging folder; a failed or interrupted run leaves it, and the next run resumes each unfinished chain from
its checkpoint and reuses the pages already fetched, unless they are older than `max_age`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from warehouse.ledger_snapshot import remove_empty

DEFAULT_MAX_AGE_SECONDS = 6 * 3600
_SAFE = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(frozen=True)
class Checkpoint:
    """Where a chain stands: pages staged so far, the cursor to continue from, and whether it finished."""

    pages: int = 0
    cursor: str | None = None
    done: bool = False


class Staging:
    """A folder of staged pages for one workspace.

    Args:
        root: the folder (created on first write).
        max_age: seconds after which an unfinished run's pages are discarded instead of resumed.
    """

    def __init__(
        self, root: Path, *, max_age: float = DEFAULT_MAX_AGE_SECONDS, state_dir: Path | None = None
    ) -> None:
        self.root = Path(root)
        self.max_age = max_age
        self.state_dir = state_dir  # the warehouse's state folder: `clear` removes it once it is empty

    @classmethod
    def for_warehouse(cls, state_dir: Path, workspace_key: str, **kwargs: Any) -> Staging:
        """The staging folder of `workspace_key` in the warehouse's local state folder (`Warehouse.state_dir`:
        `<file>.sync` beside a warehouse file)."""
        digest = hashlib.sha256(workspace_key.encode()).hexdigest()[:12]
        return cls(Path(state_dir) / digest, state_dir=Path(state_dir), **kwargs)

    def open(self, run_id: str) -> str | None:
        """Start using the folder for `run_id`; returns the id of the earlier run being resumed, if any."""
        meta_path = self.root / "meta.json"
        resumed = None
        if meta_path.exists():
            try:
                meta = json.loads(meta_path.read_text())
            except ValueError:
                meta = {}
            if time.time() - float(meta.get("started", 0)) <= self.max_age:
                resumed = meta.get("run_id")
            else:
                self.clear()
        if resumed is None:
            try:
                self.root.mkdir(parents=True, exist_ok=True)
            except FileNotFoundError:
                # A push removed the warehouse's empty state folder between the two mkdirs
                # (warehouse/ledger_snapshot.py remove_empty): once more; the folder is ours from here on.
                self.root.mkdir(parents=True, exist_ok=True)
            _write_json(meta_path, {"run_id": run_id, "started": time.time()})
        return resumed

    def checkpoint(self, stream: str, chain: str) -> Checkpoint:
        """The chain's checkpoint (a fresh one when it has none)."""
        path = self._chain_dir(stream, chain) / "checkpoint.json"
        if not path.exists():
            return Checkpoint()
        data = json.loads(path.read_text())
        return Checkpoint(pages=int(data["pages"]), cursor=data.get("cursor"), done=bool(data.get("done")))

    def save_page(
        self, stream: str, chain: str, items: list[dict[str, Any]], cursor: str | None
    ) -> Checkpoint:
        """Stage one page and move the chain's checkpoint past it."""
        folder = self._chain_dir(stream, chain)
        folder.mkdir(parents=True, exist_ok=True)
        done = self.checkpoint(stream, chain)
        number = done.pages + 1
        _write_json(folder / f"page-{number:06d}.json", items)
        checkpoint = Checkpoint(pages=number, cursor=cursor, done=False)
        self._write_checkpoint(folder, checkpoint)
        return checkpoint

    def finish(self, stream: str, chain: str) -> None:
        """Mark the chain complete: a resumed run will not walk it again."""
        folder = self._chain_dir(stream, chain)
        folder.mkdir(parents=True, exist_ok=True)
        current = self.checkpoint(stream, chain)
        self._write_checkpoint(folder, Checkpoint(pages=current.pages, cursor=current.cursor, done=True))

    def items(self, stream: str) -> Iterator[dict[str, Any]]:
        """Every staged item of `stream`, chain by chain, page by page (pages past a checkpoint ignored)."""
        base = self.root / stream
        if not base.is_dir():
            return
        for folder in sorted(p for p in base.iterdir() if p.is_dir()):
            yield from self.chain_items(stream, folder.name)

    def chain_items(self, stream: str, chain: str) -> Iterator[dict[str, Any]]:
        """The staged items of one chain, page by page, up to its checkpoint."""
        folder = self._chain_dir(stream, chain)
        for number in range(1, self.checkpoint(stream, chain).pages + 1):
            yield from json.loads((folder / f"page-{number:06d}.json").read_text())

    def clear(self) -> None:
        """Delete every staged page and checkpoint (after a successful load), and the warehouse's state
        folder when nothing else is left in it (no empty `<warehouse>.sync/` after a sync)."""
        shutil.rmtree(self.root, ignore_errors=True)
        if self.state_dir is not None:
            remove_empty(self.state_dir)

    def _chain_dir(self, stream: str, chain: str) -> Path:
        return self.root / _SAFE.sub("_", stream) / _SAFE.sub("_", chain)

    def _write_checkpoint(self, folder: Path, checkpoint: Checkpoint) -> None:
        _write_json(
            folder / "checkpoint.json",
            {"pages": checkpoint.pages, "cursor": checkpoint.cursor, "done": checkpoint.done},
        )


def _write_json(path: Path, value: Any) -> None:
    """Write atomically: a reader (or a crash) never sees half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(value, separators=(",", ":"), default=str))
    os.replace(tmp, path)
