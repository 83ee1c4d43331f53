"""Backward-compatibility check between two JSON Schemas (Draft 2020-12) of one event type.

Compatible means every message valid under the old schema stays valid under the new one and no
property that consumers read disappears. It understands what pydantic generates: local `$ref`,
`anyOf`/`oneOf`, `type`, `const`/`enum`, string/number/array bounds, `properties`, `required` and
`additionalProperties`. Other assertion keywords are reported whenever they change.
"""

import json
from typing import Any

Schema = dict[str, Any] | bool

_UPPER_BOUNDS = ("maxLength", "maximum", "exclusiveMaximum", "maxItems", "maxProperties")
_LOWER_BOUNDS = ("minLength", "minimum", "exclusiveMinimum", "minItems", "minProperties")
_NEUTRAL_LOWER_BOUNDS = {"minLength": 0, "minItems": 0, "minProperties": 0}
_EXACT = ("pattern", "format", "multipleOf")
_UNANALYSED = (
    "$ref",
    "$dynamicRef",
    "allOf",
    "not",
    "if",
    "then",
    "else",
    "prefixItems",
    "contains",
    "patternProperties",
    "propertyNames",
    "dependentRequired",
    "dependentSchemas",
    "unevaluatedItems",
    "unevaluatedProperties",
)
_JSON_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "boolean"),
    (int, "integer"),
    (float, "number"),
    (str, "string"),
    (list, "array"),
    (dict, "object"),
    (type(None), "null"),
)
_MAX_REF_CHAIN = 64


def breaking_changes(old: Schema, new: Schema) -> list[str]:
    """Human-readable breaking changes from `old` to `new`, e.g. "data.customer_id: removed"."""
    problems = _Comparison(old, new).compare("", old, new)
    return list(dict.fromkeys(problems))


class _Comparison:
    def __init__(self, old_root: Schema, new_root: Schema) -> None:
        self.old_root = old_root
        self.new_root = new_root
        self.active: set[tuple[str, str]] = set()

    def compare(self, path: str, old: Schema, new: Schema) -> list[str]:
        olds = _branches(old, self.old_root)
        news = _branches(new, self.new_root)
        problems: list[str] = []
        for branch in olds:
            wanted = _types(branch)
            candidates = [candidate for candidate in news if _covers(_types(candidate), wanted)]
            if not candidates:
                problems.append(f"{_show_path(path)}: type changed from {_describe(olds)} to {_describe(news)}")
                continue
            results = [self.compare_branch(path, branch, candidate) for candidate in candidates]
            fewest: list[str] = min(results, key=len)
            problems.extend(fewest)
        return problems

    def compare_branch(self, path: str, old: dict[str, Any], new: dict[str, Any]) -> list[str]:
        key = (_canonical(old), _canonical(new))
        if key in self.active:  # a recursive schema came back to a pair already being compared
            return []
        self.active.add(key)
        try:
            return [
                *_values(path, old, new),
                *_bounds(path, old, new),
                *self.objects(path, old, new),
                *self.arrays(path, old, new),
                *_unanalysed(path, old, new),
            ]
        finally:
            self.active.discard(key)

    def objects(self, path: str, old: dict[str, Any], new: dict[str, Any]) -> list[str]:
        problems: list[str] = []
        new_properties = new.get("properties", {})
        for name, old_property in old.get("properties", {}).items():
            if name in new_properties:
                problems += self.compare(_join(path, name), old_property, new_properties[name])
            else:
                problems.append(f"{_join(path, name)}: removed")
        old_required = set(old.get("required", ()))
        problems += [
            f"{_join(path, name)}: newly required" for name in new.get("required", ()) if name not in old_required
        ]
        old_extra = old.get("additionalProperties", True)
        new_extra = new.get("additionalProperties", True)
        if old_extra is not False and new_extra is False:
            problems.append(f"{_show_path(path)}: additional properties now forbidden")
        elif old_extra is not False:
            problems += self.compare(_join(path, "*"), old_extra, new_extra)
        return problems

    def arrays(self, path: str, old: dict[str, Any], new: dict[str, Any]) -> list[str]:
        if "items" not in old and "items" not in new:
            return []
        return self.compare(f"{path}[]", old.get("items", True), new.get("items", True))


def _branches(schema: Schema, root: Schema, depth: int = 0) -> list[dict[str, Any]]:
    """The alternatives a schema accepts, each with at most one type; `false` branches are dropped."""
    resolved = _resolve(schema, root)
    if resolved is False:
        return []
    if resolved is True:
        return [{}]
    for keyword in ("anyOf", "oneOf"):
        if keyword in resolved and depth < _MAX_REF_CHAIN:
            rest = {k: v for k, v in resolved.items() if k != keyword}
            out: list[dict[str, Any]] = []
            for option in resolved[keyword]:
                target = _resolve(option, root)
                if target is not False:
                    out += _branches({**rest, **(target if isinstance(target, dict) else {})}, root, depth + 1)
            return out
    types = resolved.get("type")
    if isinstance(types, list):
        return [{**resolved, "type": one} for one in types]
    return [resolved]


