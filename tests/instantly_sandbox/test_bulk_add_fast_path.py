"""The bulk add's batched path (ids in batches, leads from a template, batched indexes, orjson, frozen GC)
gives the leads, indexes and responses the lead-by-lead path gave."""

from __future__ import annotations

import gc
import json
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from instantly_sandbox import SandboxServer
from instantly_sandbox._server import decode_json, encode_json
from instantly_sandbox._util import IdFactory
from tests.instantly_sandbox.helpers import make_campaign

LIST_ID = "019ffad2-9c4e-7be6-8364-ed45ac8115bc"
USER_ID = "019ffad2-53a3-7590-935f-b4938179e96d"
LEAD_KEYS = [  # the order the API (and the sandbox before the template) lists a new lead's keys in
    *("id", "timestamp_created", "timestamp_updated", "organization", "campaign", "list_id", "status"),
    *("email", "first_name", "last_name", "company_name", "job_title", "phone", "website", "personalization"),
    *("email_open_count", "email_reply_count", "email_click_count", "company_domain", "status_summary"),
    *("payload", "status_summary_subseq", "last_step_from", "last_step_id", "last_step_timestamp_executed"),
    *("email_opened_step", "email_opened_variant", "email_replied_step", "email_replied_variant"),
    *(
        "email_clicked_step",
        "email_clicked_variant",
        "subsequence_id",
        "verification_status",
        "pl_value_lead",
    ),
    *("timestamp_added_subsequence", "timestamp_last_contact", "timestamp_last_open", "timestamp_last_reply"),
    *("timestamp_last_interest_change", "timestamp_last_click", "last_contacted_from", "uploaded_by_user"),
    *("upload_method", "assigned_to", "is_website_visitor", "timestamp_last_touch", "esp_code", "esg_code"),
]


def test_a_bulk_added_lead_has_every_key_in_order_and_its_own_values(client: httpx.Client):
    campaign = make_campaign(client)
    full = {
        "email": " Ann@Example.com ",
        "first_name": "Ann",
        "last_name": "Lee",
        "company_name": "Ex",
        "job_title": "CTO",
        "phone": "+1",
        "website": "https://www.ex.com/a",
        "personalization": "Hi",
        "custom_variables": {"z": 1, "a": "x", "n": None},
        "lt_interest_status": 2,
        "pl_value_lead": "High",
        "assigned_to": USER_ID,
    }
    body = {"campaign_id": campaign["id"], "leads": [full, {"email": "bob@gmail.com", "first_name": ""}]}
    result = client.post("/leads/add", json=body).json()
    ann, bob = (client.get(f"/leads/{c['id']}").json() for c in result["created_leads"])

    assert list(ann) == [*LEAD_KEYS, "lt_interest_status"]  # set only when given, after the rest
    assert list(bob) == LEAD_KEYS
    assert ann["timestamp_created"] == ann["timestamp_updated"] == bob["timestamp_created"]
    assert {k: ann[k] for k in ("email", "first_name", "phone", "website", "personalization")} == {
        "email": "Ann@Example.com",  # trimmed, case kept
        "first_name": "Ann",
        "phone": "+1",
        "website": "https://www.ex.com/a",
        "personalization": "Hi",
    }
    assert (ann["campaign"], ann["list_id"], ann["status"]) == (campaign["id"], None, 1)
    assert (ann["company_domain"], ann["esp_code"], bob["company_domain"], bob["esp_code"]) == (
        "example.com",
        999,
        "gmail.com",
        1,  # Google mailbox
    )
    assert (ann["pl_value_lead"], ann["assigned_to"], ann["lt_interest_status"]) == ("High", USER_ID, 2)
    assert ann["payload"] == {
        "firstName": "Ann",
        "lastName": "Lee",
        "companyName": "Ex",
        "jobTitle": "CTO",
        "website": "https://www.ex.com/a",
        "phone": "+1",
        "personalization": "Hi",
        "z": 1,
        "a": "x",
        "n": None,
    }
    assert list(ann["payload"]) == [  # the core copies in their fixed order, then the custom variables
        *("firstName", "lastName", "companyName", "jobTitle", "website", "phone", "personalization"),
        *("z", "a", "n"),
    ]
    assert bob["payload"] == {"firstName": ""} and bob["last_name"] is None
    assert ann["status_summary"] == {} and ann["status_summary_subseq"] == {}


