"""The OpenAPI document as the single source of request rules and response shapes.

Bodies, query strings and path params are validated with jsonschema (Draft 2020-12, which OpenAPI 3.1 schemas
are) after `$ref`s into `components` are inlined. Messages mimic Fastify/AJV (`body/leads/0 must NOT have
additional properties`) because the real API is a Fastify app (its error envelope gives it away).

Speed: jsonschema walks a 1,000-lead bulk add at about 15,000 leads/s, which made the sandbox the bottleneck of
every push benchmark. So each schema is also compiled to Python code by fastjsonschema, and an instance that
the compiled code accepts is accepted at once (about 40x faster). Only an instance it refuses goes through
jsonschema, which stays the authority: it decides whether the request fails and words the message. The
compiled check is therefore only ever a shortcut to "valid"; it is built only for schemas whose keywords mean
the same in Draft 7 (fastjsonschema's newest draft) and Draft 2020-12, with the same format checks as
:data:`FORMATS`, and `tests/instantly_sandbox/test_validation.py` holds the two to the same verdicts.
Before the compiled code, a bulk body (an object with an array of flat objects) is tried by column
(`_columns.py`, the same kind of shortcut: about 0.5 µs a lead instead of 2).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import fastjsonschema
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from ._columns import columns_accept

SPEC_PATH = Path(__file__).parent / "spec" / "instantly-openapi-v2.json"

_UUID = re.compile(r"^(?:urn:uuid:)?[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}$", re.I)  # ajv-formats
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:?\d{2})$")
_EMAIL = re.compile(r"^[^\s@]+@[^\s@]+\.[^\s@]+$")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S*$")

FORMATS = FormatChecker(formats=())

_Check = Callable[[object], bool]


def _checks(
    name: str, raises: type[Exception] | tuple[type[Exception], ...] = ()
) -> Callable[[_Check], _Check]:
    """`FORMATS.checks`, typed (jsonschema ships no type information)."""
    register: Callable[[_Check], _Check] = FORMATS.checks(name, raises=raises)
    return register


@_checks("uuid")
def _is_uuid(value: object) -> bool:
    return not isinstance(value, str) or bool(_UUID.match(value))


@_checks("date-time")
def _is_date_time(value: object) -> bool:
    return not isinstance(value, str) or bool(_DATE_TIME.match(value))


@_checks("date", raises=ValueError)
def _is_date(value: object) -> bool:
    if isinstance(value, str):
        date.fromisoformat(value)
    return True


@_checks("email")
def _is_email(value: object) -> bool:
    return not isinstance(value, str) or bool(_EMAIL.match(value))


@_checks("uri")
def _is_uri(value: object) -> bool:
    return not isinstance(value, str) or bool(_URI.match(value))


@cache
def document() -> dict[str, Any]:
    with SPEC_PATH.open(encoding="utf-8") as fh:
        doc: dict[str, Any] = json.load(fh)
    return doc


def deref(node: Any, _seen: tuple[str, ...] = ()) -> Any:
    """Inline `#/components/...` references (the document uses no other kind)."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            if ref in _seen:
                return {}
            target: Any = document()
            for part in ref[2:].split("/"):
                target = target[part]
            rest = {k: v for k, v in node.items() if k != "$ref"}
            merged = deref(copy.deepcopy(target), (*_seen, ref))
            merged.update(deref(rest, _seen))
            return merged
        return {k: deref(v, _seen) for k, v in node.items()}
    if isinstance(node, list):
        return [deref(v, _seen) for v in node]
    return node


def operation(method: str, template: str) -> dict[str, Any]:
    op: dict[str, Any] = document()["paths"][template][method.lower()]
    return op


@cache
def _validator(schema_json: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads(schema_json), format_checker=FORMATS)


def validator_for(schema: dict[str, Any]) -> Draft202012Validator:
    return _validator(json.dumps(deref(schema), sort_keys=True))


# Keywords that mean the same in Draft 7 and Draft 2020-12 (and annotations, which validate nothing). A schema
# using any other keyword (prefixItems, $defs, unevaluated*, dependent*, ...) gets no compiled shortcut.
_SAME_IN_DRAFT_7 = frozenset(
    (
        *("type", "enum", "const", "properties", "additionalProperties", "required", "items", "contains"),
        *("minItems", "maxItems", "uniqueItems", "minProperties", "maxProperties", "minLength", "maxLength"),
        *("pattern", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "format"),
        *("anyOf", "oneOf", "allOf", "not"),
        *("description", "example", "examples", "default", "deprecated", "readOnly", "writeOnly", "title"),
        *("nullable", "x-enumDescriptions"),
    )
)


