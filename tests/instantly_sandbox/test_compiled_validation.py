"""The compiled shortcut (fastjsonschema) never accepts what jsonschema, the authority, refuses.

`_spec.first_error` accepts an instance as soon as the compiled validator does, so the one way the speed-up
could change what the sandbox rejects is a compiled "valid" where jsonschema says "invalid". These tests take
the request-body schema of every operation the sandbox serves, build a plausible instance from its examples, and try
every property (nested ones included) with a palette of awkward values, asserting the two agree whenever the
compiled code says "valid".
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest

from instantly_sandbox import _spec
from instantly_sandbox._columns import columns_accept
from instantly_sandbox._router import ROUTES

PALETTE: list[Any] = [
    None,
    True,
    False,
    0,
    1,
    -4,
    1.0,
    1.5,
    10**12,
    "",
    "x",
    "abc\n",
    "019ffad2-9c4e-7be6-8364-ed45ac8115bc",
    "019ffad2-9c4e-7be6-8364-ed45ac8115bc\n",
    "2026-01-01",
    "2026-02-30",
    "2026-01-01T10:00:00Z",
    "a@b.co",
    "a@b",
    "a b@c.co",
    "019ffad2-9c4e-7be6-8364-ed45ac8115bcz",
    "https://example.com",
    [],
    ["x"],
    [1, 1],
    {},
    {"k": "v"},
    {"k": ["v"]},
]


def _request_schemas() -> list[tuple[str, dict[str, Any]]]:
    """The body schema of every operation the sandbox serves."""
    out = []
    for served in ROUTES:
        if served.template.startswith("/_sandbox/"):
            continue
        schema = _spec.request_body_schema(served.method, served.template)
        if schema is not None:
            out.append((f"{served.method} {served.template}", _spec.deref(schema)))
    return out


SCHEMAS = _request_schemas()


def _sample(schema: dict[str, Any]) -> Any:
    """A plausible instance: the schema's example, else one built from its properties' examples."""
    if "example" in schema:
        return copy.deepcopy(schema["example"])
    kind = schema.get("type")
    kind = kind[0] if isinstance(kind, list) else kind
    if kind == "object" or "properties" in schema:
        return {name: _sample(sub) for name, sub in (schema.get("properties") or {}).items()}
    if kind == "array":
        return [_sample(schema.get("items") or {})]
    if "enum" in schema:
        return schema["enum"][0]
    return {"string": "x", "integer": 1, "number": 1, "boolean": True}.get(kind)


def _variants(instance: Any) -> Iterator[Any]:
    """`instance`, then copies with one value (at any depth) replaced by each palette value or removed."""
    yield instance
    paths: list[tuple[Any, ...]] = []

    def walk(node: Any, path: tuple[Any, ...]) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                paths.append((*path, key))
                walk(value, (*path, key))
        elif isinstance(node, list) and node:
            paths.append((*path, 0))
            walk(node[0], (*path, 0))

    walk(instance, ())
    for path in paths:
        for value in [*PALETTE, _REMOVE]:
            variant = copy.deepcopy(instance)
            parent = variant
            for step in path[:-1]:
                parent = parent[step]
            if value is _REMOVE:
                if isinstance(parent, dict):
                    del parent[path[-1]]
                else:
                    parent.pop(path[-1])
            else:
                parent[path[-1]] = value
            yield variant
    yield {**instance, "unexpected_field": 1} if isinstance(instance, dict) else [instance]


_REMOVE = object()


@pytest.mark.parametrize(("operation", "schema"), SCHEMAS, ids=[name for name, _ in SCHEMAS])
def test_compiled_shortcut_accepts_nothing_jsonschema_refuses(operation: str, schema: dict[str, Any]):
    authority = _spec.validator_for(schema)
    for instance in _variants(_sample(schema)):
        if _spec.is_valid_fast(schema, instance):
            assert authority.is_valid(instance), (operation, instance)


def test_the_bulk_add_schema_gets_the_compiled_shortcut():
    schema = _spec.request_body_schema("POST", "/api/v2/leads/add")
    body = {
        "campaign_id": "019ffad2-9c4e-7be6-8364-ed444afb02d5",
        "leads": [{"email": f"a{i}@b.co", "custom_variables": {"n": i, "ok": True}} for i in range(1000)],
    }
    assert _spec.is_valid_fast(schema, body)
    assert _spec.first_error(schema, body, "body") is None


def test_a_refused_body_is_still_worded_by_jsonschema_like_ajv():
    schema = _spec.request_body_schema("POST", "/api/v2/leads/add")
    body = {"leads": [{"email": "a@b.co"}, {"email": "c@d.co", "lt_interest_status": True}]}
    assert not _spec.is_valid_fast(schema, body)
    assert _spec.first_error(schema, body, "body") == "body/leads/1/lt_interest_status must be number"


def test_keywords_that_changed_after_draft_7_get_no_compiled_shortcut():
    prefix_items = {"type": "array", "prefixItems": [{"type": "string"}]}
    dependent = {"type": "object", "dependentRequired": {"a": ["b"]}}
    for schema, instance in ((prefix_items, ["x"]), (dependent, {"b": 1})):
        assert not _spec.is_valid_fast(schema, instance)
        assert _spec.first_error(schema, instance, "body") is None  # jsonschema still decides


BULK_ADD = _spec.deref(_spec.request_body_schema("POST", "/api/v2/leads/add"))
BULK_ADD_JSON = _spec._body_schema_json("POST", "/api/v2/leads/add")


def _bulk_variants() -> Iterator[Any]:
    """Bulk bodies of three leads with one value (in any lead, as any property or custom variable) replaced
    by each palette value or removed, and bodies whose `leads` are wrong as a whole."""
    full = _sample(BULK_ADD["properties"]["leads"]["items"])
    base = {
        "campaign_id": "019ffad2-9c4e-7be6-8364-ed444afb02d5",
        "leads": [full, dict(full), {"email": "c@d.co"}],
    }
    yield base
    for index in range(3):
        for name in [*BULK_ADD["properties"]["leads"]["items"]["properties"], "unexpected_field"]:
            for value in [*PALETTE, _REMOVE]:
                variant = copy.deepcopy(base)
                if value is _REMOVE:
                    variant["leads"][index].pop(name, None)
                else:
                    variant["leads"][index][name] = value
                yield variant
        for value in [*PALETTE, {"deep": {"er": 1}}]:
            variant = copy.deepcopy(base)
            variant["leads"][index]["custom_variables"] = {"ok": "x", "k": value}
            yield variant
    for leads in ([], [{}], [{}] * 1000, [{}] * 1001, "x", None, [None], [{}, []], [{}, "x"]):
        yield {**base, "leads": leads}
    yield {**base, "campaign_id": "not-a-uuid"}
    yield {**base, "skip_if_in_campaign": "yes"}
    yield {"leads": base["leads"], "unexpected_field": 1}
    yield [base]


def test_the_column_check_of_a_bulk_add_gives_jsonschemas_verdict_on_every_variant():
    authority = _spec.validator_for(BULK_ADD)
    verdicts = []
    for instance in _bulk_variants():
        valid = authority.is_valid(instance)
        assert columns_accept(BULK_ADD_JSON, instance) == valid, instance
        verdicts.append(valid)
    assert 100 < verdicts.count(True) < len(verdicts) - 100  # both kinds were tried


def test_a_bulk_add_of_1000_leads_is_accepted_by_its_columns():
    body = {
        "campaign_id": "019ffad2-9c4e-7be6-8364-ed444afb02d5",
        "leads": [
            {"email": f"a{i}@b.co", "first_name": None, "custom_variables": {"n": i, "f": 0.5, "ok": True}}
            for i in range(1000)
        ],
    }
    assert columns_accept(BULK_ADD_JSON, body)
    body["leads"][999]["custom_variables"]["bad"] = [1]
    assert not columns_accept(BULK_ADD_JSON, body)
    assert (
        _spec.first_error(BULK_ADD, body, "body")
        == "body/leads/999/custom_variables/bad must be string,number,boolean,null"
    )


@pytest.mark.parametrize(("operation", "schema"), SCHEMAS, ids=[name for name, _ in SCHEMAS])
def test_the_column_check_accepts_nothing_jsonschema_refuses(operation: str, schema: dict[str, Any]):
    authority = _spec.validator_for(schema)
    schema_json = json.dumps(schema, sort_keys=True)
    for instance in _variants(_sample(schema)):
        if columns_accept(schema_json, instance):
            assert authority.is_valid(instance), (operation, instance)
