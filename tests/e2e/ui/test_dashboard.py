"""The dashboard as a person uses it, against every service running as processes: the gateway serves it, a person
signs in, reads the KPIs, opens a customer, changes its plan, watches a payment arrive live and exports a CSV."""

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import anyio
import httpx
import pytest
import stripe
from playwright.async_api import Page, expect
from tally_stack.system import System
from tally_stack.testing import eventually

pytestmark = pytest.mark.e2e

INJECTED = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'
LIVE_TIMEOUT_MS = 60_000


@pytest.fixture
async def api(system: System) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {system.stack.api_key}"}
    async with httpx.AsyncClient(base_url=system.url("gateway"), headers=headers, timeout=15) as http:
        yield http


async def created(api: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await api.post(path, json=body)
    assert response.status_code in {200, 201}, response.text
    result: dict[str, Any] = response.json()
    return result


async def plan(api: httpx.AsyncClient, name: str, price_minor: int) -> str:
    key = f"ui_{name.lower()}_{uuid4().hex[:6]}"
    body = {"key": key, "name": f"{name} {key[-6:]}", "currency": "USD", "interval": "month"}
    await created(api, "/v1/plans", body | {"base_price_minor": price_minor})
    return key


async def screenshot(page: Page, artifacts: Path, name: str) -> None:
    await page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)


async def test_the_gateway_serves_the_dashboard_next_to_the_api(system: System) -> None:
    async with httpx.AsyncClient(base_url=system.url("gateway"), timeout=10) as http:
        index = await http.get("/")
        assert index.status_code == 200
        assert index.headers["content-type"].startswith("text/html")
        assert "script-src 'self'" in index.headers["content-security-policy"]
        assert '<div id="app">' in index.text
        [script] = re.findall(r'src="(/assets/[^"]+\.js)"', index.text)
        asset = await http.get(script)
        assert asset.status_code == 200
        assert "javascript" in asset.headers["content-type"]
        assert "immutable" in asset.headers["cache-control"]

        for client_route in ("/customers/cus_123", "/customers/acme.42", "/plans"):
            page = await http.get(client_route)
            assert (page.status_code, page.text) == (200, index.text), client_route
        assert (await http.get("/favicon.svg")).status_code == 200

        unknown_api = await http.get("/v1/no-such-route")
        assert unknown_api.status_code in {401, 404}
        assert not unknown_api.headers["content-type"].startswith("text/html")
        assert (await http.post("/v1/no-such-route")).status_code in {401, 404}
        assert (await http.get("/no-such-file.js")).status_code == 404
        assert (await http.get("/assets/no-such-file.js")).status_code == 404
        assert (await http.get("/openapi.json")).headers["content-type"].startswith("application/json")


async def test_the_login_page_says_why_signing_in_failed(page: Page, artifacts: Path) -> None:
    await page.goto("/customers")
    await expect(page.get_by_role("heading", name="Sign in to Tally")).to_be_visible()
    await page.get_by_label("Email").fill(f"nobody-{uuid4().hex[:6]}@example.com")
    await page.get_by_label("Password").fill("not the password")
    await page.get_by_role("button", name="Sign in").click()
    alert = page.get_by_role("alert")
    await expect(alert).to_have_text(
        re.compile(r"^(Wrong email or password\.|Signing in is not available on this gateway yet\.)$")
    )
    await screenshot(page, artifacts, "login-failed")


async def kpi_cards(page: Page) -> dict[str, tuple[str, str]]:
    cards = page.locator("[data-kpi]")
    found: dict[str, tuple[str, str]] = {}
    for index in range(await cards.count()):
        card = cards.nth(index)
        key = await card.get_attribute("data-kpi")
        assert key is not None
        found[key] = (await card.get_attribute("data-value") or "", await card.locator(".kpi-value").inner_text())
    return found


def api_value(raw: Any) -> Any:
    return raw.get("value") if isinstance(raw, dict) else raw


