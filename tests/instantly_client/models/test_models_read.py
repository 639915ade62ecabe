"""Every read model accepts an empty object and keeps unknown fields; write models forbid them."""

import pytest
from pydantic import ValidationError

import instantly_client as ic
from instantly_client.models._base import ReadModel, WriteModel

READ_MODELS = [
    ic.Lead,
    ic.Campaign,
    ic.CampaignAnalytics,
    ic.CampaignAnalyticsOverview,
    ic.CampaignDailyAnalytics,
    ic.CampaignStepAnalytics,
    ic.Webhook,
    ic.WebhookTestResult,
    ic.WebhookEventType,
    ic.Account,
    ic.Email,
    ic.BackgroundJob,
    ic.BulkAddResult,
    ic.BulkAddSummary,
    ic.CreatedLead,
]


@pytest.mark.parametrize("model", READ_MODELS, ids=lambda m: m.__name__)
def test_read_models_never_crash_on_new_or_missing_fields(model):
    assert issubclass(model, ReadModel)
    obj = model.model_validate({"field_added_next_year": [1, {"a": 2}]})
    assert obj.model_extra == {"field_added_next_year": [1, {"a": 2}]}
    assert obj.model_dump()["field_added_next_year"] == [1, {"a": 2}]


@pytest.mark.parametrize(
    "model",
    [ic.LeadIn, ic.LeadPatch, ic.CampaignIn, ic.CampaignPatch, ic.WebhookIn],
    ids=lambda m: m.__name__,
)
def test_write_models_forbid_unknown_fields(model):
    assert issubclass(model, WriteModel)
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        model.model_validate({"definitely_not_a_field": 1})


def test_background_job_terminal_statuses_follow_the_spec():
    assert {
        s
        for s in ["success", "failed", "cancelled", "completed", "pending"]
        if ic.BackgroundJob(status=s).is_terminal
    } == {
        "success",
        "failed",
        "cancelled",
    }


def test_webhook_in_checks_url_scheme_and_event_type():
    ic.WebhookIn(target_hook_url="https://hooks.example/x", event_type="reply_received")
    with pytest.raises(ValidationError):
        ic.WebhookIn(target_hook_url="ftp://x")
    with pytest.raises(ValidationError, match="link_clicked"):
        ic.WebhookIn(target_hook_url="https://x", event_type="link_clicked")
