"""The API docs pages at /schema load nothing but files shipped in the package.

Every page the OpenAPI router serves is fetched; every ``src``/``href`` it names must be a
path on this service that answers 200 with the bytes of the vendored file whose SHA-256
``vendor/VERSIONS.json`` records (the copy ``npm run check-vendor`` compares with the lock).
The browser test ``tests/browser/test_console.py::test_api_docs_work_offline`` opens them.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, Final

import pytest
from litestar.testing import TestClient

from server.console import STATIC_DIR

pytestmark = pytest.mark.integration

#: what a page's HTML asks the browser to load
ASSET: Final = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")
#: an absolute URL anywhere in a page's own markup and inline script
ABSOLUTE: Final = re.compile(r"""(?:https?:)?//[A-Za-z0-9.-]+""")


def _pages(client: TestClient[Any]) -> list[str]:
    return sorted({r.path for r in client.app.routes
                   if r.path.startswith("/schema") and "{" not in r.path
                   and not r.path.endswith((".json", ".yaml", ".yml"))})


def _shipped() -> dict[str, str]:
    """URL path -> SHA-256 of every vendored file (from VERSIONS.json)."""
    versions = json.loads((STATIC_DIR / "vendor" / "VERSIONS.json").read_text("utf-8"))
    folders = {"leaflet": "leaflet", "uplot": "uplot", "swagger-ui-dist": "swagger-ui"}
    return {f"/console/vendor/{folders[lib]}/{name}": sha
            for lib, entry in versions.items() for name, sha in entry["files"].items()}


def test_every_docs_page_loads_only_vendored_files(client: TestClient[Any]) -> None:
    pages = _pages(client)
    assert {"/schema", "/schema/swagger"} <= set(pages)
    shipped = _shipped()
    seen: set[str] = set()
    for page in pages:
        r = client.get(page)
        assert r.status_code == 200, page
        html = r.text
        # the page's own markup (not the embedded OpenAPI document, whose texts are data)
        markup = html.split('"openapi":', 1)[0] + html.rsplit("dom_id", 1)[-1]
        assert ABSOLUTE.findall(markup) == [], f"{page} names another host"
        for url in ASSET.findall(html):
            assert url.startswith("/"), (page, url)
            assert not url.startswith("//"), (page, url)
            asset = client.get(url)
            assert asset.status_code == 200, url
            if url in shipped:
                assert hashlib.sha256(asset.content).hexdigest() == shipped[url], url
            seen.add(url)
    # Swagger UI: its script bundle, preset and styles, all checked against the lock's hashes
    assert {"/console/vendor/swagger-ui/swagger-ui-bundle.js",
            "/console/vendor/swagger-ui/swagger-ui-standalone-preset.js",
            "/console/vendor/swagger-ui/swagger-ui.css"} <= seen & set(shipped)


def test_the_vendored_docs_bundle_fetches_no_fonts_or_images_from_a_cdn() -> None:
    """The CSS Swagger UI ships would load a web font or image by URL: none does."""
    css = (STATIC_DIR / "vendor" / "swagger-ui" / "swagger-ui.css").read_text("utf-8")
    urls = re.findall(r"url\(\s*['\"]?([^'\")]+)", css)
    assert [u for u in urls if not u.startswith("data:")] == []