async def test_kpis_equal_the_api(
    page: Page, people: Any, sign_in: Any, api: httpx.AsyncClient, artifacts: Path
) -> None:
    await sign_in(people["admin"])
    panel = page.locator("#kpis")
    await expect(panel).not_to_have_attribute("data-state", "loading")

    async def same_as_api() -> None:
        dashboard = (await api.get("/v1/dashboard")).json()
        kpis = dashboard["panels"]["kpis"]
        if kpis["status"] != "ok":
            await expect(panel).to_have_attribute("data-state", "error")
            return
        shown = await kpi_cards(page)
        assert set(shown) == {"mrr", "arr", "active_customers", "customer_churn_rate", "nrr", "arpa"}
        for key, (value, _) in shown.items():
            expected = api_value(kpis["data"].get(key))
            assert (value == "") if expected is None else float(value) == float(expected), key
        mrr = api_value(kpis["data"]["mrr"])
        if kpis["data"].get("currency", "USD") == "USD" and mrr is not None:
            assert shown["mrr"][1] == f"${int(mrr) / 100:,.2f}"

    async def refreshed() -> None:
        try:
            await same_as_api()
        except AssertionError:  # the projections moved since the page loaded: look again
            await page.get_by_role("button", name="Refresh").click()
            await expect(panel).not_to_have_attribute("data-state", "loading")
            raise

    await eventually(refreshed, 30)
    await screenshot(page, artifacts, "overview")

    await page.set_viewport_size({"width": 390, "height": 844})  # a phone: the page reflows, only tables scroll
    await expect(page.locator("[data-kpi='mrr']")).to_be_visible()
    # the charts follow the new width on their next frames (Chart.js resizes through a ResizeObserver)
    await page.wait_for_function("document.documentElement.scrollWidth <= window.innerWidth", timeout=10_000)
    await screenshot(page, artifacts, "overview-phone")


async def test_an_admin_opens_a_customer_and_changes_its_plan(
    page: Page, people: Any, sign_in: Any, api: httpx.AsyncClient, artifacts: Path
) -> None:
    starter, pro = await plan(api, "Starter", 1_000), await plan(api, "Pro", 5_000)
    meter = f"ui_sms_{uuid4().hex[:6]}"
    await created(api, "/v1/meters", {"key": meter, "event_type": "sms.sent", "aggregation": "count"})
    external_id = f"ui-{uuid4().hex[:8]}"
    customer = await created(api, "/v1/customers", {"external_id": external_id, "name": INJECTED, "currency": "USD"})
    subscription = await created(api, "/v1/subscriptions", {"customer_id": customer["id"], "plan_key": starter})

    await sign_in(people["admin"])
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Customers").click()
    await page.get_by_label("Search by name, email or external id").fill(external_id)
    await page.get_by_role("button", name="Search").click()
    await page.get_by_role("link", name=INJECTED).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(INJECTED)
    plan_panel = page.locator("#subscriptions")
    await expect(plan_panel.get_by_role("cell", name=f"{starter} v1")).to_be_visible()

    await plan_panel.get_by_label("Change plan").select_option(pro)
    await plan_panel.get_by_role("button", name="Change").click()
    await expect(plan_panel.get_by_role("status")).to_have_text(f"Now on {pro}.")
    await expect(plan_panel.get_by_role("cell", name=f"{pro} v1")).to_be_visible()
    after = (await api.get(f"/v1/subscriptions/{subscription['id']}")).json()
    assert after["plan"]["key"] == pro

    credits = page.locator("#credits")
    await credits.get_by_label("Credit type").fill("sms_campaigns")
    await credits.get_by_label("Meter").select_option(meter)
    await credits.get_by_label("Units granted").fill("500")
    await credits.get_by_label("Unit cost (minor units)").fill("2.5")
    await credits.get_by_role("button", name="Grant").click()
    await expect(credits.get_by_role("status")).to_contain_text("Granted")
    await expect(credits.get_by_role("cell", name="500 of 500")).to_be_visible()
    [grant] = (await api.get(f"/v1/customers/{customer['id']}/credits")).json()["grants"]
    assert (grant["meter"], grant["quantity"], grant["amount_minor"]) == (meter, "500", 1250)

    assert await page.evaluate("window.__pwned") is None  # the name was shown as text, never run
    await screenshot(page, artifacts, "customer")


