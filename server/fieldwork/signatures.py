"""A customer's handwritten signature: stroke data captured on the tablet, drawn as SVG/PNG.

The tablet sends what the pen did (strokes of points in canvas pixels, origin top-left),
not a bitmap: strokes are small, lossless, and render at any size for the PDF or the
receipt printer. The stroke data's canonical SHA-256 and the PNG's SHA-256 both go into
the seal, so neither the signature nor its rendering can be swapped afterwards. Rendering
is deterministic (same strokes, same bytes), which lets anyone re-render and compare.
"""

from __future__ import annotations

import io
from typing import Final

import msgspec
from PIL import Image, ImageDraw

from server.fieldwork.errors import BadSignatureError
from server.fieldwork.sealing import canonical, sha256_hex

MAX_STROKES: Final = 200
MAX_POINTS: Final = 20_000
MAX_CANVAS: Final = 4096
PEN_WIDTH: Final = 3


class SignatureStrokes(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Canvas size in pixels and strokes of (x, y) points; a stroke is one pen-down."""

    #: the canvas's width, in pixels
    width: int
    #: the canvas's height, in pixels
    height: int
    #: the pen strokes, each one pen-down as a list of (x, y) pixel points
    strokes: list[list[tuple[float, float]]]
    #: who signed, as the crew typed it (the account holder or their representative)
    signer_name: str = ""


def validate(sig: SignatureStrokes) -> None:
    """Refuse an empty, oversized or off-canvas signature (400: the tablet sent garbage)."""
    if not (1 <= sig.width <= MAX_CANVAS and 1 <= sig.height <= MAX_CANVAS):
        raise BadSignatureError("canvas size out of range", width=sig.width, height=sig.height)
    if not sig.strokes or len(sig.strokes) > MAX_STROKES:
        raise BadSignatureError(f"a signature has 1 to {MAX_STROKES} strokes",
                                strokes=len(sig.strokes))
    total = sum(len(s) for s in sig.strokes)
    if total > MAX_POINTS:
        raise BadSignatureError(f"a signature has at most {MAX_POINTS} points", points=total)
    if total < 2:
        raise BadSignatureError("a signature needs at least two points", points=total)
    for i, stroke in enumerate(sig.strokes):
        for x, y in stroke:
            if not (0 <= x <= sig.width and 0 <= y <= sig.height):
                raise BadSignatureError("a point lies outside the canvas", stroke=i,
                                        x=x, y=y)


def strokes_hash(sig: SignatureStrokes) -> str:
    return sha256_hex(canonical(sig))


def to_svg(sig: SignatureStrokes) -> str:
    """An SVG document with one polyline per stroke (a dot for one-point strokes)."""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{sig.width}" height="{sig.height}" '
        f'viewBox="0 0 {sig.width} {sig.height}">',
        f'<rect width="{sig.width}" height="{sig.height}" fill="white"/>',
    ]
    for stroke in sig.strokes:
        if len(stroke) == 1:
            x, y = stroke[0]
            parts.append(f'<circle cx="{x:g}" cy="{y:g}" r="{PEN_WIDTH / 2:g}" fill="black"/>')
            continue
        points = " ".join(f"{x:g},{y:g}" for x, y in stroke)
        parts.append(f'<polyline points="{points}" fill="none" stroke="black" '
                     f'stroke-width="{PEN_WIDTH}" stroke-linecap="round" '
                     'stroke-linejoin="round"/>')
    parts.append("</svg>")
    return "\n".join(parts)


def to_png(sig: SignatureStrokes) -> bytes:
    """A 1-bit-looking greyscale PNG of the strokes at canvas size (deterministic bytes)."""
    image = Image.new("L", (sig.width, sig.height), 255)
    draw = ImageDraw.Draw(image)
    for stroke in sig.strokes:
        if len(stroke) == 1:
            x, y = stroke[0]
            r = PEN_WIDTH / 2
            draw.ellipse((x - r, y - r, x + r, y + r), fill=0)
        else:
            draw.line(stroke, fill=0, width=PEN_WIDTH, joint="curve")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()
