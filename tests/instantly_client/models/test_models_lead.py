"""Lead write models are strict; read models are tolerant."""

import pytest
from pydantic import ValidationError

from instantly_client import BulkAddResult, BulkAddSummary, Lead, LeadIn, LeadPatch


def test_lead_in_rejects_unknown_top_level_fields():
    with pytest.raises(ValidationError, match="company"):
        LeadIn(email="a@b.co", company="Acme")  # type: ignore[call-arg]


@pytest.mark.parametrize("bad", [{"nested": 1}, [1, 2], ("t",)])
def test_custom_variables_reject_objects_and_arrays_with_a_clear_message(bad):
    with pytest.raises(ValidationError) as info:
        LeadIn(email="a@b.co", custom_variables={"ok": 1, "plan": bad})
    message = str(info.value)
    assert "custom_variables['plan']" in message
    assert "string, number, boolean or null" in message


def test_custom_variables_keep_scalar_types():
    lead = LeadIn(email="a@b.co", custom_variables={"s": "x", "i": 3, "f": 1.5, "b": True, "n": None})
    assert lead.to_body()["custom_variables"] == {"s": "x", "i": 3, "f": 1.5, "b": True, "n": None}


def test_to_body_sends_only_fields_that_were_set_including_explicit_none():
    assert LeadIn(email="a@b.co", phone=None).to_body() == {"email": "a@b.co", "phone": None}


def test_lead_patch_has_no_email():
    with pytest.raises(ValidationError):
        LeadPatch(email="a@b.co")  # type: ignore[call-arg]


def test_lead_read_model_keeps_unknown_fields_and_survives_missing_ones():
    lead = Lead.model_validate({"id": "l1", "brand_new_field": {"x": 1}})
    assert lead.id == "l1"
    assert lead.email is None
    assert lead.model_extra == {"brand_new_field": {"x": 1}}


def test_lead_labels_are_tolerant_of_unknown_codes():
    assert Lead(status=-1, lt_interest_status=2).status_label == "Bounced"
    assert Lead(status=-1, lt_interest_status=2).interest_label == "Meeting Booked"
    assert Lead(lt_interest_status=98765).interest_label is None
    assert Lead().status_label is None


def test_bulk_add_result_parses_the_documented_response():
    result = BulkAddResult.model_validate(
        {
            "status": "success",
            "total_sent": 3,
            "leads_uploaded": 1,
            "in_blocklist": 1,
            "blocklist_used": None,
            "duplicated_leads": 0,
            "skipped_count": 1,
            "invalid_email_count": 0,
            "incomplete_count": 0,
            "duplicate_email_count": 0,
            "remaining_in_plan": None,
            "created_leads": [{"index": 2, "id": "l9", "email": "c@d.co", "first_name": None}],
        }
    )
    assert result.leads_uploaded == 1
    assert result.skipped_count == 1
    assert result.created_leads[0].index == 2
    assert result.created_leads[0].id == "l9"
    assert BulkAddResult.model_validate({}).created_leads == []


def test_bulk_add_summary_gives_the_index_and_id_of_each_created_lead_as_validated_dicts():
    answer = (
        b'{"status":"success","total_sent":3,"leads_uploaded":3,"skipped_count":0,"new_counter":7,'
        b'"created_leads":[{"index":0,"id":"l1","email":"a@b.co","first_name":null,"added_later":1},'
        b'{"index":"1","id":"l2"},{"id":"l3"}]}'
    )
    result = BulkAddSummary.model_validate_json(answer)
    assert result.created_leads == [
        {"index": 0, "id": "l1"},  # what the request sent (email, names) and unknown keys are not read
        {"index": 1, "id": "l2"},  # lax like CreatedLead: "1" is the int 1
        {"id": "l3"},
    ]
    assert (result.total_sent, result.leads_uploaded, result.skipped_count) == (3, 3, 0)
    assert result.model_extra == {"new_counter": 7}
    assert BulkAddSummary.model_validate_json(b"{}").created_leads == []


def test_bulk_add_summary_refuses_a_created_lead_that_is_not_the_documented_shape():
    with pytest.raises(ValidationError, match="index"):
        BulkAddSummary.model_validate_json(b'{"created_leads":[{"index":"first","id":"l1"}]}')
    with pytest.raises(ValidationError, match="id"):
        BulkAddSummary.model_validate_json(b'{"created_leads":[{"index":0,"id":{"x":1}}]}')
