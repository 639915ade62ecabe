"""Pure planning of the pull: lead scan chains, date windows, thread counts, watermarks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tasks.pull_plan import (
    EMAIL_WATERMARK_OVERLAP,
    ScanChain,
    api_today,
    chain_size,
    chunk,
    daily_window,
    email_since,
    page_limit,
    plan_chains,
    worker_count,
)

IDS = [f"id{i:03d}" for i in range(10)]


@pytest.mark.parametrize(
    ("known", "per_chain", "expected"),
    [
        ([], 3, [(None, None)]),
        (IDS[:3], 3, [(None, None)]),
        (IDS[:4], 3, [(None, "id002"), ("id002", None)]),
        (IDS, 3, [(None, "id002"), ("id002", "id005"), ("id005", "id008"), ("id008", None)]),
        (IDS, 5, [(None, "id004"), ("id004", None)]),
        (list(reversed(IDS)) + IDS, 5, [(None, "id004"), ("id004", None)]),
        (IDS, 1, [(None, "id000"), *[(f"id{i:03d}", f"id{i + 1:03d}") for i in range(8)], ("id008", None)]),
    ],
)
def test_plan_chains_cuts_the_id_range_into_contiguous_slices(known, per_chain, expected):
    chains = plan_chains("c1", known, leads_per_chain=per_chain)
    assert [(c.after, c.until) for c in chains] == expected
    assert [c.index for c in chains] == list(range(len(expected)))


def test_every_id_falls_in_exactly_one_chain():
    chains = plan_chains("c1", IDS[::2], leads_per_chain=2)
    for lead_id in [*IDS, "a", "zzz"]:
        assert sum(c.holds(lead_id) for c in chains) == 1


@pytest.mark.parametrize(
    ("chain", "lead_id", "holds", "past_end"),
    [
        (ScanChain("c", 0, None, "m"), "a", True, False),
        (ScanChain("c", 0, None, "m"), "m", True, False),
        (ScanChain("c", 0, None, "m"), "n", False, True),
        (ScanChain("c", 1, "m", None), "m", False, False),
        (ScanChain("c", 1, "m", None), "z", True, False),
    ],
)
def test_chain_bounds_are_exclusive_below_and_inclusive_above(chain, lead_id, holds, past_end):
    assert chain.holds(lead_id) is holds
    assert chain.is_past_end(lead_id) is past_end


def test_plan_chains_rejects_a_chain_size_below_one():
    with pytest.raises(ValueError):
        plan_chains("c", IDS, leads_per_chain=0)


def test_chunk_splits_ids_in_pages_of_at_most_100():
    ids = [str(i) for i in range(250)]
    assert [len(c) for c in chunk(ids)] == [100, 100, 50]
    assert chunk([]) == []


@pytest.mark.parametrize(
    ("rate", "latency", "tasks", "expected"),
    [
        (50, 0.3, 100, 30),  # ceil(50 * 0.3 * 2)
        (50, 0.5, 100, 50),
        (100, 2.0, 1000, 64),  # capped
        (50, 0.5, 3, 3),  # never more threads than tasks
        (50, None, 100, 20),  # no latency seen yet: the 200 ms floor
        (50, 0.005, 100, 20),  # a fast first call does not shrink the pool below the floor
        (1, 0.01, 100, 1),
    ],
)
def test_worker_count_follows_littles_law_with_headroom(rate, latency, tasks, expected):
    assert worker_count(rate, latency, tasks=tasks) == expected


AS_OF = date(2026, 3, 20)


@pytest.mark.parametrize(
    ("created", "last_end", "since", "expected"),
    [
        (date(2026, 1, 5), None, None, (date(2026, 1, 5), AS_OF)),  # first sync: backfill from creation
        (None, None, None, (AS_OF - timedelta(days=14), AS_OF)),
        (date(2026, 1, 5), date(2026, 3, 19), None, (date(2026, 3, 5), AS_OF)),  # look-back window
        (date(2026, 3, 10), date(2026, 3, 19), None, (date(2026, 3, 10), AS_OF)),  # not before creation
        (date(2026, 1, 5), date(2026, 3, 19), date(2025, 12, 1), (date(2025, 12, 1), AS_OF)),  # --since
        (
            date(2026, 1, 5),
            date(2026, 4, 30),
            None,
            (date(2026, 3, 6), AS_OF),
        ),  # a checkpoint "in the future"
        (date(2026, 4, 1), None, None, (AS_OF, AS_OF)),  # start never after the end
    ],
)
def test_daily_window_backfills_first_then_re_pulls_the_look_back(created, last_end, since, expected):
    assert (
        daily_window(created=created, last_end=last_end, as_of=AS_OF, lookback_days=14, since=since)
        == expected
    )


def test_api_today_is_the_later_of_our_clock_and_the_apis_newest_timestamp():
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    assert api_today([None], now) == date(2026, 3, 1)
    assert api_today([now - timedelta(days=3)], now) == date(2026, 3, 1)
    assert api_today([now + timedelta(days=21), None], now) == date(2026, 3, 22)


def test_email_since_overlaps_the_watermark_and_honours_an_earlier_since():
    mark = datetime(2026, 3, 1, 12, tzinfo=UTC)
    assert email_since(None) is None
    assert email_since(mark) == mark - EMAIL_WATERMARK_OVERLAP
    assert email_since(mark, date(2026, 2, 1)) == datetime(2026, 2, 1, tzinfo=UTC)
    assert email_since(mark, date(2026, 3, 5)) == mark - EMAIL_WATERMARK_OVERLAP
    assert email_since(None, date(2026, 2, 1)) == datetime(2026, 2, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("chain", "cursor", "expected"),
    [
        (ScanChain("c", 0, None, "id004"), None, 5 + 5),  # id000..id004 ahead, plus slack
        (ScanChain("c", 0, None, "id004"), "id002", 2 + 5),
        (ScanChain("c", 1, "id004", "id009"), None, 5 + 5),
        (ScanChain("c", 1, "id004", "id009"), "id009", 0 + 5),  # unknown leads may still follow
        (ScanChain("c", 2, "id009", None), "id009", 100),  # open-ended: full pages
    ],
)
def test_page_limit_sizes_the_page_to_the_known_leads_left_in_the_slice(chain, cursor, expected):
    assert page_limit(chain, IDS, cursor) == expected


def test_page_limit_never_exceeds_a_full_page():
    many = [f"id{i:05d}" for i in range(1000)]
    assert page_limit(ScanChain("c", 0, None, "id00999"), many, None) == 100


@pytest.mark.parametrize(
    ("known", "workers", "cap", "expected"),
    [
        (96_000, 20, 2000, 1200),  # 4 chains per thread
        (100_000, 20, 2000, 1300),  # ... rounded up to whole pages (1,250 would cost 13 pages, like 1,300)
        (1_000_000, 20, 2000, 2000),  # capped
        (2_000, 20, 2000, 300),  # never below the minimum
        (0, 20, 2000, 2000),
        (2_000, 20, 100, 100),  # an explicit cap below the minimum wins
    ],
)
def test_chain_size_aims_at_a_few_chains_per_thread(known, workers, cap, expected):
    assert chain_size(known, workers, cap=cap) == expected