async def test_an_admin_creates_a_plan(page: Page, people: Any, sign_in: Any, api: httpx.AsyncClient) -> None:
    key = f"ui_team_{uuid4().hex[:6]}"
    await sign_in(people["admin"])
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Plans").click()
    form = page.get_by_role("form", name="Create a plan")
    await form.get_by_label("Key").fill(key)
    await form.get_by_label("Name").fill("Team")
    await form.get_by_label("Price per interval (minor units)").fill("2900")
    await form.get_by_label("Limits and features").fill("sso=true")
    await form.get_by_role("button", name="Create plan").click()
    await expect(form.get_by_role("status")).to_have_text(f"Created Team ({key} v1).")
    await expect(page.locator("#plans").get_by_role("cell", name=f"Team ({key} v1)")).to_be_visible()
    stored = (await api.get(f"/v1/plans/{key}")).json()
    assert (stored["base_price_minor"], stored["entitlements"]) == (2900, {"sso": True})

    await form.get_by_label("Key").fill(key)  # the same key again: billing's 409 is shown, not swallowed
    await form.get_by_label("Name").fill("Team again")
    await form.get_by_label("Price per interval (minor units)").fill("2900")
    await form.get_by_role("button", name="Create plan").click()
    await expect(form.get_by_role("alert")).to_be_visible()


async def test_a_viewer_sees_no_admin_forms(page: Page, people: Any, sign_in: Any) -> None:
    await sign_in(people["viewer"])
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Plans").click()
    await expect(page.get_by_role("heading", name="Plans and subscriptions")).to_be_visible()
    await expect(page.locator("#plans")).not_to_have_attribute("data-state", "loading")
    assert await page.get_by_role("form", name="Create a plan").count() == 0
    assert await page.get_by_role("button", name="Change plan").count() == 0


async def card(system: System) -> str:
    """A payment method as Stripe.js would make it in the customer's browser (localstripe takes 4242...)."""
    stripe_api = system.local_stripe
    client = stripe.StripeClient(stripe_api.api_key, base_addresses={"api": stripe_api.api_base})
    method = await client.v1.payment_methods.create_async(
        {"type": "card", "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}}
    )
    return str(method.id)


async def test_a_payment_arrives_live_in_the_feed(
    *, page: Page, people: Any, sign_in: Any, api: httpx.AsyncClient, system: System, artifacts: Path
) -> None:
    await sign_in(people["admin"])
    feed = page.locator("#alerts")
    await expect(feed.locator("[data-live]")).to_have_attribute("data-live", "live", timeout=15_000)

    plan_key = await plan(api, "Live", 2_500)
    customer = await created(api, "/v1/customers", {"name": "Live feed Ltd", "currency": "USD"})
    await created(api, f"/v1/customers/{customer['id']}/payment-method", {"payment_method": await card(system)})
    await created(api, "/v1/subscriptions", {"customer_id": customer["id"], "plan_key": plan_key})

    arrived = feed.locator(".feed-item[data-type='tally.payment.succeeded']", has_text=customer["id"])
    await expect(arrived).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    await expect(arrived).to_contain_text("$25.00")
    await screenshot(page, artifacts, "live-feed")


async def test_the_mrr_bridge_exports_as_csv(page: Page, people: Any, sign_in: Any, api: httpx.AsyncClient) -> None:
    await sign_in(people["admin"])
    async with page.expect_download() as download_info:
        await page.locator("#mrr-bridge").get_by_role("button", name="Export CSV").click()
    download = await download_info.value
    assert download.suggested_filename == "mrr-bridge.csv"
    exported = await anyio.Path(await download.path()).read_text()
    direct = await api.get("/v1/metrics/mrr", headers={"Accept": "text/csv"})
    assert direct.status_code == 200
    assert exported.splitlines()[0] == direct.text.splitlines()[0]
    assert "month" in exported.splitlines()[0]
