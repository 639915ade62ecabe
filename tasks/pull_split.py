"""The leads pull's plan of chains, saved for a resumed run, and the split of an open-ended chain.

The open-ended chain of a campaign reads every lead after the last known id. When it has read
`SPLIT_AFTER` leads and more follow, it asks `tasks/pull_sample.py` for real ids further along that run;
the probes run beside the walk, and once they are back the plan is cut there and the walk narrows to the
first slice, while the other slices run on other threads (`tasks/pull_leads.py`).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

from tasks.pull_plan import ScanChain, plan_chains

# Leads an open-ended chain reads before it splits: below that, the probes cost more than they save.
SPLIT_AFTER = 500


class Plan:
    """The chains per campaign, saved so a resumed run walks the same slices its checkpoints belong to."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.saved: dict[str, list[list[str | None]]] = json.loads(path.read_text()) if path.exists() else {}
        self._lock = threading.Lock()

    def load_or_plan(
        self, campaigns: list[str], known: dict[str, list[str]], leads_per_chain: int
    ) -> list[ScanChain]:
        chains: list[ScanChain] = []
        for cid in campaigns:
            if cid not in self.saved:
                planned = plan_chains(cid, known[cid], leads_per_chain=leads_per_chain)
                self.saved[cid] = [[c.after, c.until] for c in planned]
            chains += [ScanChain(cid, i, after, until) for i, (after, until) in enumerate(self.saved[cid])]
        self._write()
        return chains

    def split(self, chain: ScanChain, bounds: list[str]) -> list[ScanChain]:
        """Cut an open-ended chain at `bounds` (sorted, after its cursor): the chain narrowed, then the new ones.

        Saved before any new chain starts: a resumed run finds the narrowed chain's checkpoint under the
        same key and the new chains' under theirs.
        """
        edges = [*bounds, None]
        with self._lock:
            entries = self.saved[chain.campaign_id]
            entries[chain.index] = [chain.after, bounds[0]]
            first = len(entries)
            entries += [[edges[i], edges[i + 1]] for i in range(len(bounds))]
            self._write()
        narrowed = ScanChain(chain.campaign_id, chain.index, chain.after, bounds[0])
        added = [ScanChain(chain.campaign_id, first + i, edges[i], edges[i + 1]) for i in range(len(bounds))]
        return [narrowed, *added]

    def _write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.saved))
        temporary.replace(self.path)


class Split:
    """One open-ended chain's split, called by its walk after each page once `SPLIT_AFTER` leads are read.

    The first call starts the probes (`start(cursor)`, on their own thread); later calls return the chain
    unchanged until they are back, then `cut(chain, bounds)` with the bounds still ahead of the walk's
    cursor. Returns the chain to walk on, and whether the split is over (one split per walk).
    """

    def __init__(
        self,
        start: Callable[[str], Future[list[str]]],
        cut: Callable[[ScanChain, list[str]], ScanChain],
    ) -> None:
        self._start = start
        self._cut = cut
        self._probes: Future[list[str]] | None = None

    def __call__(self, chain: ScanChain, cursor: str) -> tuple[ScanChain, bool]:
        if self._probes is None:
            self._probes = self._start(cursor)
            return chain, False
        if not self._probes.done():
            return chain, False
        ahead = [bound for bound in self._probes.result() if bound > cursor]
        return (self._cut(chain, ahead) if ahead else chain), True
