"""One catalogue of problem types: each code one status, and no error class outside it."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

from core.errors import UncataloguedProblemError, WaterOpsError
from core.problems import CATALOGUE
from server.fieldwork.errors import UnknownStepError as StepNotOnOrderError
from server.intents.errors import UnknownStepError as PushedStepUnknownError

pytestmark = pytest.mark.unit

#: the module of the class the first test makes up (refused, but Python has already
#: listed it among the base's subclasses, where it stays until garbage-collected)
_MADE_UP = "tests.made_up"


def _all_error_classes() -> list[type[WaterOpsError]]:
    for pkg in ("core", "server", "sync", "geo", "notifications", "hardware_adapters"):
        root = importlib.import_module(pkg)
        for info in pkgutil.walk_packages(root.__path__, pkg + "."):
            if not info.name.endswith("__main__"):
                importlib.import_module(info.name)
    out: list[type[WaterOpsError]] = []
    todo: list[type[WaterOpsError]] = [WaterOpsError]
    while todo:
        cls = todo.pop()
        if cls.__module__ != _MADE_UP:  # the refused class below may linger until collected
            out.append(cls)
        todo.extend(cls.__subclasses__())
    return out


def test_an_uncatalogued_code_stops_the_class_definition() -> None:
    with pytest.raises(UncataloguedProblemError, match="no-such-problem"):
        type("MadeUpError", (WaterOpsError,), {"code": "no-such-problem",
                                               "__module__": _MADE_UP})


def test_every_error_class_answers_its_catalogue_row() -> None:
    classes = _all_error_classes()
    assert len(classes) > 80
    for cls in classes:
        row = CATALOGUE[cls.code]
        assert (cls.http_status, cls.title) == (row.status, row.title), cls


def test_every_catalogued_type_is_raised_by_some_class_or_the_http_layer() -> None:
    raised = {cls.code for cls in _all_error_classes()}
    http_layer = {"bad-request", "validation-failed", "unauthenticated", "method-not-allowed",
                  "payload-too-large", "too-many-requests"}
    assert set(CATALOGUE) - raised - http_layer == set()


def test_the_two_unknown_step_errors_share_one_status() -> None:
    # issue 15: the same type was 404 from a route and 400 from a pushed mutation
    assert StepNotOnOrderError.code == PushedStepUnknownError.code == "unknown-step"
    assert StepNotOnOrderError.http_status == PushedStepUnknownError.http_status == 404
