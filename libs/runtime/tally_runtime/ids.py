"""Prefixed, time-sortable identifiers: `mtr_01JD3X...` (a ULID after the prefix)."""

from ulid import ULID


def new_id(prefix: str) -> str:
    return f"{prefix}_{ULID()}"