def _resolve(schema: Schema, root: Schema) -> Schema:
    """Inline local `$ref`s and single-element `allOf`s, keeping sibling keywords."""
    for _ in range(_MAX_REF_CHAIN):
        if not isinstance(schema, dict):
            return schema
        if isinstance(schema.get("$ref"), str):
            keyword, target = "$ref", _pointer(root, schema["$ref"])
        elif isinstance(schema.get("allOf"), list) and len(schema["allOf"]) == 1:
            keyword, target = "allOf", schema["allOf"][0]
        else:
            return schema
        if target is None:  # not a local reference: left for _unanalysed
            return schema
        rest = {k: v for k, v in schema.items() if k != keyword}
        if target is False:
            return False
        schema = {**(target if isinstance(target, dict) else {}), **rest}
    return schema


def _pointer(root: Schema, ref: str) -> Schema | None:
    if not ref.startswith("#") or (ref != "#" and not ref.startswith("#/")):
        return None
    node: Any = root
    for raw in ref[2:].split("/") if ref != "#" else ():
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node if isinstance(node, dict | bool) else None


def _types(schema: dict[str, Any]) -> set[str] | None:
    """JSON types a branch accepts; None means any."""
    if "type" in schema:
        return {schema["type"]}
    values = _allowed_values(schema)
    if values is None:
        return None
    return {_json_type(value) for value in values}


def _json_type(value: Any) -> str:
    return next(name for python_type, name in _JSON_TYPES if isinstance(value, python_type))


def _covers(new: set[str] | None, old: set[str] | None) -> bool:
    if new is None:
        return True
    if old is None:
        return False
    return all(t in new or (t == "integer" and "number" in new) for t in old)


def _describe(branches: list[dict[str, Any]]) -> str:
    names: set[str] = set()
    for branch in branches:
        types = _types(branch)
        if types is None:
            return "any"
        names |= types
    return " | ".join(sorted(names)) or "nothing"


def _allowed_values(schema: dict[str, Any]) -> list[Any] | None:
    if "const" in schema:
        return [schema["const"]]
    if "enum" in schema:
        return list(schema["enum"])
    return None


def _values(path: str, old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    old_values, new_values = _allowed_values(old), _allowed_values(new)
    if new_values is None:
        return []
    where = _show_path(path)
    if old_values is None:
        return [f"{where}: now restricted to {_show_values(new_values)}"]
    kept = {_canonical(value) for value in new_values}
    removed = [value for value in old_values if _canonical(value) not in kept]
    if not removed:
        return []
    if "const" in old and "const" in new:
        return [f"{where}: const changed from {_show_values(old_values)} to {_show_values(new_values)}"]
    return [f"{where}: enum values removed: {_show_values(removed)}"]


def _bounds(path: str, old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    where = _show_path(path)
    problems = []
    for keyword in _UPPER_BOUNDS:
        if keyword in new and keyword not in old:
            problems.append(f"{where}: {keyword} {new[keyword]} added")
        elif keyword in new and new[keyword] < old[keyword]:
            problems.append(f"{where}: {keyword} lowered from {old[keyword]} to {new[keyword]}")
    for keyword in _LOWER_BOUNDS:
        before = old.get(keyword, _NEUTRAL_LOWER_BOUNDS.get(keyword))
        if keyword in new and before is None:
            problems.append(f"{where}: {keyword} {new[keyword]} added")
        elif keyword in new and new[keyword] > before:
            problems.append(f"{where}: {keyword} raised from {before} to {new[keyword]}")
    for keyword in _EXACT:
        if keyword in new and keyword not in old:
            problems.append(f"{where}: {keyword} {new[keyword]!r} added")
        elif keyword in new and new[keyword] != old[keyword]:
            problems.append(f"{where}: {keyword} changed from {old[keyword]!r} to {new[keyword]!r}")
    if new.get("uniqueItems") is True and old.get("uniqueItems") is not True:
        problems.append(f"{where}: uniqueItems added")
    return problems


def _unanalysed(path: str, old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    return [
        f"{_show_path(path)}: {keyword} changed (not analysed, assumed breaking)"
        for keyword in _UNANALYSED
        if _canonical(old.get(keyword)) != _canonical(new.get(keyword))
    ]


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _show_values(values: list[Any]) -> str:
    return ", ".join(json.dumps(value) for value in values)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _show_path(path: str) -> str:
    return path or "(root)"
