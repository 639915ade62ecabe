"""client.leads: bulk add, list (body cursor), per-lead calls, move."""

import json

import httpx
import pytest

from instantly_client import BackgroundJob, BulkAddSummary, InstantlyError, LeadIn, LeadPatch, ValidationError


def body_of(request):
    return json.loads(request.content)


ADD_OK = httpx.Response(
    200,
    json={
        "status": "success",
        "total_sent": 2,
        "leads_uploaded": 2,
        "created_leads": [{"index": 0, "id": "l1", "email": "a@b.co"}, {"index": 1, "id": "l2"}],
    },
)


def test_add_sends_the_documented_field_names(make_client, script_factory):
    script = script_factory(ADD_OK)
    result = make_client(script).leads.add(
        campaign_id="c1",
        leads=[
            LeadIn(email="a@b.co", first_name="Ada", custom_variables={"tier": "gold", "seats": 5}),
            {"email": "b@b.co", "company_name": "Acme"},
        ],
        skip_if_in_campaign=True,
        skip_if_in_workspace=False,
        verify_leads_on_import=False,
        blocklist_id="bl1",
    )
    req = script.requests[0]
    assert (req.method, req.url.path) == ("POST", "/api/v2/leads/add")
    assert body_of(req) == {
        "campaign_id": "c1",
        "leads": [
            {"email": "a@b.co", "first_name": "Ada", "custom_variables": {"tier": "gold", "seats": 5}},
            {"email": "b@b.co", "company_name": "Acme"},
        ],
        "skip_if_in_campaign": True,
        "skip_if_in_workspace": False,
        "verify_leads_on_import": False,
        "blocklist_id": "bl1",
    }
    assert [c.index for c in result.created_leads] == [0, 1]


def test_add_encoded_sends_the_encoded_leads_and_parses_the_answer(make_client, script_factory):
    script = script_factory(ADD_OK)
    result = make_client(script).leads.add_encoded(
        campaign_id="c1",
        leads=['{"email":"a@b.co"}', '{"email":"b@b.co","first_name":"Bo"}'],
        skip_if_in_campaign=True,
    )
    assert body_of(script.requests[0]) == {
        "leads": [{"email": "a@b.co"}, {"email": "b@b.co", "first_name": "Bo"}],
        "campaign_id": "c1",
        "skip_if_in_campaign": True,
    }
    assert isinstance(result, BulkAddSummary)
    assert result.created_leads == [{"index": 0, "id": "l1"}, {"index": 1, "id": "l2"}]
    assert (result.total_sent, result.leads_uploaded) == (2, 2)


def test_add_encoded_says_so_when_a_200_answer_is_not_json(make_client, script_factory):
    script = script_factory(httpx.Response(200, content=b"<html>oops</html>"))
    with pytest.raises(InstantlyError, match="not JSON") as caught:
        make_client(script).leads.add_encoded(campaign_id="c1", leads=['{"email":"a@b.co"}'])
    assert caught.value.status_code == 200


def test_add_to_a_list_uses_list_id(make_client, script_factory):
    script = script_factory(ADD_OK)
    make_client(script).leads.add(list_id="L1", leads=[{"first_name": "Ada"}])
    assert body_of(script.requests[0]) == {"list_id": "L1", "leads": [{"first_name": "Ada"}]}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"campaign_id": "c1", "leads": []}, "1 to 1000"),
        ({"campaign_id": "c1", "leads": [{"email": f"{i}@x.co"} for i in range(1001)]}, "1 to 1000"),
        ({"leads": [{"email": "a@b.co"}]}, "exactly one of campaign_id or list_id"),
        ({"campaign_id": "c1", "list_id": "L1", "leads": [{"email": "a@b.co"}]}, "exactly one"),
        ({"campaign_id": "c1", "leads": [{"email": "a@b.co", "city": "Oslo"}]}, "lead at index 0"),
        (
            {"campaign_id": "c1", "leads": [{"email": "a@b.co", "custom_variables": {"x": {}}}]},
            "custom_variables",
        ),
    ],
)
def test_add_rejects_bad_batches_before_sending(make_client, script_factory, kwargs, message):
    script = script_factory(ADD_OK)
    with pytest.raises(ValidationError, match=message):
        make_client(script).leads.add(**kwargs)
    assert script.requests == []


def test_add_accepts_exactly_1000_leads(make_client, script_factory):
    script = script_factory(ADD_OK)
    make_client(script).leads.add(campaign_id="c1", leads=[{"email": f"{i}@x.co"} for i in range(1000)])
    assert len(body_of(script.requests[0])["leads"]) == 1000


