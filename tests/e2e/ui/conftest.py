"""Browser tests of the dashboard: Debian's chromium (`make browser` installs it) driven by Playwright, one browser
for the session and a fresh context (cookies, storage) per test. Screenshots go to test-artifacts/ui/."""

import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright
from tally_stack.system import System

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "ui"


@dataclass(frozen=True)
class Person:
    email: str
    password: str
    role: str


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not CHROMIUM.exists():
        pytest.fail(f"no {CHROMIUM}: run `make browser` (installs Debian's chromium)")
    return CHROMIUM


@pytest.fixture(scope="session")
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    args = ["--no-sandbox"] if os.geteuid() == 0 else []  # chromium refuses to sandbox as root
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(chromium), args=args)
        yield launched
        await launched.close()


@pytest.fixture
async def page(browser: Browser, system: System) -> AsyncIterator[Page]:
    context = await browser.new_context(
        base_url=system.url("gateway"),
        locale="en-US",
        timezone_id="UTC",
        viewport={"width": 1280, "height": 900},
        accept_downloads=True,
    )
    opened = await context.new_page()
    broken: list[str] = []  # uncaught script errors and Content-Security-Policy refusals, on every page of the test
    opened.on("pageerror", lambda error: broken.append(f"page error: {error}"))
    opened.on("console", lambda m: broken.append(m.text) if "Content Security Policy" in m.text else None)
    yield opened
    await context.close()
    assert broken == []


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
async def people(system: System) -> dict[str, Person]:
    """An admin and a viewer, made with the bootstrap key; the tests that sign in skip while the gateway has no
    users or login."""
    made: dict[str, Person] = {}
    headers = {"Authorization": f"Bearer {system.stack.api_key}"}
    async with httpx.AsyncClient(base_url=system.url("gateway"), headers=headers, timeout=10) as http:
        for role in ("admin", "viewer"):
            person = Person(f"ui-{role}-{secrets.token_hex(4)}@example.com", secrets.token_urlsafe(18), role)
            created = await http.post(
                "/v1/users", json={"email": person.email, "password": person.password, "role": role}
            )
            if created.status_code in {404, 405}:
                pytest.skip("this gateway has no /v1/users yet: the signed-in pages cannot be tested")
            assert created.status_code == 201, created.text
            made[role] = person
        probe = await http.post(
            "/v1/auth/login", json={"email": made["admin"].email, "password": made["admin"].password}
        )
        if probe.status_code in {404, 405}:
            pytest.skip("this gateway has no /v1/auth/login yet")
        assert probe.status_code == 200, probe.text
    return made


@pytest.fixture
def sign_in(page: Page) -> "SignIn":
    return SignIn(page)


class SignIn:
    def __init__(self, page: Page) -> None:
        self.page = page

    async def __call__(self, person: Person) -> None:
        await self.page.goto("/")
        await self.page.get_by_label("Email").fill(person.email)
        await self.page.get_by_label("Password").fill(person.password)
        await self.page.get_by_role("button", name="Sign in").click()
        await self.page.get_by_role("heading", name="Overview").wait_for()
