"""docs/api.md's problem table is generated from the catalogue: it cannot drift from it."""

from __future__ import annotations

import pytest

from core.problems import CATALOGUE
from server import problemdoc

pytestmark = pytest.mark.unit


def test_docs_api_md_problem_table_is_up_to_date() -> None:
    text = problemdoc.DOC.read_text(encoding="utf-8")
    assert text == problemdoc.render(text), (
        "docs/api.md is stale: run python -m server.problemdoc")


def test_every_catalogued_type_has_an_anchored_row() -> None:
    text = problemdoc.DOC.read_text(encoding="utf-8")
    for code, row in CATALOGUE.items():
        assert f'<a id="{code}"></a>`{code}` | {row.status} |' in text
