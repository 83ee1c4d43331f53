"""The web dashboard at `/`: the built assets of `services/gateway/web` (`make web`), and `index.html` for every
client-side route. Installed after every other route, so it only answers paths nothing else does."""

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, Response
from starlette.routing import Match, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope
from tally_runtime.problems import Problem

STATIC = Path(__file__).parent / "static"
# Paths that belong to the API, the docs or the probes: an unknown one there is a 404, never the dashboard's page.
NOT_PAGES = ("v1", "docs", "redoc", "openapi.json", "metrics", "healthz", "readyz", "assets")
# Everything the page loads comes from this origin; no inline script or style, no framing.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-cache",
}


class Assets(StaticFiles):
    """Vite names each build's files by their hash: they never change, so browsers may keep them."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
            response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def page_for(path: str, static: Path = STATIC) -> Path | None:
    """The file to answer `GET /<path>` with: a top-level file of the build (favicon), or `index.html` for a
    client-side route (`/customers/acme.42` included); None for an API path or a missing file (a 404)."""
    if path.startswith(NOT_PAGES):
        return None
    if "/" in path or "." not in path:
        return static / "index.html"
    candidate = static / path
    if path.startswith(".") or not candidate.is_file() or candidate.resolve().parent != static.resolve():
        return None
    return candidate


class PageRoute(Route):
    """`GET /{path}` for the dashboard's pages; it never matches an API path, so an unknown route or method there
    keeps its own 404 or 405."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and scope["path"].lstrip("/").startswith(NOT_PAGES):
            return Match.NONE, {}
        return super().matches(scope)


def install_web(app: FastAPI, static: Path = STATIC) -> None:
    """Call last in `create_app`: the catch-all route must come after every API route."""
    if not (static / "index.html").is_file():
        raise RuntimeError(f"The dashboard is not built: no {static / 'index.html'}. Run `make web`.")
    app.mount("/assets", Assets(directory=static / "assets"), name="assets")

    async def page(request: Request) -> Response:
        path: str = request.path_params["path"]
        found = page_for(path, static)
        if found is None:
            raise Problem(404, f"No page or route at /{path}.")
        headers = PAGE_HEADERS if found.suffix == ".html" else {"X-Content-Type-Options": "nosniff"}
        return FileResponse(found, headers=headers)

    app.router.routes.append(PageRoute("/{path:path}", page, methods=["GET", "HEAD"], include_in_schema=False))
