"""Cursor pages for list endpoints: `?after=<cursor>&limit=N`, answered with a page and the next cursor."""

from collections.abc import Callable, Sequence
from typing import Annotated, TypeVar

from fastapi import Query
from pydantic import Field

T = TypeVar("T")

After = Annotated[str | None, Query(description="Cursor from the previous page")]
Limit = Annotated[int, Query(ge=1, le=200)]
DEFAULT_LIMIT = 50
NextCursor = Annotated[str | None, Field(description="Pass as `after` for the next page; null on the last page")]


def split_page(rows: Sequence[T], limit: int, cursor_of: Callable[[T], str]) -> tuple[Sequence[T], str | None]:
    """`rows` fetched with `limit + 1`: the page, and the cursor of its last row when more rows follow."""
    page = rows[:limit]
    return page, (cursor_of(page[-1]) if len(rows) > limit else None)
