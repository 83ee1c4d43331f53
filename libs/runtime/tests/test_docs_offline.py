from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from tally_runtime.http import create_api


@asynccontextmanager
async def nothing(_: FastAPI) -> AsyncIterator[None]:
    yield


async def test_the_api_docs_load_everything_from_the_service_itself() -> None:
    app = create_api("Docs test", lifespan=nothing, readiness=lambda _: {})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc") as client:
        for page in ("/docs", "/redoc"):
            html = (await client.get(page)).text
            assert "https://" not in html
            for asset in ("swagger-ui-bundle.js", "swagger-ui.css") if page == "/docs" else ("redoc.standalone.js",):
                assert f"/static-offline-docs/{asset}" in html
                assert (await client.get(f"/static-offline-docs/{asset}")).status_code == 200