def _keywords_same_in_draft_7(node: Any) -> bool:
    if isinstance(node, list):
        return all(_keywords_same_in_draft_7(v) for v in node)
    if not isinstance(node, dict):
        return True
    for key, value in node.items():
        if key not in _SAME_IN_DRAFT_7:
            return False
        if key == "properties":
            if not all(_keywords_same_in_draft_7(v) for v in value.values()):
                return False
        elif key in ("enum", "const", "default", "example", "examples", "x-enumDescriptions"):
            continue  # values, not schemas
        elif key == "items" and isinstance(value, list):
            return False  # Draft 7's tuple form means prefixItems in 2020-12
        elif not _keywords_same_in_draft_7(value):
            return False
    return True


def _formats_in(node: Any) -> set[str]:
    if isinstance(node, list):
        return set().union(*map(_formats_in, node)) if node else set()
    if not isinstance(node, dict):
        return set()
    found = {node["format"]} if isinstance(node.get("format"), str) else set()
    return found.union(*map(_formats_in, node.values()))


def _format_test(name: str) -> Callable[[str], bool]:
    """The FORMATS check for `name` as a plain predicate; formats FORMATS does not check always pass."""
    checker = FORMATS.checkers.get(name)
    if checker is None:
        return lambda _value: True
    func, raises = checker

    def test(value: str) -> bool:
        try:
            return bool(func(value))
        except raises:
            return False

    return test


@cache
def _compiled(schema_json: str) -> Callable[[Any], Any] | None:
    """fastjsonschema's compiled validator for the schema (raises on invalid), or None if it may differ."""
    schema = json.loads(schema_json)
    if not _keywords_same_in_draft_7(schema):
        return None
    # Every format the schema names gets FORMATS' check, so fastjsonschema's own (different) ones never run.
    formats = {name: _format_test(name) for name in _formats_in(schema)}
    try:
        # use_default=False: the compiled code must never fill defaults into the request body.
        return fastjsonschema.compile(schema, use_default=False, formats=formats)
    except fastjsonschema.JsonSchemaDefinitionException:
        return None  # e.g. a pattern Python's re cannot compile: jsonschema alone decides


def is_valid_fast(schema: dict[str, Any], instance: Any) -> bool:
    """True if the compiled validator accepts `instance`; False means "ask jsonschema" (not "invalid")."""
    return _fast_accepts(json.dumps(deref(schema), sort_keys=True), instance)


def _fast_accepts(schema_json: str, instance: Any) -> bool:
    compiled = _compiled(schema_json)
    if compiled is None:
        return False
    try:
        compiled(instance)
    except fastjsonschema.JsonSchemaValueException:
        return False
    return True


def request_body_schema(method: str, template: str) -> dict[str, Any] | None:
    body = operation(method, template).get("requestBody")
    if not body:
        return None
    schema: dict[str, Any] | None = body.get("content", {}).get("application/json", {}).get("schema")
    return schema


def response_schema(method: str, template: str, status: int) -> dict[str, Any] | None:
    resp = operation(method, template)["responses"].get(str(status))
    if not resp:
        return None
    schema = resp.get("content", {}).get("application/json", {}).get("schema")
    return deref(schema) if schema is not None else None


def ajv_message(err: ValidationError, prefix: str) -> str:
    """Render one jsonschema error the way AJV (via Fastify) words it."""
    where = prefix + "".join(f"/{p}" for p in err.absolute_path)
    kw, val = err.validator, err.validator_value
    if kw == "required":
        missing = next((r for r in val if isinstance(err.instance, dict) and r not in err.instance), val[0])
        return f"{where} must have required property '{missing}'"
    if kw == "additionalProperties":
        return f"{where} must NOT have additional properties"
    if kw == "type":
        return f"{where} must be {','.join(val) if isinstance(val, list) else val}"
    if kw == "enum":
        return f"{where} must be equal to one of the allowed values"
    if kw == "const":
        return f"{where} must be equal to constant"
    if kw in ("minItems", "maxItems"):
        word = "fewer" if kw == "minItems" else "more"
        return f"{where} must NOT have {word} than {val} items"
    if kw in ("minProperties", "maxProperties"):
        word = "fewer" if kw == "minProperties" else "more"
        return f"{where} must NOT have {word} than {val} properties"
    if kw in ("minLength", "maxLength"):
        word = "fewer" if kw == "minLength" else "more"
        return f"{where} must NOT have {word} than {val} characters"
    if kw == "minimum":
        return f"{where} must be >= {val}"
    if kw == "maximum":
        return f"{where} must be <= {val}"
    if kw == "pattern":
        return f'{where} must match pattern "{val}"'
    if kw == "format":
        return f'{where} must match format "{val}"'
    if kw == "anyOf":
        return f"{where} must match a schema in anyOf"
    if kw == "oneOf":
        return f"{where} must match exactly one schema in oneOf"
    return f"{where} {err.message}"


