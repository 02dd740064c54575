"""Transport as clients see it: compressed bodies when asked for, CORS on public feeds only."""

from __future__ import annotations

import gzip
import json

import brotli
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from tests.factories import TOKENS, bearer

pytestmark = pytest.mark.integration

API = "/api/v1"


@pytest.mark.parametrize(("accept", "encoding", "decode"), [
    ("gzip", "gzip", gzip.decompress),
    ("br, gzip", "br", brotli.decompress),
])
def test_a_sync_pull_is_compressed_as_the_tablet_accepts(
        client: TestClient[Litestar], accept: str, encoding: str, decode: object) -> None:
    plain = client.post(f"{API}/sync/pull", json={"cursor": None},
                        headers={**bearer(TOKENS["crew_a"]), "Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    # read the raw bytes off the wire, before the test client would decode them
    with client.stream("POST", f"{API}/sync/pull", json={"cursor": None},
                       headers={**bearer(TOKENS["crew_a"]), "Accept-Encoding": accept}) as r:
        raw = b"".join(r.iter_raw())
        assert r.headers["content-encoding"] == encoding
    assert callable(decode)
    body = decode(raw)
    assert len(raw) * 3 < len(body)
    assert json.loads(body)["upserts"] == plain.json()["upserts"]


def test_public_feeds_allow_any_origin_and_the_api_does_not(
        client: TestClient[Litestar]) -> None:
    feed = client.get(f"{API}/public/health", headers={"Origin": "https://news.example"})
    assert feed.headers["access-control-allow-origin"] == "*"
    api = client.get(f"{API}/workorders", headers={**bearer(TOKENS["dispatcher"]),
                                                    "Origin": "https://news.example"})
    assert api.status_code == 200
    assert "access-control-allow-origin" not in api.headers