def test_leads_of_one_bulk_add_do_not_share_their_mutable_fields(
    sandbox: SandboxServer, client: httpx.Client
):
    campaign = make_campaign(client)
    body = {"campaign_id": campaign["id"], "leads": [{"email": f"m{i}@x.io"} for i in range(3)]}
    ids = [c["id"] for c in client.post("/leads/add", json=body).json()["created_leads"]]
    first, second = (sandbox.state.leads[i] for i in ids[:2])
    assert first["payload"] is not second["payload"]
    client.patch(f"/leads/{ids[0]}", json={"custom_variables": {"only": "first"}})
    assert "only" not in client.get(f"/leads/{ids[1]}").json()["payload"]
    # The status summaries start as one shared empty dict that refuses any change in place ...
    for key in ("status_summary", "status_summary_subseq"):
        with pytest.raises(TypeError):
            first[key]["lastStep"] = {}
        with pytest.raises(TypeError):
            first[key].update(domain_complete=True)
    assert "_firsts" not in first  # ... and the first-event marks are made by the first event
    with sandbox.state.lock:
        sandbox.state.append_event(sandbox.state.now(), "sent", ids[0], campaign["id"], step=0, data={})
    sent, untouched = (client.get(f"/leads/{i}").json() for i in ids[:2])
    assert sent["status_summary"]["lastStep"]["from"] == "campaign"
    assert untouched["status_summary"] == {} and untouched["status_summary_subseq"] == {}
    assert first["_firsts"] and "_firsts" not in second


def test_created_leads_name_each_lead_with_its_index_in_the_request(client: httpx.Client):
    campaign = make_campaign(client)
    leads = [{"email": "a@x.io", "phone": "1"}, {"email": "bad"}, {"email": "b@x.io", "last_name": "B"}]
    created = client.post("/leads/add", json={"campaign_id": campaign["id"], "leads": leads}).json()
    assert [{k: v for k, v in c.items() if k != "id"} for c in created["created_leads"]] == [
        {"email": "a@x.io", "first_name": None, "last_name": None, "phone": "1", "index": 0},
        {"email": "b@x.io", "first_name": None, "last_name": "B", "phone": None, "index": 2},
    ]
    assert [list(c) for c in created["created_leads"]] == [
        ["id", "email", "first_name", "last_name", "phone", "index"]
    ] * 2
    ids = [c["id"] for c in created["created_leads"]]
    assert ids == sorted(ids) and len(set(ids)) == 2


def test_the_email_index_holds_every_lead_of_an_email_until_each_is_deleted(client: httpx.Client):
    campaign = make_campaign(client)
    in_campaign = client.post(
        "/leads/add", json={"campaign_id": campaign["id"], "leads": [{"email": "Same@x.io"}]}
    ).json()["created_leads"][0]["id"]
    in_list = client.post(
        "/leads/add", json={"list_id": LIST_ID, "leads": [{"email": "same@X.io"}, {"email": "other@x.io"}]}
    ).json()["created_leads"][0]["id"]

    def holders() -> list[str]:
        items = client.post("/leads/list", json={"contacts": ["SAME@x.io"]}).json()["items"]
        return [lead["id"] for lead in items]

    assert holders() == sorted([in_campaign, in_list])
    again = client.post("/leads/add", json={"campaign_id": campaign["id"], "leads": [{"email": "same@x.io"}]})
    assert again.json()["duplicated_leads"] == 1  # found through the index
    client.delete(f"/leads/{in_campaign}")
    assert holders() == [in_list]
    client.delete(f"/leads/{in_list}")
    assert holders() == []
    readded = client.post(
        "/leads/add", json={"campaign_id": campaign["id"], "leads": [{"email": "same@x.io"}]}
    )
    assert readded.json()["leads_uploaded"] == 1


def test_the_campaign_learns_custom_variable_names_in_order_of_first_appearance(
    sandbox: SandboxServer, client: httpx.Client
):
    campaign = make_campaign(client)
    leads = [
        {"email": "a@x.io", "custom_variables": {"b": 1, "a": 2}},
        {"email": "b@x.io"},
        {"email": "c@x.io", "custom_variables": {"c": 3, "b": 4}},
    ]
    client.post("/leads/add", json={"campaign_id": campaign["id"], "leads": leads})
    assert list(sandbox.state.campaigns[campaign["id"]]["custom_variables"]) == ["b", "a", "c"]


