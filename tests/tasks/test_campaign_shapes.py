"""Campaign files in the API's own shape (pure): they become the same spec, checks and body as the friendly one."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

import pytest

from ops_core.errors import OpsError
from tasks.campaign_spec import (
    CampaignChanges,
    CampaignSpec,
    create_body,
    load_campaign_file,
    normalise_campaign,
    parse_spec,
    patch_body,
    read_campaign_file,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "campaign.yaml"

# What GET /campaigns/{id} adds to a create body (SPEC components.schemas.Campaign, readOnly fields).
READ_BACK = {
    "id": "01a22891-12a4-700b-872d-b75b6c9ff073",
    "status": 0,
    "not_sending_status": None,
    "organization": "01a18e11-9780-7385-bae4-2a63e6a36089",
    "core_variables": {},
    "custom_variables": {},
    "timestamp_created": "2026-11-29T18:28:45.860Z",
    "timestamp_updated": "2026-11-29T18:28:45.860Z",
}


@pytest.fixture
def api_body() -> dict[str, Any]:
    """The example campaign as the API's POST /campaigns body."""
    return create_body(load_campaign_file(EXAMPLE))  # type: ignore[arg-type]


def _create_body_of(data: dict[str, Any]) -> dict[str, Any]:
    found = normalise_campaign(data, "test")
    spec = parse_spec(found.data, CampaignSpec, "test", api_shape=found.api_shape)
    return create_body(spec)  # type: ignore[arg-type]


def test_an_api_body_becomes_the_same_create_body_as_the_friendly_file(api_body: dict[str, Any]) -> None:
    assert _create_body_of(copy.deepcopy(api_body)) == api_body


def test_a_get_response_drops_its_read_only_fields_and_names_them_in_a_note(api_body: dict[str, Any]) -> None:
    found = normalise_campaign({**READ_BACK, **api_body}, "test")
    assert found.api_shape
    assert "id" not in found.data and "status" not in found.data
    note = found.note()
    assert note is not None and note.startswith("note: ignored id, status, not_sending_status, organization")
    assert "read-only" in note
    spec = parse_spec(found.data, CampaignSpec, "test", api_shape=True)
    assert create_body(spec) == api_body  # type: ignore[arg-type]


def test_api_bodies_are_html_already_so_newlines_are_not_turned_into_breaks(api_body: dict[str, Any]) -> None:
    api_body["sequences"][0]["steps"][1]["variants"][0]["body"] = "line one\nline two"
    body = _create_body_of(api_body)
    assert body["sequences"][0]["steps"][1]["variants"][0]["body"] == "line one\nline two"


def test_a_disabled_variant_and_extra_api_fields_survive_the_trip(api_body: dict[str, Any]) -> None:
    api_body["sequences"][0]["steps"][0]["variants"][1]["v_disabled"] = True
    api_body["limit_emails_per_company_override"] = {"mode": "custom", "daily_limit": 3}
    body = _create_body_of(api_body)
    assert body["sequences"][0]["steps"][0]["variants"][1]["v_disabled"] is True
    assert body["limit_emails_per_company_override"] == {"mode": "custom", "daily_limit": 3}


def test_an_api_shaped_timezone_outside_the_list_gets_the_friendly_advice(api_body: dict[str, Any]) -> None:
    api_body["campaign_schedule"]["schedules"][0]["timezone"] = "America/New_York"
    with pytest.raises(OpsError) as exc:
        _create_body_of(api_body)
    assert str(exc.value) == (
        "Timezone 'America/New_York' is not in Instantly's list; use 'America/Detroit' (same UTC offset)"
    )


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (
            lambda b: b["campaign_schedule"]["schedules"][0]["timing"].update({"to": "25:00"}),
            "to time '25:00' is not HH:MM",
        ),
        (
            lambda b: b["campaign_schedule"]["schedules"][0]["timing"].update({"at": "1"}),
            "test: campaign_schedule.schedules.0.timing.at: Extra inputs are not permitted",
        ),
        (
            lambda b: b["campaign_schedule"]["schedules"][0].update({"colour": "red"}),
            "test: campaign_schedule.schedules.0.colour: Extra inputs are not permitted",
        ),
        (
            lambda b: b["sequences"][0]["steps"][1]["variants"][0].update({"subject": ""}),
            "test: sequences.0.steps.1.variants.0.subject: String should have at least 1 character",
        ),
        (
            lambda b: b["sequences"][0]["steps"][0].update({"type": "linkedin"}),
            "sequences.0.steps.0.type 'linkedin' is not a step type",
        ),
        (
            lambda b: b["campaign_schedule"]["schedules"].append(b["campaign_schedule"]["schedules"][0]),
            "has 2 schedules; ops-instantly manages one",
        ),
        (
            lambda b: b["sequences"].append({"steps": []}),
            "sequences has 2 items but the API uses only the first",
        ),
        (
            lambda b: b.update({"schedule": {}}),
            "mixes the API's shape (campaign_schedule) with the friendly one",
        ),
        (
            lambda b: b.update({"email_gap": "soon"}),
            "Invalid campaign: email_gap: Input should be a valid number",
        ),
        (lambda b: b.update({"colour": "red"}), "test: colour: Extra inputs are not permitted"),
    ],
)
def test_bad_api_bodies_are_one_line_errors_naming_the_api_path(
    api_body: dict[str, Any], change: Any, fragment: str
) -> None:
    change(api_body)
    with pytest.raises(OpsError) as exc:
        _create_body_of(api_body)
    assert fragment in str(exc.value) and "\n" not in str(exc.value)


