"""The OpenAPI document as a contract: operation ids, descriptions and problem answers.

Applied once in ``create_app`` to every route handler in the schema:

- ``operationId`` is the handler's name in camelCase (``list_work_orders`` ->
  ``listWorkOrders``); a name several handlers share gets the resource of its path
  (``create`` on /outages -> ``createOutage``), so ids stay short, unique and stable;
- the description is the handler's docstring (read before the handlers are moved to the
  thread pool, which wraps the function);
- every operation declares the error answers it can give, and only those, each with the
  ``Problem`` schema under ``application/problem+json``, naming the catalogue's codes it
  can answer with that status (``core.problems``). They are derived once from what the
  route already says (``route_problems``: its policy, its method, the domain errors its
  ``opt["problems"]`` names) and what the document says of it (``_document_problems``: a
  body, parameters, path parameters): a public route never asks for credentials, a route
  without path parameters answers no 404 for an unknown id, only routes that name a
  conflict answer 409, and a 500 is declared everywhere;
- schemas and their properties are described from the source (``DescribedStructs``,
  ``server.fielddoc``: docstrings and ``#:`` comments), parameters from the API's one
  vocabulary (``server.routes.parameters``);
- a handler whose ``opt`` names ``also_answers`` (sync pull and push: MessagePack)
  declares that media type beside JSON for its success answer, with the same schema.
  Litestar's ``ResponseSpec`` takes one media type, so ``ContractOpenAPIConfig`` adds it
  to the document as the paths are set on it;
- schemas whose titles collide (``Channel`` of tickets and of connections) are titled by
  their component key, so a generated client keeps both. These, the problem answers
  and the parameters' descriptions are the only edits made to the document Litestar
  builds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from enum import Enum
from inspect import cleandoc
from typing import Annotated, Any, Final, get_origin

import msgspec
from litestar import Litestar

# litestar's own schema plugin for Structs; ours adds what the source says to its schema
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import (
    Components,
    OpenAPI,
    OpenAPIResponse,
    Operation,
    Parameter,
    PathItem,
    Reference,
    Schema,
)
from litestar.types import Method
from litestar.typing import FieldDefinition

from core.problems import CATALOGUE
from server.authz.policies import EVERYONE, POLICIES, Scope
from server.fielddoc import FieldDocs, class_description
from server.problems import PROBLEM_JSON
from server.routes.parameters import PARAMETERS

#: answered by every operation: a bug (logged, generic detail)
ALWAYS: Final = ("internal-error",)
#: the opt key a route names the domain problems of its use case under (catalogue codes)
PROBLEMS_OPT: Final = "problems"
_UNSAFE: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})
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


class DescribedStructs(StructSchemaPlugin):
    """Litestar's Struct schemas, described from the source (``server.fielddoc``).

    A property without a ``Meta(description=...)`` takes its field's ``#:`` comment, a
    variant's tag says so, and the schema takes the class docstring. An enum's schema is
    litestar's, its description followed by what each commented value means. One
    instance per app: it keeps the comments it read.
    """

    def __init__(self) -> None:
        self.docs = FieldDocs()

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        return super().is_plugin_supported_field(field_definition) or (
            not field_definition.is_union and field_definition.is_subclass_of(Enum))

    def to_openapi_schema(self, field_definition: FieldDefinition,
                          schema_creator: Any) -> Schema:
        cls = field_definition.annotation
        if isinstance(cls, type) and issubclass(cls, Enum):
            answer: Schema = schema_creator.for_enum_field(field_definition)
            own = schema_creator.schema_registry.get_schema_for_field_definition(
                field_definition)
            meanings = [f"`{cls[name].value}`: {text}"
                        for name, text in self.docs.members(cls).items() if name in cls.__members__]
            if meanings and not (own.description or "").endswith(meanings[-1]):
                own.description = "\n".join(filter(None, [own.description, *meanings]))
            return answer
        schema = super().to_openapi_schema(field_definition, schema_creator)
        cls = get_origin(field_definition.annotation) or field_definition.annotation
        if not (isinstance(cls, type) and issubclass(cls, msgspec.Struct)):
            return schema
        if schema.description is None:
            schema.description = class_description(cls)
        texts = self.docs.fields(cls)
        names = {f.encode_name: f.name for f in msgspec.structs.fields(cls)}
        config = cls.__struct_config__
        if isinstance(config.tag_field, str):
            names[config.tag_field] = config.tag_field
            texts = {**texts, config.tag_field: f"the variant's tag: always `{config.tag}`"}
        props = schema.properties if schema.properties is not None else {}
        for key, prop in list(props.items()):
            text = texts.get(names.get(key, key))
            if text is None:
                continue
            if isinstance(prop, Reference):
                props[key] = Schema(all_of=[prop], description=text)
            elif prop.description is None:
                prop.description = text
        return schema


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
    """The 500 every operation declares; the other problem answers are added per operation
    when the document is built (``_declare_problems``), from the same ``Problem`` schema."""
    out = {500: ResponseSpec(data_container=Problem, media_type=PROBLEM_JSON,
                             generate_examples=False, description=_described(ALWAYS))}
    return {**out, **(handler.responses or {})}


def _described(codes: Iterable[str]) -> str:
    return f"Problem (RFC 9457), one of: {', '.join(sorted(codes))}"


def route_problems(handler: HTTPRouteHandler) -> tuple[str, ...]:
    """The problem codes a route can answer from what it declares (policy, method, opt).

    - a public route (``public.*`` policy) is throttled per address (429) and never asks
      for credentials; every other route answers 401 without a valid token, 429 when bad
      tokens from one address are over budget, 403 when its policy leaves a role out, the
      write is a console one (CSRF) or the record is outside the caller's scope;
    - a write is measured before it is decoded (``server.bodylimits``, the body size):
      400 too deep, 413 too large, whatever the route reads;
    - ``opt["problems"]`` names the domain errors its use case raises (catalogue codes).

    What the document itself says (a body, parameters) adds the rest in
    ``_declare_problems``. Raises ``KeyError`` for a code the catalogue does not answer
    over HTTP, when the app is built.
    """
    pol = POLICIES.get(str(handler.opt.get("policy")))
    codes = set(ALWAYS)
    methods = set(handler.http_methods)
    if pol is None or pol.scope is Scope.PUBLIC:
        codes.add("too-many-requests")
    else:
        codes |= {"unauthenticated", "too-many-requests"}
        if pol.roles != EVERYONE or methods & _UNSAFE:
            codes.add("forbidden")
        if pol.scope in (Scope.CREW, Scope.ALL, Scope.OWN):
            codes.add("out-of-scope")
    if methods & _UNSAFE:
        codes |= {"too-deeply-nested", "payload-too-large"}
    for code in handler.opt.get(PROBLEMS_OPT, ()):
        if code not in CATALOGUE or not CATALOGUE[code].http:
            raise KeyError(f"{handler.handler_name} names {code!r}, which the catalogue "
                           "does not answer over HTTP")
        codes.add(code)
    return tuple(sorted(codes))


def _document_problems(op: Operation) -> set[str]:
    """The problems an operation's documented inputs can provoke: decoding, unknown ids."""
    codes: set[str] = set()
    params = [p for p in op.parameters or [] if isinstance(p, Parameter)]
    if op.request_body is not None:
        codes |= {"bad-request", "validation-failed"}
    if params:
        codes.add("validation-failed")
    if any(p.param_in == "path" for p in params):
        codes.add("not-found")
    if any(p.param_in == "query" and "date-time" in str(p.schema) for p in params):
        codes.add("time-out-of-range")  # the query's times are checked by the use case
    if any(p.param_in == "query" and p.name == "cursor" for p in params):
        codes.add("bad-input")  # a page cursor this server did not issue (server.paging)
    return codes


