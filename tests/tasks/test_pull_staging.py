"""Staged pages and cursor checkpoints: what an interrupted sync resumes from."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from tasks.pull_staging import Checkpoint, Staging
from warehouse.db import Warehouse


def test_pages_and_checkpoints_round_trip(tmp_path):
    staging = Staging(tmp_path / "s")
    assert staging.open("run-1") is None
    assert staging.checkpoint("leads", "c1.0000") == Checkpoint()
    staging.save_page("leads", "c1.0000", [{"id": "a"}], "a")
    staging.save_page("leads", "c1.0000", [{"id": "b"}], None)
    staging.finish("leads", "c1.0000")
    staging.save_page("leads", "c2.0000", [{"id": "z"}], "z")
    assert staging.checkpoint("leads", "c1.0000") == Checkpoint(pages=2, cursor=None, done=True)
    assert staging.checkpoint("leads", "c2.0000") == Checkpoint(pages=1, cursor="z", done=False)
    assert [i["id"] for i in staging.items("leads")] == ["a", "b", "z"]
    assert list(staging.items("emails")) == []


def test_a_reopened_folder_resumes_the_earlier_run(tmp_path):
    Staging(tmp_path / "s").open("run-1")
    assert Staging(tmp_path / "s").open("run-2") == "run-1"


def test_pages_past_the_checkpoint_are_ignored(tmp_path):
    staging = Staging(tmp_path / "s")
    staging.open("run-1")
    staging.save_page("leads", "c1.0000", [{"id": "a"}], "a")
    # A crash after writing page 2 but before moving the checkpoint past it:
    (tmp_path / "s" / "leads" / "c1.0000" / "page-000002.json").write_text(json.dumps([{"id": "b"}]))
    assert [i["id"] for i in staging.items("leads")] == ["a"]


def test_old_staging_is_discarded_not_resumed(tmp_path):
    staging = Staging(tmp_path / "s", max_age=60)
    staging.open("run-1")
    staging.save_page("leads", "c1.0000", [{"id": "a"}], "a")
    meta = tmp_path / "s" / "meta.json"
    meta.write_text(json.dumps({"run_id": "run-1", "started": time.time() - 3600}))
    assert Staging(tmp_path / "s", max_age=60).open("run-2") is None
    assert list(staging.items("leads")) == []


def test_staging_lives_beside_the_warehouse_per_workspace(tmp_path):
    state = Warehouse(tmp_path / "w.duckdb").state_dir
    a = Staging.for_warehouse(state, "https://api#abc")
    b = Staging.for_warehouse(state, "https://api#def")
    assert a.root.parent == tmp_path / "w.duckdb.sync"
    assert a.root != b.root


def test_a_lake_stages_in_a_local_folder_of_its_own_without_the_password():
    one = Warehouse("ducklake:postgres:dbname=a host=h user=u password=p1").state_dir
    other = Warehouse("ducklake:postgres:dbname=b host=h user=u").state_dir
    assert one != other and "p1" not in str(one)
    assert one.parent == Path.home() / ".cache" / "ops-instantly"


def test_clear_removes_everything(tmp_path):
    staging = Staging(tmp_path / "s")
    staging.open("r")
    staging.save_page("emails", "received", [{"id": "e"}], None)
    staging.clear()
    assert not os.path.exists(tmp_path / "s")


def test_clearing_the_last_workspace_staging_removes_the_empty_state_folder(tmp_path):
    state = Warehouse(tmp_path / "w.duckdb").state_dir
    a = Staging.for_warehouse(state, "https://api#abc")
    b = Staging.for_warehouse(state, "https://api#def")
    for staging in (a, b):
        staging.open("r")
        staging.save_page("leads", "c1.0000", [{"id": "x"}], None)
    a.clear()
    assert state.is_dir() and not a.root.exists()  # b's pages are still there
    b.clear()
    assert not state.exists()  # no empty `w.duckdb.sync/` left beside the warehouse
