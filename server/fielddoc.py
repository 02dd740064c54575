"""What a wire Struct's fields mean, read from its source: ``#:`` comments and docstrings.

The Structs are the API's documentation (docs/architecture.md), so the OpenAPI document
takes its words from them instead of repeating them: a field's description is its
``msgspec.Meta(description=...)`` if it has one, else the ``#:`` comment block right
above it (or a ``#:`` comment at the end of its line), the Sphinx convention the code
already follows; a class's description is its docstring. Inherited fields are looked up
in the class that declares them.

The source is read with ``inspect`` and ``tokenize``/``ast``, once per class (the reader
keeps what it read; one reader lives as long as the app's schema plugin). Pure: no
litestar here, so the same reader can serve docs and tests.
"""

from __future__ import annotations

import ast
import inspect
import io
import textwrap
import tokenize
from collections.abc import Mapping
from enum import Enum

import msgspec


def _comments(source: str) -> dict[int, str]:
    """Line number (1-based) -> the text of its ``#:`` comment, if the line has one."""
    out: dict[int, str] = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT and tok.string.startswith("#:"):
            out[tok.start[0]] = tok.string[2:].strip()
    return out


def _own_comments(cls: type) -> dict[str, str]:
    """Field name -> its ``#:`` comment, for the fields ``cls`` itself declares."""
    try:
        source = textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):  # built at run time, or no source shipped
        return {}
    comments = _comments(source)
    lines = source.splitlines()
    tree = ast.parse(source)
    body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
    out: dict[str, str] = {}
    for stmt in body:
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            name = stmt.target.id
        elif (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
              and isinstance(stmt.targets[0], ast.Name)):
            name = stmt.targets[0].id  # an enum member
        else:
            continue
        above: list[str] = []
        line = stmt.lineno - 1
        while line >= 1 and lines[line - 1].strip().startswith("#:"):
            above.insert(0, comments.get(line, lines[line - 1].strip()[2:].strip()))
            line -= 1
        trailing = comments.get(stmt.end_lineno or stmt.lineno)
        text = " ".join(part for part in above if part) or (trailing or "")
        if text:
            out[name] = text
    return out


class FieldDocs:
    """Reads and keeps the descriptions of Structs and enums (one reader per schema build)."""

    def __init__(self) -> None:
        self._own: dict[type, dict[str, str]] = {}

    def _declared(self, cls: type) -> dict[str, str]:
        found = self._own.get(cls)
        if found is None:
            found = self._own[cls] = _own_comments(cls)
        return found

    def fields(self, cls: type[msgspec.Struct]) -> Mapping[str, str]:
        """Field name (Python's, not the encoded one) -> its description.

        Only the ``#:`` comments: a ``Meta(description=...)`` reaches the schema through
        litestar already, and wins. A field without a comment is absent.
        """
        out: dict[str, str] = {}
        for name in cls.__struct_fields__:
            for base in cls.__mro__:
                text = self._declared(base).get(name) if base is not object else None
                if text:
                    out[name] = text
                    break
        return out

    def members(self, cls: type[Enum]) -> Mapping[str, str]:
        """Enum member name -> its ``#:`` comment."""
        return self._declared(cls)


def class_description(cls: type) -> str | None:
    """The class's own docstring (not an inherited one), cleaned; None without one."""
    doc = cls.__dict__.get("__doc__")
    return inspect.cleandoc(doc) if isinstance(doc, str) and doc.strip() else None