# AJV evaluates keywords in this order at each level (type first, then `required` before descending into
# properties), and stops at the first failure.
_KEYWORD_RANK = {
    "type": 0,
    "enum": 1,
    "const": 1,
    "required": 2,
    "minProperties": 2,
    "maxProperties": 2,
    "minItems": 2,
    "maxItems": 2,
    "additionalProperties": 3,
    "properties": 4,
    "items": 4,
}


def _ajv_order(err: ValidationError) -> tuple[int, ...]:
    path = list(err.absolute_schema_path)
    ranks, after_properties = [], False
    for part in path:
        if after_properties:  # a property name, not a keyword
            after_properties = False
            ranks.append(0)
            continue
        ranks.append(_KEYWORD_RANK.get(str(part), 5) if isinstance(part, str) else 0)
        after_properties = part == "properties"
    return tuple(ranks)


def first_error(schema: dict[str, Any], instance: Any, prefix: str) -> str | None:
    """AJV stops at the first error (Fastify's default allErrors=false); report that one, AJV-worded."""
    return _first_error(json.dumps(deref(schema), sort_keys=True), instance, prefix)


def _first_error(schema_json: str, instance: Any, prefix: str) -> str | None:
    if columns_accept(schema_json, instance) or _fast_accepts(schema_json, instance):
        return None
    errors = list(_validator(schema_json).iter_errors(instance))
    if not errors:
        return None
    return ajv_message(min(errors, key=_ajv_order), prefix)


@cache
def _body_schema_json(method: str, template: str) -> str | None:
    schema = request_body_schema(method, template)
    return None if schema is None else json.dumps(deref(schema), sort_keys=True)


def body_error(method: str, template: str, body: Any) -> str | None:
    """The first AJV-worded error of a request body against the operation's schema (None: valid or no schema).

    The body schema is inlined and compiled once per operation, so a 1,000-lead bulk add costs no more than
    one pass of compiled code when it is valid.
    """
    schema_json = _body_schema_json(method, template)
    if schema_json is None:
        return None
    return _first_error(schema_json, body, "body")


def _coerce(raw: list[str], schema: dict[str, Any]) -> Any:
    """Fastify coerces query strings to the declared type (coerceTypes: 'array')."""
    types = schema.get("type")
    types = types if isinstance(types, list) else [types]
    if "array" in types:
        item = schema.get("items", {})
        return [_coerce([v], item) for v in raw]
    value = raw[0]
    for t in types:
        try:
            if t == "integer" and re.fullmatch(r"[+-]?\d+", value):
                return int(value)
            if t == "number":
                num = float(value)
                return int(num) if num.is_integer() else num
            if t == "boolean" and value in ("true", "false"):
                return value == "true"
        except ValueError:
            continue
    return value


def parse_query(method: str, template: str, query: dict[str, list[str]]) -> tuple[dict[str, Any], str | None]:
    """Coerce and validate query params against the operation's parameter schemas."""
    out: dict[str, Any] = {}
    for param in operation(method, template).get("parameters", []):
        if param.get("in") != "query":
            continue
        name, schema = param["name"], deref(param.get("schema", {}))
        if name not in query:
            if param.get("required"):
                return out, f"querystring must have required property '{name}'"
            continue
        value = _coerce(query[name], schema)
        err = first_error(schema, value, f"querystring/{name}")
        if err:
            return out, err
        out[name] = value
    for name, values in query.items():
        out.setdefault(name, values[0])  # undeclared params are passed through, as Fastify does
    return out, None


def check_path_params(method: str, template: str, params: dict[str, str]) -> str | None:
    for param in operation(method, template).get("parameters", []):
        if param.get("in") == "path" and param["name"] in params:
            err = first_error(param.get("schema", {}), params[param["name"]], f"params/{param['name']}")
            if err:
                return err
    return None
