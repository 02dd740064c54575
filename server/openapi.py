"""The OpenAPI document as a contract: operation ids, descriptions and problem answers.

Applied once in ``create_app`` to every route handler in the schema:

- ``operationId`` is the handler's name in camelCase (``list_work_orders`` ->
  ``listWorkOrders``); a name several handlers share gets the resource of its path
  (``create`` on /outages -> ``createOutage``), so ids stay short, unique and stable;
- the description is the handler's docstring (read before the handlers are moved to the
  thread pool, which wraps the function);
- every operation declares the error answers it can give, each with the ``Problem``
  schema under ``application/problem+json``, and names the catalogue's codes for that
  status (``core.problems``);
- a handler whose ``opt`` names ``also_answers`` (sync pull and push: MessagePack)
  declares that media type beside JSON for its success answer, with the same schema.
  Litestar's ``ResponseSpec`` takes one media type, so ``ContractOpenAPIConfig`` adds it
  to the document as the paths are set on it;
- schemas whose titles collide (``Channel`` of tickets and of connections) are titled by
  their component key, so a generated client keeps both. These two are the only edits
  made to the document Litestar builds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from inspect import cleandoc
from typing import Annotated, Any, Final

import msgspec
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import (
    Components,
    OpenAPI,
    OpenAPIResponse,
    Operation,
    PathItem,
    Schema,
)
from litestar.types import Method

from core.problems import CATALOGUE
from server.problems import PROBLEM_JSON

#: the statuses every operation may answer with a problem (decoding, credentials, policy,
#: unknown ids, state, size, rules, budgets, bugs)
PROBLEM_STATUSES: Final = (400, 401, 403, 404, 409, 413, 422, 429, 500)
#: path segments whose resource name is not the segment's words singularised
_RESOURCES: Final[Mapping[str, str]] = {"workorders": "WorkOrder", "stats": "Stats",
                                        "service-info": "ServiceInfo", "sync": "Sync",
                                        "fieldwork": "Fieldwork", "console": "Console"}


class Problem(msgspec.Struct, kw_only=True):
    """An RFC 9457 problem details body; the error's own fields are extension members."""

    type: Annotated[str, msgspec.Meta(
        description="`<problem base URL>/<code>`; the code is listed in docs/api.md")]
    title: Annotated[str, msgspec.Meta(description="the problem type's title (one per code)")]
    status: Annotated[int, msgspec.Meta(description="the HTTP status (one per code)")]
    detail: Annotated[str, msgspec.Meta(description="what went wrong in this request")]
    instance: Annotated[str, msgspec.Meta(description="the request path that failed")]


def _camel(words: Iterable[str]) -> str:
    parts = [w for word in words for w in word.replace("-", "_").split("_") if w]
    return parts[0].lower() + "".join(p[:1].upper() + p[1:] for p in parts[1:])


def _resource(path: str) -> str:
    segments = [s for s in path.split("/") if s and not s.startswith("{")]
    segments = segments[2:] if segments[:2] == ["api", "v1"] else segments
    public = segments[:1] == ["public"]
    segments = segments[1:] if public else segments
    first = segments[0] if segments else "root"
    name = _RESOURCES.get(first) or _camel([first.removesuffix("s")]).capitalize()
    name = name[:1].upper() + name[1:]
    return ("Public" + name) if public else name


def _responses(handler: HTTPRouteHandler) -> dict[int, ResponseSpec]:
    out: dict[int, ResponseSpec] = {}
    for status in PROBLEM_STATUSES:
        codes = sorted(c for c, row in CATALOGUE.items() if row.status == status and row.http)
        out[status] = ResponseSpec(
            data_container=Problem, media_type=PROBLEM_JSON, generate_examples=False,
            description=f"Problem (RFC 9457), one of: {', '.join(codes)}")
    return {**out, **(handler.responses or {})}


def _schema_handlers(app: Litestar) -> list[tuple[str, HTTPRouteHandler]]:
    return [(route.path, handler) for route in app.routes
            for handler in getattr(route, "route_handlers", ())
            if isinstance(handler, HTTPRouteHandler) and handler.include_in_schema
            and handler.http_methods != {"OPTIONS"}]


