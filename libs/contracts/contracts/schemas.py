"""JSON Schemas of every event type; `python -m contracts.schemas` (`make contracts`) rewrites them."""

import json
from pathlib import Path
from typing import Any

from .registry import EVENT_TYPES

PACKAGE_DIR = Path(__file__).resolve().parent
SCHEMA_DIR = PACKAGE_DIR / "schemas"
EXAMPLES_DIR = PACKAGE_DIR / "examples"
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def generate_schemas() -> dict[str, dict[str, Any]]:
    """Event type name -> JSON Schema of its whole CloudEvents envelope."""
    schemas = {}
    for name, spec in sorted(EVENT_TYPES.items()):
        schema = spec.event_cls.model_json_schema()
        schema["$id"] = name
        schema["$schema"] = JSON_SCHEMA_DIALECT
        schemas[name] = schema
    return schemas


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, sort_keys=True, indent=2) + "\n"


def main() -> None:
    SCHEMA_DIR.mkdir(exist_ok=True)
    for name, schema in generate_schemas().items():
        (SCHEMA_DIR / f"{name}.json").write_text(render(schema), encoding="utf-8")


if __name__ == "__main__":
    main()
