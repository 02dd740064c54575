"""The dispatch console: browser sign-in sessions, map views and the posting notice.

No Litestar here (the HTTP side is ``server/routes/console.py``); the static files the
browser loads live in ``static/`` and ship inside the package, so the console works
without internet (see docs/console.md).
"""

from pathlib import Path
from typing import Final

STATIC_DIR: Final = Path(__file__).parent / "static"

__all__ = ["STATIC_DIR"]
