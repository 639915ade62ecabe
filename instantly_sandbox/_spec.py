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
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cache
from itertools import chain, repeat
from operator import contains
from pathlib import Path
from typing import Any

import fastjsonschema
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

SPEC_PATH = Path(__file__).parent / "spec" / "instantly-openapi-v2.json"

_UUID = re.compile(r"^(?:urn:uuid:)?[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}$", re.I)  # ajv-formats
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:?\d{2})$")
_EMAIL = re.compile(r"^[^\s@]+@[^\s@]+\.[^\s@]+$")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S*$")

FORMATS = FormatChecker(formats=())


@FORMATS.checks("uuid")
def _is_uuid(value: object) -> bool:
    return not isinstance(value, str) or bool(_UUID.match(value))


@FORMATS.checks("date-time")
def _is_date_time(value: object) -> bool:
    return not isinstance(value, str) or bool(_DATE_TIME.match(value))


@FORMATS.checks("date", raises=ValueError)
def _is_date(value: object) -> bool:
    if isinstance(value, str):
        date.fromisoformat(value)
    return True


@FORMATS.checks("email")
def _is_email(value: object) -> bool:
    return not isinstance(value, str) or bool(_EMAIL.match(value))


@FORMATS.checks("uri")
def _is_uri(value: object) -> bool:
    return not isinstance(value, str) or bool(_URI.match(value))


@cache
def document() -> dict[str, Any]:
    with SPEC_PATH.open(encoding="utf-8") as fh:
        return json.load(fh)


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
    return document()["paths"][template][method.lower()]


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


# -- the column check of a bulk body -----------------------------------------------------------------------
# A bulk add's body is one object with an array of up to 1,000 flat objects. Running compiled code over each
# item costs about 2 µs a lead; checking each property of all the items at once (the set of Python types its
# values have, in C) costs a fraction. `_columns_accept` does that for schemas of exactly this form, and like
# the compiled code it only ever shortcuts to "valid": False sends the instance on to the compiled validator
# and jsonschema. tests/instantly_sandbox/test_compiled_validation.py holds its verdicts to jsonschema's.

# JSON Schema type -> the Python types json/orjson decode such values to (bool is not a number in JSON Schema)
_PY_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "null": (type(None),),
    "boolean": (bool,),
    "number": (int, float),
}
_ANNOTATIONS = frozenset(
    ("description", "example", "examples", "default", "deprecated", "readOnly", "writeOnly", "title")
)


class _Missing:
    """The value of a property an item does not have (a type no schema accepts)."""


_MISSING = _Missing()


def _keywords(schema: dict[str, Any]) -> set[str]:
    """The keywords of `schema` that validate (annotations and `x-` extensions validate nothing)."""
    return {k for k in schema if k not in _ANNOTATIONS and not k.startswith("x-")}


def _type_only(schema: Any) -> frozenset[type] | None:
    """The Python types a schema accepts if it says nothing but `type` (string, null, boolean, number)."""
    if not isinstance(schema, dict) or _keywords(schema) != {"type"}:
        return None
    names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    if not names or not all(isinstance(n, str) and n in _PY_TYPES for n in names):
        return None
    return frozenset(t for n in names for t in _PY_TYPES[n])


@dataclass(frozen=True)
class _Column:
    """How to check one property of every item: by the types of its values, as a map of such values (an
    object with only `additionalProperties`), or else value by value with compiled code."""

    name: str
    types: frozenset[type] | None = None
    map_types: frozenset[type] | None = None
    compiled: Callable[[Any], Any] | None = None

    def accepts(self, values: list[Any]) -> bool:
        kinds = set(map(type, values))
        if self.types is not None:
            return kinds <= self.types or kinds - {_Missing} <= self.types
        present = values if _Missing not in kinds else [v for v in values if v is not _MISSING]
        kinds.discard(_Missing)
        if self.map_types is not None:
            if not kinds <= {dict}:
                return False
            inner = set(map(type, chain.from_iterable(map(dict.values, present))))
            return inner <= self.map_types
        assert self.compiled is not None
        try:
            for value in present:
                self.compiled(value)
        except fastjsonschema.JsonSchemaValueException:
            return False
        return True