def test_list_puts_filters_limit_and_cursor_in_the_body_not_the_query(make_client, script_factory):
    script = script_factory(
        httpx.Response(200, json={"items": [{"id": "l1"}, {"id": "l2"}], "next_starting_after": "l2"}),
        httpx.Response(200, json={"items": [{"id": "l3"}], "next_starting_after": "l3"}),
        httpx.Response(200, json={"items": [], "next_starting_after": "l3"}),
    )
    leads = list(make_client(script).leads.list(campaign="c1", filter="FILTER_VAL_CONTACTED", limit=2))
    assert [lead.id for lead in leads] == ["l1", "l2", "l3"]
    bodies = [body_of(r) for r in script.requests]
    assert bodies == [
        {"campaign": "c1", "filter": "FILTER_VAL_CONTACTED", "limit": 2},
        {"campaign": "c1", "filter": "FILTER_VAL_CONTACTED", "limit": 2, "starting_after": "l2"},
        {"campaign": "c1", "filter": "FILTER_VAL_CONTACTED", "limit": 2, "starting_after": "l3"},
    ]
    assert all(r.method == "POST" and r.url.query == b"" for r in script.requests)


def test_pages_expose_the_cursor_for_checkpoints(make_client, script_factory):
    script = script_factory(
        httpx.Response(200, json={"items": [{"id": "l9"}], "next_starting_after": "l9"}),
        httpx.Response(200, json={"items": []}),
    )
    pages = list(make_client(script).leads.pages(list_id="L1", starting_after="l8"))
    assert [(p.next_starting_after, [x.id for x in p.items]) for p in pages] == [("l9", ["l9"])]
    assert body_of(script.requests[0])["starting_after"] == "l8"


def test_list_refuses_campaign_id_because_the_endpoint_calls_it_campaign(make_client, script_factory):
    script = script_factory()
    with pytest.raises(ValidationError, match="`campaign`"):
        list(make_client(script).leads.list(campaign_id="c1"))
    assert script.requests == []


@pytest.mark.parametrize("limit", [0, 101])
def test_page_limit_must_be_1_to_100(make_client, script_factory, limit):
    with pytest.raises(ValidationError):
        list(make_client(script_factory()).leads.pages(limit=limit))


def test_get_update_delete(make_client, script_factory):
    script = script_factory(*(httpx.Response(200, json={"id": "l1", "first_name": "Ada"}) for _ in range(3)))
    client = make_client(script)
    assert client.leads.get("l1").first_name == "Ada"
    client.leads.update("l1", LeadPatch(lt_interest_status=1, custom_variables={"x": True}))
    client.leads.delete("l1")
    get, patch, delete = script.requests
    assert (get.method, get.url.path) == ("GET", "/api/v2/leads/l1")
    assert (patch.method, patch.url.path) == ("PATCH", "/api/v2/leads/l1")
    assert body_of(patch) == {"lt_interest_status": 1, "custom_variables": {"x": True}}
    assert (delete.method, delete.content) == ("DELETE", b"")


def test_update_rejects_an_empty_patch(make_client, script_factory):
    with pytest.raises(ValidationError):
        make_client(script_factory()).leads.update("l1", {})


def test_ids_are_quoted_into_a_single_path_segment(make_client, script_factory):
    script = script_factory(httpx.Response(200, json={}))
    make_client(script).leads.get("../campaigns")
    assert script.requests[0].url.raw_path == b"/api/v2/leads/..%2Fcampaigns"


def test_update_interest_status_sends_campaign_id_and_allows_null_reset(make_client, script_factory):
    script = script_factory(httpx.Response(202, json={"message": "accepted"}))
    result = make_client(script).leads.update_interest_status(
        lead_email="a@b.co", interest_value=None, campaign_id="c1"
    )
    assert result == {"message": "accepted"}
    assert body_of(script.requests[0]) == {
        "lead_email": "a@b.co",
        "interest_value": None,
        "campaign_id": "c1",
    }


def test_move_returns_a_background_job_and_validates_its_arguments(make_client, script_factory):
    job = {"id": "j1", "status": "pending", "type": "move-leads", "progress": 0}
    script = script_factory(httpx.Response(200, json=job))
    client = make_client(script)
    result = client.leads.move(to_list_id="L2", campaign="c1", ids=["l1"], copy_leads=True)
    assert isinstance(result, BackgroundJob) and result.id == "j1"
    assert body_of(script.requests[0]) == {
        "to_list_id": "L2",
        "campaign": "c1",
        "ids": ["l1"],
        "copy_leads": True,
    }
    with pytest.raises(ValidationError, match="source"):
        client.leads.move(to_list_id="L2", ids=["l1"])
    with pytest.raises(ValidationError, match="exactly one"):
        client.leads.move(campaign="c1")
    assert len(script.requests) == 1