class _OneAtATime:
    """The id factory as it was written first, one id per call: the reference the batches must equal."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(f"ids-{seed}")
        self.last_ms = self.seq = 0

    def uuid7(self, ms: int) -> str:
        if ms <= self.last_ms:
            ms = self.last_ms
            self.seq += 1
            if self.seq > 0xFFF:
                ms += 1
                self.seq = 0
        else:
            self.seq = self.rng.randrange(0, 0x400)
        self.last_ms = ms
        stamp = f"{ms & 0xFFFFFFFFFFFF:012x}"
        tail = f"{0b10 << 62 | self.rng.getrandbits(62):016x}"
        return f"{stamp[:8]}-{stamp[8:]}-7{self.seq:03x}-{tail[:4]}-{tail[4:]}"


def test_a_batch_of_ids_is_the_ids_one_at_a_time_would_be():
    reference, one, batch = _OneAtATime(5), IdFactory(5), IdFactory(5)
    ms = 1_800_000_000_000
    plan = [(ms, 3), (ms, 5000), (ms - 7, 2), (ms + 9, 1), (ms + 9, 4), (ms + 9, 4095), (ms + 9, 2)]
    plan += [(ms + 20, 4096), (ms + 30, 1000), (ms + 31, 0), (ms + 31, 1)]  # 5,000 and 4,096 overflow seq
    expected = [reference.uuid7(at) for at, n in plan for _ in range(n)]
    singles = [one.uuid7(at) for at, n in plan for _ in range(n)]
    batched = [i for at, n in plan for i in batch.uuid7_many(at, n)]
    assert batched == singles == expected
    assert batch.getstate() == one.getstate() == [reference.last_ms, reference.seq]
    assert batched == sorted(batched) and len(set(batched)) == len(batched)
    assert all(i[14] == "7" and i[19] in "89ab" for i in batched)  # version 7, RFC 4122 variant


def test_numbers_orjson_cannot_hold_round_trip_as_the_json_module_does(client: httpx.Client):
    campaign = make_campaign(client)
    big = 2**70
    raw = json.dumps(
        {"campaign_id": campaign["id"], "leads": [{"email": "big@x.io", "custom_variables": {"n": big}}]}
    )
    created = client.post("/leads/add", content=raw, headers={"Content-Type": "application/json"}).json()
    lead = client.get(f"/leads/{created['created_leads'][0]['id']}").json()
    assert lead["payload"]["n"] == big
    assert decode_json(b'{"a": NaN, "b": 1e400}')["b"] == float("inf")  # what json.loads accepts
    with pytest.raises(ValueError):
        decode_json(b'{"a": ')


def test_responses_are_compact_utf8_json_with_non_string_keys_as_strings():
    assert (
        encode_json({"name": "Zoë", 3: None, "n": [1.5, True]})
        == '{"name":"Zoë","3":null,"n":[1.5,true]}'.encode()
    )
    assert json.loads(encode_json({"n": 2**70})) == {"n": 2**70}


@pytest.mark.parametrize("freeze", [True, False])
def test_a_server_process_freezes_what_each_request_leaves_alive(freeze: bool):
    gc.unfreeze()
    try:
        with SandboxServer(seed=3, freeze_gc=freeze) as server:
            headers = {"Authorization": f"Bearer {server.api_key}"}
            with httpx.Client(base_url=server.base_url, headers=headers) as client:
                campaign = make_campaign(client)
                before = gc.get_freeze_count()
                body = {"campaign_id": campaign["id"], "leads": [{"email": f"f{i}@x.io"} for i in range(200)]}
                client.post("/leads/add", json=body).raise_for_status()
                # the freeze follows the response; the next request on this keep-alive connection waits for it
                client.get(f"/campaigns/{campaign['id']}").raise_for_status()
                frozen = gc.get_freeze_count() - before
                # ... unless the server answered the GET on another connection (busy machine): wait for it
                deadline = time.monotonic() + 10
                while freeze and frozen < 200 and time.monotonic() < deadline:
                    time.sleep(0.05)
                    frozen = gc.get_freeze_count() - before
        assert (frozen >= 200) if freeze else (frozen == 0)
    finally:
        gc.unfreeze()


def test_many_clients_connecting_at_once_are_all_served(sandbox: SandboxServer):
    # A push keeps up to 30 bulk adds in flight, an SDK's asyncio.gather all of them: each on its own connection.
    campaign_id = sandbox.state.new_id()  # no such campaign: every add is validated, then answered 404
    body = {
        "campaign_id": campaign_id,
        "leads": [{"email": f"c{i}@x.io", "first_name": "C"} for i in range(1000)],
    }
    headers = {"Authorization": f"Bearer {sandbox.api_key}"}
    start = threading.Barrier(60)

    def add(_: int) -> int | str:
        with httpx.Client(base_url=sandbox.base_url, headers=headers, timeout=60) as client:
            start.wait()
            try:
                return client.post("/leads/add", json=body).status_code
            except httpx.TransportError as exc:
                return repr(exc)

    with ThreadPoolExecutor(60) as pool:
        answers = set(pool.map(add, range(60)))
    assert answers == {404}
