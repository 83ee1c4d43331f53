"""Answering a table endpoint as JSON or, when the client asks for `text/csv`, as a CSV download (every service's
list and table endpoints)."""

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

CSV = "text/csv"
JSON = "application/json"
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def wants_csv(request: Request) -> bool:
    """True when the Accept header prefers text/csv to JSON (highest q wins; ties go to the first listed)."""
    best, best_q = JSON, 0.0
    for part in request.headers.get("accept", "").split(","):
        media, _, params = part.strip().partition(";")
        media = media.strip().lower()
        if media not in {CSV, JSON, "application/*", "text/*", "*/*"}:
            continue
        q = _quality(params)
        if q > best_q:
            best, best_q = media, q
    return best in {CSV, "text/*"}


def _quality(params: str) -> float:
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.strip() == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0


def table_response(
    request: Request,
    payload: Any,
    rows: Sequence[Mapping[str, Any]],
    *,
    filename: str,
    columns: Sequence[str] | None = None,
) -> Response:
    """`payload` as JSON; or, for `Accept: text/csv`, `rows` as CSV with nested mappings flattened into dotted
    columns (`customers.opening`). `columns` fixes the header (else: every key of the rows, in first-seen order)."""
    if not wants_csv(request):
        return json_response(payload)
    return csv_response(rows, filename=filename, columns=columns)


def json_response(payload: Any) -> Response:
    """A pydantic model encoded by pydantic itself (as FastAPI would answer it: by alias), in one pass; anything else
    through FastAPI's encoder."""
    if isinstance(payload, BaseModel):
        return Response(payload.model_dump_json(by_alias=True), media_type=JSON)
    return JSONResponse(jsonable_encoder(payload))


def csv_response(rows: Sequence[Mapping[str, Any]], *, filename: str, columns: Sequence[str] | None = None) -> Response:
    flat = [_flatten(jsonable_encoder(row)) for row in rows]
    header = list(columns) if columns is not None else _keys(flat)
    return Response(
        to_csv(header, flat),
        media_type=f"{CSV}; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{filename}.csv"'},
    )


class Page(Protocol):
    """A cursor page of a list endpoint: `{"data": [...], "next_cursor": ...}`."""

    @property
    def data(self) -> Sequence[BaseModel]: ...


def page_response(request: Request, page: Page, *, filename: str) -> Response:
    """A list endpoint's page as JSON, or its rows (this page's) as CSV."""
    if not wants_csv(request):
        return json_response(page)
    return csv_response([row.model_dump(mode="json") for row in page.data], filename=filename)


def to_csv(header: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(row.get(name)) for name in header])
    return out.getvalue()


def _flatten(row: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def _keys(rows: Iterable[Mapping[str, Any]]) -> list[str]:
    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(row))
    return list(seen)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list | dict):
        value = json.dumps(value, separators=(",", ":"))
    text = str(value)
    # A spreadsheet would run a text cell starting like a formula; quote it as text.
    return f"'{text}" if text.startswith(_FORMULA_PREFIXES) else text


# For a table endpoint's decorator: its OpenAPI entry lists the CSV answer next to the JSON one.
CSV_RESPONSES: dict[int | str, dict[str, Any]] = {200: {"content": {CSV: {}}}}
