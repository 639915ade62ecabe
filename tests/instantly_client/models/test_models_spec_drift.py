"""Write models and constants against the project's copy of the OpenAPI document (tests only read it)."""

import json
from pathlib import Path

import pytest

from instantly_client import CAMPAIGN_TIMEZONES, WEBHOOK_EVENT_TYPES, CampaignIn, LeadIn, LeadPatch, WebhookIn
from instantly_client.models.campaign import CampaignPatch

SPEC_PATH = Path(__file__).resolve().parents[3] / "instantly_sandbox" / "spec" / "instantly-openapi-v2.json"


@pytest.fixture(scope="module")
def paths():
    if not SPEC_PATH.exists():
        pytest.skip("OpenAPI document not present")
    return json.loads(SPEC_PATH.read_text())["paths"]


def body(paths, method, path):
    return paths[path][method]["requestBody"]["content"]["application/json"]["schema"]


def api_names(model):
    return {field.alias or name for name, field in model.model_fields.items()}


def test_lead_in_has_exactly_the_bulk_add_lead_item_fields(paths):
    item = body(paths, "post", "/api/v2/leads/add")["properties"]["leads"]["items"]
    assert api_names(LeadIn) == set(item["properties"])


def test_lead_patch_has_exactly_the_patch_lead_fields(paths):
    assert api_names(LeadPatch) == set(body(paths, "patch", "/api/v2/leads/{id}")["properties"])


def test_campaign_in_has_exactly_the_create_campaign_fields(paths):
    schema = body(paths, "post", "/api/v2/campaigns")
    assert api_names(CampaignIn) == set(schema["properties"])
    required = {f.alias or n for n, f in CampaignIn.model_fields.items() if f.is_required()}
    assert required == set(schema["required"])


def test_campaign_patch_has_exactly_the_patch_campaign_fields(paths):
    assert api_names(CampaignPatch) == set(body(paths, "patch", "/api/v2/campaigns/{id}")["properties"])


def test_webhook_in_matches_create_webhook(paths):
    schema = body(paths, "post", "/api/v2/webhooks")
    assert api_names(WebhookIn) == set(schema["properties"])
    assert set(WEBHOOK_EVENT_TYPES) == set(schema["properties"]["event_type"]["enum"]) - {None}


def test_campaign_timezones_are_the_spec_enum_in_order(paths):
    schedules = body(paths, "post", "/api/v2/campaigns")["properties"]["campaign_schedule"]["properties"][
        "schedules"
    ]
    assert tuple(schedules["items"]["properties"]["timezone"]["enum"]) == CAMPAIGN_TIMEZONES


@pytest.mark.parametrize("model_name", ["Campaign", "Lead", "Webhook", "BackgroundJob"])
def test_read_models_know_every_field_of_their_spec_schema(model_name):
    # Unknown fields are kept anyway (extra="allow"), but the pipeline warns about fields it does not know.
    import instantly_client

    if not SPEC_PATH.exists():
        pytest.skip("OpenAPI document not present")
    schema = json.loads(SPEC_PATH.read_text())["components"]["schemas"][model_name]
    model = getattr(instantly_client, model_name)
    assert set(schema["properties"]) - api_names(model) == set()
