"""The real ``waterops serve --demo`` serves the console and offline API docs from the
package, and a browser-style cookie session works against it."""

from __future__ import annotations

import pytest

from tests.e2e.api_client import Api

pytestmark = pytest.mark.e2e


def test_console_and_docs_come_from_the_package(live_server: str) -> None:
    api = Api(live_server)
    try:
        page = api.console_page()
        assert page.status_code == 200
        assert "调度台" in page.text
        assert "default-src 'self'" in page.headers["content-security-policy"]
        assert "/console/vendor/leaflet/leaflet.js" in page.text
        for asset in ("/console/vendor/leaflet/leaflet.js", "/console/js/app.js",
                      "/console/vendor/uplot/uPlot.iife.min.js",
                      "/console/vendor/swagger-ui/swagger-ui-bundle.js"):
            assert api.http.get(asset).status_code == 200, asset
        docs = api.schema_page()
        assert "/console/vendor/swagger-ui/swagger-ui.css" in docs.text
        assert "cdn." not in docs.text
        # a cookie session, as the page holds it
        assert api.console_sign_in("wo_demo_dispatcher").status_code == 200
        assert api.console_session().json()["name"] == "王调度"
        pipes = api.console_network().json()["pipes"]["features"]
        assert len(pipes) > 20
    finally:
        api.close()