@dataclass(frozen=True)
class _ColumnPlan:
    """A body schema of the form `{type: object, properties: {..., ARRAY: {type: array, minItems, maxItems,
    items: {type: object, properties, required, additionalProperties: false}}}}`, ready to check by column."""

    whole: Callable[[Any], Any]  # compiled: the body with ARRAY cut to its first item
    array: str
    min_items: int
    max_items: float
    columns: dict[str, _Column]
    required: tuple[str, ...]
    closed: bool  # additionalProperties: false


def _column_for(name: str, schema: Any) -> _Column | None:
    types = _type_only(schema)
    if types is not None:
        return _Column(name, types=types)
    if (
        isinstance(schema, dict)
        and _keywords(schema) == {"type", "additionalProperties"}
        and schema["type"] == "object"
    ):
        inner = _type_only(schema["additionalProperties"])
        if inner is not None:
            return _Column(name, map_types=inner)
    compiled = _compiled(json.dumps(schema, sort_keys=True))
    return None if compiled is None else _Column(name, compiled=compiled)


@cache
def _column_plan(schema_json: str) -> _ColumnPlan | None:
    """The column plan of a body schema, or None if it is not of that form (then compiled code checks it)."""
    schema = json.loads(schema_json)
    whole = _compiled(schema_json)
    if whole is None or schema.get("type") != "object" or not isinstance(schema.get("properties"), dict):
        return None
    for name, array in schema["properties"].items():
        items = array.get("items") if isinstance(array, dict) else None
        if (
            not isinstance(items, dict)
            or array.get("type") != "array"
            or not _keywords(array) <= {"type", "items", "minItems", "maxItems"}
            or items.get("type") != "object"
            or not _keywords(items) <= {"type", "properties", "required", "additionalProperties"}
            or items.get("additionalProperties", True) not in (True, False)
        ):
            continue
        columns = {}
        for prop, sub in (items.get("properties") or {}).items():
            column = _column_for(prop, sub)
            if column is None:
                return None
            columns[prop] = column
        return _ColumnPlan(
            whole=whole,
            array=name,
            min_items=array.get("minItems", 0),
            max_items=array.get("maxItems", math.inf),
            columns=columns,
            required=tuple(items.get("required") or ()),
            closed=items.get("additionalProperties", True) is False,
        )
    return None


def _columns_accept(schema_json: str, instance: Any) -> bool:
    """True if the body is valid, checked by column; False means "ask the compiled code" (not "invalid")."""
    plan = _column_plan(schema_json)
    if plan is None or type(instance) is not dict:
        return False
    items = instance.get(plan.array)
    if type(items) is not list or not plan.min_items <= len(items) <= plan.max_items or not items:
        return False
    try:
        plan.whole({**instance, plan.array: items[:1]})  # everything but the items after the first
    except fastjsonschema.JsonSchemaValueException:
        return False
    if set(map(type, items)) != {dict}:
        return False
    present: set[str] = set().union(*items)
    if plan.closed and not present <= plan.columns.keys():
        return False
    count = len(items)
    for name in plan.required:
        if sum(map(contains, items, repeat(name))) != count:
            return False
    for name in present:
        column = plan.columns.get(name)
        if column is not None and not column.accepts(
            list(map(dict.get, items, repeat(name), repeat(_MISSING)))
        ):
            return False
    return True


def request_body_schema(method: str, template: str) -> dict[str, Any] | None:
    body = operation(method, template).get("requestBody")
    if not body:
        return None
    return body.get("content", {}).get("application/json", {}).get("schema")


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
    if _columns_accept(schema_json, instance) or _fast_accepts(schema_json, instance):
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
