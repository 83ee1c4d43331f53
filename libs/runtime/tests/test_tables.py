import csv
import io

from fastapi import Request
from tally_runtime.tables import table_response


def request(accept: str) -> Request:
    return Request({"type": "http", "method": "GET", "path": "/", "headers": [(b"accept", accept.encode())]})


def test_json_unless_csv_is_preferred() -> None:
    rows = [{"month": "2025-01", "customers": {"opening": 1}}]
    assert table_response(request("application/json"), {"a": 1}, rows, filename="x").body == b'{"a":1}'
    assert table_response(request("*/*"), {"a": 1}, rows, filename="x").media_type == "application/json"
    assert table_response(request("application/json;q=0.5, text/csv"), {}, rows, filename="x").media_type.startswith(
        "text/csv"
    )


def test_csv_flattens_nested_columns_and_defuses_formulas() -> None:
    rows = [{"name": "=cmd()", "amount": -5, "customers": {"opening": 1, "closing": 2}, "none": None}]
    response = table_response(request("text/csv"), {}, rows, filename="mrr-2025")
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="mrr-2025.csv"'
    parsed = list(csv.reader(io.StringIO(bytes(response.body).decode())))
    assert parsed == [
        ["name", "amount", "customers.opening", "customers.closing", "none"],
        ["'=cmd()", "-5", "1", "2", ""],
    ]
