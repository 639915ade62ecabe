"""The column check of a bulk body: a shortcut to "valid" for a body that is one object with an array of flat
objects (POST /leads/add: up to 1,000 leads), checked property by property over all the items at once.

Running compiled code over each item costs about 2 µs a lead; checking each property of all the items at once
(the set of Python types its values have, in C) costs a fraction. :func:`columns_accept` does that for schemas
of exactly this form, and like the compiled code in `_spec` it only ever shortcuts to "valid": False sends the
instance on to the compiled validator and jsonschema, which decide and word the message.
`tests/instantly_sandbox/test_compiled_validation.py` holds its verdicts to jsonschema's.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from itertools import chain, repeat
from operator import contains
from typing import Any

import fastjsonschema

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
    from ._spec import _compiled  # (imported here: _spec imports this module)

    compiled = _compiled(json.dumps(schema, sort_keys=True))
    return None if compiled is None else _Column(name, compiled=compiled)


@cache
def _column_plan(schema_json: str) -> _ColumnPlan | None:
    """The column plan of a body schema, or None if it is not of that form (then compiled code checks it)."""
    from ._spec import _compiled  # (imported here: _spec imports this module)

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


def columns_accept(schema_json: str, instance: Any) -> bool:
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
