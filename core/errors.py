"""The one base of every error the service raises on purpose.

A leaf names its problem type by ``code`` (a key of ``core.problems.CATALOGUE``) and
nothing else: its ``http_status`` and ``title`` are copied from the catalogue row when the
class is defined, and a code that is not catalogued stops the import. So a problem type
has one status however many classes raise it, and every package (``sync``, ``geo``,
``notifications``, ``hardware_adapters`` and ``server``'s own domain) uses the same row
without knowing HTTP. Structured attributes (ids, the bad line, what to resend) travel in
``extra`` and become the problem's extension members.

A family base (``GeoError``, ``SyncError``...) declares no code of its own: raising one
bare is a bug, answered as ``internal-error``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from core.problems import CATALOGUE


class UncataloguedProblemError(TypeError):
    """An error class names a ``code`` that ``core.problems.CATALOGUE`` does not list."""


class WaterOpsError(Exception):
    """Base of every domain error: ``code`` picks the catalogue row; ``extra`` the fields."""

    code: ClassVar[str] = "internal-error"
    http_status: ClassVar[int] = CATALOGUE["internal-error"].status
    title: ClassVar[str] = CATALOGUE["internal-error"].title

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        code = cls.__dict__.get("code")
        if code is None:
            return
        row = CATALOGUE.get(code)
        if row is None:
            raise UncataloguedProblemError(
                f"{cls.__module__}.{cls.__qualname__}: problem code {code!r} is not in "
                "core.problems.CATALOGUE")
        cls.http_status = row.status
        cls.title = row.title

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra: dict[str, Any] = extra
