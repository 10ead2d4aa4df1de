"""`/docs` (Swagger UI) and `/redoc` from assets this process serves, never from a CDN.

The assets are the Swagger UI and Redoc builds shipped by the `fastapi-offline` package; we
use only its static files. The pages carry no inline script (Swagger UI starts from
`/docs/assets/init.js`), so they keep the pages' Content-Security-Policy: this origin only,
plus `worker-src blob:` for the search worker Redoc builds from its own code. Redoc's sidebar
badge would load its logo from Redocly's CDN: the served script points it at our favicon.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, Response

from dispatch.web.pages import CSP

ASSETS = Path(str(files("fastapi_offline") / "static"))
SERVED = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "redoc.standalone.js": "text/javascript; charset=utf-8",
    "favicon.png": "image/png",
}
REDOC_LOGO = (b"https://cdn.redoc.ly/redoc/logo-mini.svg", b"/docs/assets/favicon.png")
HEADERS = {
    "Content-Security-Policy": f"{CSP}; worker-src 'self' blob:",
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
}
ASSET_HEADERS = {"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"}
INIT = """window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  layout: "BaseLayout",
  persistAuthorization: true
});
"""


def _page(title: str, head: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<link rel="icon" href="/docs/assets/favicon.png">{head}</head><body>{body}</body></html>'
    )


SWAGGER = _page(
    "Yiwang API — Swagger UI",
    '<link rel="stylesheet" href="/docs/assets/swagger-ui.css">',
    '<div id="swagger-ui"></div><script src="/docs/assets/swagger-ui-bundle.js"></script>'
    '<script src="/docs/assets/init.js"></script>',
)
REDOC = _page(
    "Yiwang API — ReDoc",
    "<style>body{margin:0}</style>",
    '<redoc spec-url="/openapi.json"></redoc><script src="/docs/assets/redoc.standalone.js"></script>',
)


def create_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)
    redoc_js = (ASSETS / "redoc.standalone.js").read_bytes().replace(*REDOC_LOGO)

    @router.get("/docs")
    def swagger() -> HTMLResponse:
        return HTMLResponse(SWAGGER, headers=HEADERS)

    @router.get("/redoc")
    def redoc() -> HTMLResponse:
        return HTMLResponse(REDOC, headers=HEADERS)

    @router.get("/docs/assets/{name}")
    def asset(name: str) -> Response:
        if name == "init.js":
            return Response(INIT, media_type=SERVED["redoc.standalone.js"], headers=ASSET_HEADERS)
        if name == "redoc.standalone.js":
            return Response(redoc_js, media_type=SERVED[name], headers=ASSET_HEADERS)
        if name not in SERVED:
            return Response("not found", status_code=404, media_type="text/plain")
        return FileResponse(ASSETS / name, media_type=SERVED[name], headers=ASSET_HEADERS)

    return router
