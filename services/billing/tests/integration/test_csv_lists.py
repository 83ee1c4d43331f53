"""Every list endpoint answers `Accept: text/csv` with the same page as rows (the dashboard's export buttons)."""

import csv
import io
from typing import Any

import pytest


@pytest.mark.parametrize(
    ("path", "key"),
    [
        ("/v1/customers", "id"),
        ("/v1/invoices", "id"),
        ("/v1/subscriptions", "id"),
        ("/v1/plans", "key"),
        ("/v1/meters", "id"),
    ],
)
async def test_a_list_page_as_csv_holds_the_same_rows_as_its_json(kit: Any, path: str, key: str) -> None:
    meter, _ = await kit.count_meter()
    customer = await kit.customer(name="=HYPERLINK(1)")
    await kit.created("/v1/subscriptions", {"customer_id": customer["id"], "plan_key": await kit.plan(meter)})
    params: dict[str, Any] = {"limit": 20}
    if path in ("/v1/invoices", "/v1/subscriptions"):
        params["customer_id"] = customer["id"]
    elif path == "/v1/customers":
        params["search"] = customer["external_id"]

    page = (await kit.api.get(path, params=params)).json()
    answer = await kit.api.get(path, params=params, headers={"Accept": "text/csv"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [row[key] for row in rows] == [item[key] for item in page["data"]]
    assert rows
    if path == "/v1/customers":
        assert [row["name"] for row in rows] == ["'=HYPERLINK(1)"]  # a formula stays text in a spreadsheet
