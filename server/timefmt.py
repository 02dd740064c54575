"""UTC timestamps as stored text: the service's one form, defined in ``core.time``.

Kept as a module so existing imports keep working; see ``core.time`` for the form, the
accepted range and why years are zero-padded.
"""

from __future__ import annotations

from core.time import from_db, opt_from_db, opt_to_db, to_db

__all__ = ["from_db", "opt_from_db", "opt_to_db", "to_db"]
