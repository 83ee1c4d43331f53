"""Input shapes shared by the gateway's own routes: ids and cursors are plain tokens, text has no control
characters (Postgres cannot store NUL, and nothing a person types needs the others)."""

import re
from typing import Annotated

from fastapi import Path, Query
from pydantic import AfterValidator

TOKEN = r"^[A-Za-z0-9_\-]{1,64}$"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def no_control_characters(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return value


PlainText = Annotated[str, AfterValidator(no_control_characters)]
ResourceId = Annotated[str, Path(pattern=TOKEN, description="e.g. `usr_01J...`")]
Cursor = Annotated[str | None, Query(pattern=TOKEN, description="Cursor from the previous page")]