def test_friendly_files_may_give_api_fields_at_the_top_level_but_not_twice() -> None:
    data = {"name": "x", "schedule": {"timezone": "America/Chicago"}, "email_gap": 5}
    assert _create_body_of(data)["email_gap"] == 5
    with pytest.raises(OpsError, match="email_gap is given twice"):
        normalise_campaign({**data, "options": {"email_gap": 6}}, "test")


def test_an_update_body_ignores_create_only_fields_and_keeps_the_rest(api_body: dict[str, Any]) -> None:
    found = normalise_campaign({"ai_sdr_id": "x", "daily_limit": 9, "id": "y"}, "test", update=True)
    assert found.note() == (
        "note: ignored ai_sdr_id (the API takes it on create only); id (read-only: the API sets them)"
    )
    changes = parse_spec(found.data, CampaignChanges, "test", api_shape=True)
    assert patch_body(changes) == {"daily_limit": 9}


def test_json_files_and_stdin_are_read_like_yaml(
    api_body: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "campaign.json"
    path.write_text(json.dumps({**READ_BACK, **api_body}))
    assert create_body(load_campaign_file(path)) == api_body  # type: ignore[arg-type]
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(api_body)))
    assert create_body(load_campaign_file("-")) == api_body  # type: ignore[arg-type]


def test_broken_json_is_one_line_naming_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "campaign.json"
    path.write_text('{"name": "x"\n "daily_limit": 3}')  # a missing comma: neither JSON nor YAML
    with pytest.raises(OpsError) as exc:
        load_campaign_file(path)
    assert str(exc.value).startswith(f"{path} is not valid JSON at line 2, column 2")


def test_a_json_file_with_a_trailing_comma_is_a_json_error_not_a_yaml_guess(tmp_path: Path) -> None:
    # YAML reads `{"name": "x",}`, so the file's slip came back as "schedule: Field required".
    path = tmp_path / "campaign.json"
    path.write_text('{"name": "x",}')
    with pytest.raises(OpsError) as exc:
        load_campaign_file(path)
    assert str(exc.value) == (
        f"{path} is not valid JSON at line 1, column 14: Expecting property name enclosed in double quotes"
    )


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        ("campaign.json", '{"name": "x",\n "name": "y"}', ""),
        ("campaign.yaml", "name: x\ndaily_limit: 3\nname: y\n", " at line 3, column 1"),
        ("campaign.yaml", "name: x\nschedule:\n  from: '09:00'\n  from: '10:00'\n", " at line 4, column 3"),
    ],
)
def test_a_key_given_twice_is_refused_not_silently_last_wins(
    tmp_path: Path, name: str, text: str, where: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(OpsError) as exc:
        read_campaign_file(path)
    key = "from" if "from" in text else "name"
    assert str(exc.value) == f"{path}: the key {key!r} is given twice{where} (only one value can be kept)"


def test_the_spec_models_take_an_api_body_too_as_a_deployment_run_would(api_body: dict[str, Any]) -> None:
    assert create_body(CampaignSpec.model_validate({**READ_BACK, **api_body})) == api_body
    changes = CampaignChanges.model_validate({"id": "x", "ai_sdr_id": "y", "daily_limit": 9})
    assert patch_body(changes) == {"daily_limit": 9}


def test_the_shapes_follow_the_openapi_document() -> None:
    from instantly_sandbox._spec import SPEC_PATH
    from tasks.campaign_spec import READ_ONLY_FIELDS

    spec = json.loads(SPEC_PATH.read_text())
    campaign = spec["components"]["schemas"]["Campaign"]["properties"]
    read_only = {name for name, prop in campaign.items() if prop.get("readOnly")}
    paths = spec["paths"]
    create = paths["/api/v2/campaigns"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    patch = paths["/api/v2/campaigns/{id}"]["patch"]["requestBody"]["content"]["application/json"]["schema"]
    assert set(READ_ONLY_FIELDS) == read_only
    # Every field of a GET response is either read-only or one a create body takes: nothing else to drop.
    assert set(campaign) == read_only | set(create["properties"])
    assert set(create["properties"]) - set(patch["properties"]) == {"ai_sdr_id"}  # dropped on update
