"""The interactive API documentation (Swagger UI), served from the installed package.

Nothing is loaded from a CDN: the page works offline, and every script it runs comes
from this origin, so the Content-Security-Policy (:mod:`cvid._http`) holds. The page
starts Swagger UI with a static script of ours (``static/swagger-init.js``), never an
inline one.

The packaged Swagger UI (4.x) reads OpenAPI 3.0 only, and FastAPI writes 3.1; the
page therefore reads ``/api/docs/openapi.json``, the application's own document with
its one 3.1 construct (``anyOf`` with ``{"type": "null"}``) written the 3.0 way
(``nullable``). The API's description of record stays the 3.1 document.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

from cvid.service.problems import problem

DOCS_PATH = "/api/docs"
ASSETS_PATH = DOCS_PATH + "/assets"
OPENAPI_30_PATH = DOCS_PATH + "/openapi.json"
_OURS = Path(__file__).parent / "static"
# The files the page needs, by the name it asks for; nothing else is served here.
ASSETS: dict[str, tuple[Path, str]] = {
    "swagger-ui-bundle.js": (Path(swagger_ui_path) / "swagger-ui-bundle.js", "text/javascript"),
    "swagger-ui.css": (Path(swagger_ui_path) / "swagger-ui.css", "text/css"),
    "favicon-32x32.png": (Path(swagger_ui_path) / "favicon-32x32.png", "image/png"),
    "swagger-init.js": (_OURS / "swagger-init.js", "text/javascript"),
}

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" type="image/png" href="{assets}/favicon-32x32.png">
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<script src="{assets}/swagger-ui-bundle.js" defer></script>
<script src="{assets}/swagger-init.js" defer></script>
</head>
<body>
<div id="swagger-ui" data-openapi="{openapi_url}"></div>
<noscript><p>The interactive documentation needs JavaScript; the API's description
is <a href="{openapi_url}">an OpenAPI document</a>.</p></noscript>
</body>
</html>
"""


def openapi_30(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` (OpenAPI 3.1, as FastAPI writes it) as Swagger UI 4 reads it (3.0).

    Each ``anyOf`` holding ``{"type": "null"}`` loses it and gains ``nullable``; an
    ``anyOf`` left with one schema is merged into its parent. Nothing else changes.
    """
    converted = _nullable(document)
    assert isinstance(converted, dict)
    return {**converted, "openapi": "3.0.3"}


def _nullable(node: Any) -> Any:
    if isinstance(node, list):
        return [_nullable(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _nullable(value) for key, value in node.items()}
    choices = out.get("anyOf")
    if isinstance(choices, list) and {"type": "null"} in choices:
        rest = [c for c in choices if c != {"type": "null"}]
        del out["anyOf"]
        out["nullable"] = True
        if len(rest) == 1 and isinstance(rest[0], dict):
            out = {**rest[0], **out}
        elif rest:
            out["anyOf"] = rest
    return out


def docs_router(*, title: str) -> APIRouter:
    """``/api/docs`` (the page), what it loads, and the 3.0 document it reads.

    Args:
        title: the page title.
    """
    router = APIRouter(include_in_schema=False)
    page = _PAGE.format(
        title=html.escape(title),
        assets=ASSETS_PATH,
        openapi_url=OPENAPI_30_PATH,
    )

    @router.get(DOCS_PATH)
    def docs() -> HTMLResponse:
        return HTMLResponse(page)

    @router.get(OPENAPI_30_PATH)
    def openapi(request: Request) -> JSONResponse:
        return JSONResponse(openapi_30(request.app.openapi()))

    @router.get(ASSETS_PATH + "/{name}")
    def asset(name: str) -> Response:
        found = ASSETS.get(name)
        if found is None:
            return problem(404, "not-found", f"there is no file {name[:64]!r} here")
        path, media_type = found
        return FileResponse(
            path, media_type=media_type, headers={"Cache-Control": "public, max-age=3600"}
        )

    return router


__all__ = ["ASSETS", "DOCS_PATH", "OPENAPI_30_PATH", "docs_router", "openapi_30"]
