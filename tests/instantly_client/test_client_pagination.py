"""The single cursor iterator: stop rules, and where the cursor goes (query vs body)."""

import pytest

from instantly_client._pagination import Page, iter_pages, next_cursor, parse_page


@pytest.mark.parametrize(
    ("count", "returned", "sent", "expected"),
    [
        (100, "c2", "c1", "c2"),
        (100, "c1", None, "c1"),
        (0, "c2", "c1", None),  # empty page even with a cursor present
        (100, None, "c1", None),  # missing cursor
        (100, "", "c1", None),
        (100, "c1", "c1", None),  # cursor did not advance
    ],
)
def test_next_cursor_stop_rules(count, returned, sent, expected):
    assert next_cursor(item_count=count, returned=returned, sent=sent) == expected


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"items": [1, 2], "next_starting_after": "c"}, ([1, 2], "c")),
        ({"items": [1]}, ([1], None)),
        ({}, ([], None)),
        ([1, 2], ([1, 2], None)),
        (None, ([], None)),
    ],
)
def test_parse_page_tolerates_odd_shapes(payload, expected):
    assert parse_page(payload) == expected


class FakeAPI:
    def __init__(self, pages):
        self.pages = list(pages)
        self.calls = []

    def __call__(self, method, path, params, body):
        self.calls.append((method, path, params, body))
        return self.pages.pop(0)


def collect(api, **kw):
    kw.setdefault("cursor_in", "query")
    return list(iter_pages(api, "GET", "/campaigns", parse_item=lambda x: x, **kw))


def test_stops_when_cursor_present_but_items_empty():
    api = FakeAPI([{"items": [1, 2], "next_starting_after": "b"}, {"items": [], "next_starting_after": "c"}])
    pages = collect(api)
    assert pages == [Page([1, 2], "b")]
    assert len(api.calls) == 2


def test_stops_when_cursor_missing():
    api = FakeAPI([{"items": [1], "next_starting_after": "a"}, {"items": [2]}])
    assert [p.items for p in collect(api)] == [[1], [2]]
    assert len(api.calls) == 2


def test_stops_when_cursor_repeats():
    api = FakeAPI([{"items": [1], "next_starting_after": "a"}, {"items": [2], "next_starting_after": "a"}])
    assert [p.items for p in collect(api)] == [[1], [2]]
    assert len(api.calls) == 2


def test_query_cursor_goes_in_params_and_filters_drop_none():
    api = FakeAPI([{"items": [1], "next_starting_after": "a"}, {"items": []}])
    collect(api, filters={"search": "x", "status": None}, limit=50)
    assert api.calls[0] == ("GET", "/campaigns", {"search": "x", "limit": 50}, None)
    assert api.calls[1] == ("GET", "/campaigns", {"search": "x", "limit": 50, "starting_after": "a"}, None)


def test_body_cursor_goes_in_the_json_body():
    api = FakeAPI([{"items": [1], "next_starting_after": "a"}, {"items": []}])
    list(
        iter_pages(
            api, "POST", "/leads/list", parse_item=lambda x: x, cursor_in="body", filters={"campaign": "c"}
        )
    )
    assert api.calls[0] == ("POST", "/leads/list", None, {"campaign": "c", "limit": 100})
    assert api.calls[1] == (
        "POST",
        "/leads/list",
        None,
        {"campaign": "c", "limit": 100, "starting_after": "a"},
    )


def test_resumes_from_a_checkpoint_cursor():
    api = FakeAPI([{"items": [3]}])
    collect(api, starting_after="saved")
    assert api.calls[0][2]["starting_after"] == "saved"


def test_is_lazy_and_fetches_nothing_until_iterated():
    api = FakeAPI([])
    iterator = iter_pages(api, "GET", "/x", parse_item=lambda x: x, cursor_in="query")
    assert api.calls == []
    del iterator
