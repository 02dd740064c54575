"""Files made for people's spreadsheets.

A CSV opened by double-click in a Chinese Excel is read in the system code page (GBK)
unless it starts with a UTF-8 byte-order mark; with the mark it opens right. Every CSV
the service hands out (HTTP and CLI) goes through ``for_excel``; the producers stay plain
text so programs and tests read them without the mark.
"""

from __future__ import annotations

from typing import Final

#: Litestar adds ``; charset=utf-8`` to text/* types itself: name the type only once
CSV_MEDIA_TYPE: Final = "text/csv"
BOM: Final = "\ufeff"


def for_excel(text: str) -> bytes:
    """``text`` as UTF-8 with a byte-order mark (never two)."""
    return (BOM + text.removeprefix(BOM)).encode("utf-8")
