"""The pages, served by the API process: HTML from the built bundle and its assets.

| path          | page                                                         |
|---------------|--------------------------------------------------------------|
| `/login`      | login for operators (password) and grid workers (PIN)         |
| `/board`      | the command center: map, live board, filters, actions         |
| `/board/kpi`  | KPIs per street and community, and the trend over days        |
| `/board/people` | district operators: roster import/export, PINs, shift exceptions, on duty |
| `/board/dlq`  | district operators: the dead-letter desk (counts, replay, discard) |
| `/m`          | the grid worker's phone page: my tasks, accept/arrive/resolve |
| `/v`          | the volunteer's phone page: tasks, points, redemptions (公益积分) |
| `/inbox`      | a desk's notices: receive (签收) and answer (反馈)             |
| `/r`          | residents (no account): report a problem, follow it by its code, rate it |

Pages carry no data: they call the API with the token from the login (`/r` anonymously). Assets have
content-hashed names and are cached for a year; HTML is revalidated every time. The
Content-Security-Policy allows scripts, styles and connections from this origin only, so
nothing is ever fetched from a CDN.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from dispatch.web.bundle import DIST

PAGES = {
    "/login": "login",
    "/board": "board",
    "/board/kpi": "kpi",
    "/board/people": "people",
    "/board/dlq": "dlq",
    "/m": "worker",
    "/v": "volunteer",
    "/inbox": "inbox",
    "/r": "resident",
}
ASSET = re.compile(r"^[A-Za-z0-9_-]+\.(js|css|js\.LEGAL\.txt)$")  # built names only: no paths
MEDIA = {"js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8", "txt": "text/plain"}
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
ASSET_HEADERS = {"Cache-Control": "public, max-age=31536000, immutable", "X-Content-Type-Options": "nosniff"}
NOT_BUILT = (
    "<!doctype html><meta charset=utf-8><title>Yiwang</title>"
    "<p>The pages are not built yet: run <code>yiwang web build</code> (or start the API with "
    "<code>yiwang api</code>, which builds them).</p>"
)


def create_router(dist: Path = DIST) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    def page(name: str) -> Response:
        path = dist / f"{name}.html"
        if not path.is_file():
            return HTMLResponse(NOT_BUILT, status_code=503)
        return FileResponse(path, media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)

    def endpoint(name: str) -> Callable[[], Response]:
        def serve() -> Response:
            return page(name)

        return serve

    for url, name in PAGES.items():
        router.add_api_route(url, endpoint(name), methods=["GET"], name=f"page_{name}")

    @router.get("/")
    def root() -> RedirectResponse:
        return RedirectResponse("/board")

    @router.get("/sw-m.js")
    def worker_service_worker() -> Response:
        """The worker page's service worker (scope /m), revalidated on every load."""
        path = dist / "sw-m.js"
        if not path.is_file():
            return Response("not built", status_code=503, media_type="text/plain")
        return FileResponse(path, media_type=MEDIA["js"], headers={"Cache-Control": "no-cache"})

    @router.get("/static/{name}")
    def asset(name: str) -> Response:
        path = dist / "assets" / name
        if not ASSET.match(name) or not path.is_file():
            return Response("not found", status_code=404, media_type="text/plain")
        return FileResponse(path, media_type=MEDIA[name.rsplit(".", 1)[1]], headers=ASSET_HEADERS)

    return router