def _operations(paths: Mapping[str, PathItem]) -> Iterator[Operation]:
    """Every operation of the document's paths."""
    for item in paths.values():
        for op in (item.get, item.put, item.post, item.delete, item.patch):
            if op is not None:
                yield op


def _declare_problems(paths: Mapping[str, PathItem],
                      problems: Mapping[str, tuple[str, ...]]) -> None:
    """Each operation's problem answers: one per status, naming only its own codes."""
    for op in _operations(paths):
        declared = problems.get(op.operation_id or "")
        if declared is None:
            continue
        responses = op.responses or {}
        bug = responses.get("500")
        if not isinstance(bug, OpenAPIResponse):
            continue
        codes = {*declared, *_document_problems(op)}
        by_status: dict[int, list[str]] = {}
        for code in codes:
            by_status.setdefault(CATALOGUE[code].status, []).append(code)
        for status, named in sorted(by_status.items()):
            # replaces litestar's own 400 (a body that is no problem document)
            responses[str(status)] = OpenAPIResponse(description=_described(named),
                                                     content=bug.content)
        op.responses = dict(sorted(responses.items()))


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


def declared_problems(app: Litestar, ids: Mapping[int, str]) -> dict[str, tuple[str, ...]]:
    """Operation id -> the problem codes its route declares (``route_problems``)."""
    return {ids[id(h)]: route_problems(h) for _, h in _schema_handlers(app) if id(h) in ids}


def alternative_media_types(app: Litestar, ids: Mapping[int, str]) -> dict[str, str]:
    """Operation id -> the media type its handler's ``opt["also_answers"]`` names."""
    return {ids[id(h)]: str(h.opt["also_answers"]) for _, h in _schema_handlers(app)
            if "also_answers" in h.opt and id(h) in ids}


def _add_alternatives(paths: Mapping[str, PathItem], media_types: Mapping[str, str]) -> None:
    for op in _operations(paths):
        alt = media_types.get(op.operation_id or "")
        if alt is None:
            continue
        for status, answer in (op.responses or {}).items():
            if (status.startswith("2") and isinstance(answer, OpenAPIResponse)
                    and answer.content and "application/json" in answer.content):
                answer.content.setdefault(alt, answer.content["application/json"])


def _describe_parameters(paths: Mapping[str, PathItem]) -> None:
    """A parameter a route does not describe itself takes its name's words (``PARAMETERS``)."""
    for op in _operations(paths):
        for param in op.parameters or []:
            if isinstance(param, Parameter) and not param.description:
                param.description = PARAMETERS.get(param.name)


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
            _declare_problems(value, object.__getattribute__(self, "_problems"))
            _describe_parameters(value)
        super().__setattr__(name, value)


@dataclass
class ContractOpenAPIConfig(OpenAPIConfig):
    """``OpenAPIConfig`` whose document declares each handler's alternative media types."""

    #: operation id -> extra media type of its success answer (filled by ``create_app``)
    alternatives: dict[str, str] = field(default_factory=dict)
    #: operation id -> the problem codes its route declares (filled by ``create_app``)
    problems: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def to_openapi_schema(self) -> OpenAPI:
        doc = super().to_openapi_schema()
        out = _Document(**{f.name: getattr(doc, f.name) for f in fields(doc)})
        out.components = _Components(**{f.name: getattr(doc.components, f.name)
                                        for f in fields(doc.components)})
        object.__setattr__(out, "_alternatives", self.alternatives)
        object.__setattr__(out, "_problems", self.problems)
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
