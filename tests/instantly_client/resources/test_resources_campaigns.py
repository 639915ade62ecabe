"""client.campaigns: list (query cursor), create, find by id or exact name."""

import json

import httpx
import pytest

from instantly_client import AmbiguousNameError, CampaignIn, NotFoundError, ValidationError

UUID = "0199c0de-0000-7000-8000-000000000001"


def page(*names, cursor=None):
    items = [{"id": f"id-{i}-{n}", "name": n, "status": 1} for i, n in enumerate(names)]
    return httpx.Response(200, json={"items": items, **({"next_starting_after": cursor} if cursor else {})})


def test_list_puts_limit_cursor_and_filters_in_the_query(make_client, script_factory):
    script = script_factory(page("A", "B", cursor="id-1-B"), page("C"))
    names = [c.name for c in make_client(script).campaigns.list(search="Q", status=1, limit=2)]
    assert names == ["A", "B", "C"]
    first, second = (dict(r.url.params.multi_items()) for r in script.requests)
    assert first == {"search": "Q", "status": "1", "limit": "2"}
    assert second == {"search": "Q", "status": "1", "limit": "2", "starting_after": "id-1-B"}
    assert all(r.content == b"" for r in script.requests)


def test_create_validates_and_posts_the_campaign(make_client, script_factory):
    script = script_factory(httpx.Response(200, json={"id": "c1", "name": "Q3", "status": 0}))
    campaign = CampaignIn.model_validate(
        {
            "name": "Q3",
            "campaign_schedule": {
                "schedules": [
                    {
                        "name": "W",
                        "timing": {"from": "09:00", "to": "17:00"},
                        "days": {"1": True},
                        "timezone": "America/Detroit",
                    }
                ]
            },
            "daily_limit": 50,
            "stop_on_reply": True,
        }
    )
    created = make_client(script).campaigns.create(campaign)
    assert created.status_label == "Draft"
    sent = json.loads(script.requests[0].content)
    assert sent["campaign_schedule"]["schedules"][0]["timing"] == {"from": "09:00", "to": "17:00"}
    assert sent["daily_limit"] == 50 and sent["stop_on_reply"] is True


def test_create_rejects_a_dict_with_an_unknown_field_before_sending(make_client, script_factory):
    script = script_factory()
    with pytest.raises(ValidationError, match="invalid campaign"):
        make_client(script).campaigns.create({"name": "x", "campaign_schedule": {"schedules": []}})
    assert script.requests == []


def test_update_patches_only_given_fields(make_client, script_factory):
    script = script_factory(httpx.Response(200, json={"id": "c1"}))
    make_client(script).campaigns.update("c1", {"daily_limit": 10})
    req = script.requests[0]
    assert (req.method, req.url.path, json.loads(req.content)) == (
        "PATCH",
        "/api/v2/campaigns/c1",
        {"daily_limit": 10},
    )


def test_duplicate_with_a_name_sends_it(make_client, script_factory):
    script = script_factory(httpx.Response(200, json={"id": "c2"}))
    make_client(script).campaigns.duplicate("c1", name="Copy")
    assert json.loads(script.requests[0].content) == {"name": "Copy"}


def test_find_by_uuid_gets_the_campaign(make_client, script_factory):
    script = script_factory(httpx.Response(200, json={"id": UUID, "name": "Q3"}))
    assert make_client(script).campaigns.find(UUID).name == "Q3"
    assert script.requests[0].url.path == f"/api/v2/campaigns/{UUID}"


def test_find_by_unknown_uuid_names_it_in_not_found(make_client, script_factory):
    script = script_factory(httpx.Response(404, json={"message": "Resource not found"}))
    with pytest.raises(NotFoundError, match=UUID):
        make_client(script).campaigns.find(UUID)


def test_find_by_name_picks_the_exact_match_among_search_results(make_client, script_factory):
    script = script_factory(page("Q3 launch", "Q3", "q3"))
    assert make_client(script).campaigns.find("Q3").id == "id-1-Q3"
    assert script.requests[0].url.params["search"] == "Q3"


def test_find_by_name_raises_not_found_naming_the_campaign(make_client, script_factory):
    script = script_factory(page("Q3 launch"))
    with pytest.raises(NotFoundError, match="no campaign named 'Q3'"):
        make_client(script).campaigns.find("Q3")


def test_find_by_ambiguous_name_raises_and_lists_the_ids(make_client, script_factory):
    script = script_factory(page("Q3", "Q3"))
    with pytest.raises(AmbiguousNameError, match="id-0-Q3, id-1-Q3"):
        make_client(script).campaigns.find("Q3")


def test_find_by_a_misspelt_name_offers_the_first_page_of_names(make_client, script_factory):
    # The API's search matches substrings: 'Q3 founder outreach' finds nothing, so the names come from an
    # unfiltered page, for the caller's "did you mean".
    script = script_factory(page(), page("Q3 founders outreach", "Other"))
    with pytest.raises(NotFoundError, match="no campaign named 'Q3 founder outreach'") as caught:
        make_client(script).campaigns.find("Q3 founder outreach")
    assert caught.value.near_names == ("Q3 founders outreach", "Other")
    assert script.requests[0].url.params["search"] == "Q3 founder outreach"
    assert "search" not in script.requests[1].url.params