def apply_contract(app: Litestar) -> dict[int, str]:
    """Describe every schema handler (before any wrapping); its operation ids by handler.

    The returned map is read by ``operation_ids`` when the document is first built.
    """
    handlers = _schema_handlers(app)
    shared = Counter(h.handler_name for _, h in handlers)
    named: list[tuple[int, str, str]] = []
    for path, handler in handlers:
        fn = getattr(handler.fn, "func", handler.fn)  # litestar's AsyncCallable wraps sync ones
        if handler.description is None and fn.__doc__:
            handler.description = cleandoc(fn.__doc__)
        handler.responses = _responses(handler)
        name = _camel([handler.handler_name])
        plain = shared[handler.handler_name] == 1
        named.append((id(handler), name if plain else name + _resource(path), path))
    # a plain name may still meet a qualified one (tickets' create_work_order and the
    # work orders' create): both of those take their path's resource
    taken = Counter(op_id for _, op_id, _ in named)
    return {key: (op_id if taken[op_id] == 1 or op_id.endswith(_resource(path))
                  else op_id + _resource(path))
            for key, op_id, path in named}


def alternative_media_types(app: Litestar, ids: Mapping[int, str]) -> dict[str, str]:
    """Operation id -> the media type its handler's ``opt["also_answers"]`` names."""
    return {ids[id(h)]: str(h.opt["also_answers"]) for _, h in _schema_handlers(app)
            if "also_answers" in h.opt and id(h) in ids}


def _add_alternatives(paths: Mapping[str, PathItem], media_types: Mapping[str, str]) -> None:
    for item in paths.values():
        ops: list[Operation | None] = [item.get, item.put, item.post, item.delete, item.patch]
        for op in ops:
            alt = media_types.get(op.operation_id or "") if op is not None else None
            if op is None or alt is None:
                continue
            for status, answer in (op.responses or {}).items():
                if (status.startswith("2") and isinstance(answer, OpenAPIResponse)
                        and answer.content and "application/json" in answer.content):
                    answer.content.setdefault(alt, answer.content["application/json"])


def _unique_titles(schemas: dict[str, Schema]) -> None:
    """Schemas sharing a title (two modules' ``Channel``) are titled by their component key.

    Litestar keys such components by module path but keeps the class name as the title,
    and generators that name classes by title (openapi-python-client) then drop all but
    one of them, and every schema that refers to the others (WorkOrder, Ticket...).
    """
    titles = Counter(schema.title for schema in schemas.values() if schema.title)
    for key, schema in schemas.items():
        if schema.title and titles[schema.title] > 1:
            schema.title = key


class _Components(Components):
    """Litestar's components; titles are made unique when the schemas are set."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "schemas" and value:
            _unique_titles(value)
        super().__setattr__(name, value)


class _Document(OpenAPI):
    """The document litestar fills in; media types are added when its paths are set."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "paths" and value:
            _add_alternatives(value, object.__getattribute__(self, "_alternatives"))
        super().__setattr__(name, value)


@dataclass
class ContractOpenAPIConfig(OpenAPIConfig):
    """``OpenAPIConfig`` whose document declares each handler's alternative media types."""

    #: operation id -> extra media type of its success answer (filled by ``create_app``)
    alternatives: dict[str, str] = field(default_factory=dict)

    def to_openapi_schema(self) -> OpenAPI:
        doc = super().to_openapi_schema()
        out = _Document(**{f.name: getattr(doc, f.name) for f in fields(doc)})
        out.components = _Components(**{f.name: getattr(doc.components, f.name)
                                        for f in fields(doc.components)})
        object.__setattr__(out, "_alternatives", self.alternatives)
        return out



def operation_ids(ids: dict[int, str]) -> Any:
    """An ``operation_id_creator`` answering ``ids`` (handlers outside it: litestar's own)."""

    def create(route_handler: HTTPRouteHandler, http_method: Method,
               path_components: list[Any]) -> str:
        known = ids.get(id(route_handler))
        if known is not None:
            return known
        words = [str(p) for p in path_components if isinstance(p, str)]
        return _camel([http_method.lower(), *words])

    return create
