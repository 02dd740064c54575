"""Signature strokes: validation and deterministic PNG/SVG rendering."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from server.fieldwork.errors import BadSignatureError
from server.fieldwork.signatures import SignatureStrokes, strokes_hash, to_png, to_svg, validate

pytestmark = pytest.mark.unit

SIG = SignatureStrokes(width=300, height=120, strokes=[[(10, 10), (60, 80), (120, 20)],
                                                       [(150, 60)]])


def test_png_is_deterministic_and_has_ink() -> None:
    png = to_png(SIG)
    assert png == to_png(SIG)
    image = Image.open(io.BytesIO(png))
    assert image.size == (300, 120)
    assert image.getextrema()[0] == 0  # some black pixels


def test_svg_has_a_polyline_per_stroke_and_a_dot_for_a_tap() -> None:
    svg = to_svg(SIG)
    assert svg.count("<polyline") == 1
    assert svg.count("<circle") == 1
    assert 'width="300"' in svg


def test_different_strokes_hash_differently() -> None:
    other = SignatureStrokes(width=300, height=120, strokes=[[(10, 10), (60, 81)]])
    assert strokes_hash(SIG) != strokes_hash(other)


@pytest.mark.parametrize("bad", [
    SignatureStrokes(width=300, height=120, strokes=[]),
    SignatureStrokes(width=300, height=120, strokes=[[(10, 10)]]),
    SignatureStrokes(width=0, height=120, strokes=[[(0, 0), (1, 1)]]),
    SignatureStrokes(width=300, height=120, strokes=[[(10, 10), (400, 10)]]),
])
def test_malformed_signatures_are_refused(bad: SignatureStrokes) -> None:
    with pytest.raises(BadSignatureError):
        validate(bad)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.lists(st.tuples(st.floats(0, 200), st.floats(0, 100)), min_size=2,
                         max_size=20), min_size=1, max_size=5))
def test_any_in_canvas_stroke_set_validates_and_renders(strokes: list[list[tuple[float, float]]]
                                                        ) -> None:
    sig = SignatureStrokes(width=200, height=100, strokes=strokes)
    validate(sig)
    assert to_png(sig).startswith(b"\x89PNG")
