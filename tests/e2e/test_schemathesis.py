"""Property-based requests over every operation of the served document (schemathesis).

Against the real service with the demo data, every operation gets a few generated
requests, each sent under every role's token: no answer may be a server error (5xx), every
status must be one the operation declares, and every body must match what the document
declares for its status (problem answers included) — ``tests.e2e.contract.check_contract``.
The same run against a small app with two planted faults (an answer that contradicts its
declared schema, a handler that raises) must report exactly those two operations, so a
green run means something.
"""

from __future__ import annotations

from typing import Final, cast

import msgspec
import pytest
import schemathesis
from litestar import Litestar, get
from litestar.exceptions import HTTPException
from litestar.params import FromPath

from server.problems import exception_handler, http_exception_handler
from tests.e2e.contract import check_contract
from tests.e2e.servers import serving
from tests.factories import TOKENS

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

#: one token per role (crew_a: a field crew, scope checks apply; reader: meter reading)
ROLES: Final = ("admin", "supervisor", "dispatcher", "crew_a", "reader")


def test_no_server_errors_and_answers_match_the_document(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    data_dir = tmp_path_factory.mktemp("schemathesis")
    with serving(["--demo", "--data-dir", str(data_dir)]) as (_proc, url):
        report = check_contract(schemathesis.openapi.from_url(f"{url}/schema/openapi.json"),
                                [{"Authorization": f"Bearer {TOKENS[r]}"} for r in ROLES])
    assert report.failures == [], "\n\n".join(report.failures)
    assert report.operations > 100
    # every operation was called under every role at least once, and some calls got in
    assert len(report.statuses) >= report.operations * len(ROLES)
    assert any(200 <= s < 300 for s in report.statuses)


class Meter(msgspec.Struct, frozen=True):
    meter_no: str
    reading_m3: float


@get("/meters/{meter_no:str}", sync_to_thread=False)
def meter(meter_no: FromPath[str]) -> Meter:
    """Sound: answers what it declares."""
    return Meter(meter_no=meter_no, reading_m3=1.5)


@get("/meters/{meter_no:str}/last", sync_to_thread=False)
def last_reading(meter_no: FromPath[str]) -> Meter:
    """Planted fault 1: declares a number but answers text (Litestar does not check)."""
    return cast("Meter", {"meter_no": meter_no, "reading_m3": "one and a half"})


@get("/meters/{meter_no:str}/history", sync_to_thread=False)
def history(meter_no: FromPath[str]) -> list[Meter]:
    """Planted fault 2: a bug, answered as our 500 problem (``server.problems``)."""
    raise RuntimeError(f"planted bug for {meter_no}")


def _faulty_app() -> Litestar:
    return Litestar([meter, last_reading, history], exception_handlers={
        HTTPException: http_exception_handler, Exception: exception_handler})


def test_the_contract_run_reports_a_wrong_answer_and_a_server_error() -> None:
    app = _faulty_app()
    report = check_contract(schemathesis.openapi.from_asgi("/schema/openapi.json", app),
                            [{}])
    assert report.operations == 3
    assert report.failing_labels() == {"GET /meters/{meter_no}/last",
                                       "GET /meters/{meter_no}/history"}, report.failures
    by_label = {f.split(": ", 1)[0]: f for f in report.failures}
    assert "Response violates schema" in by_label["GET /meters/{meter_no}/last"]
    assert "Server error" in by_label["GET /meters/{meter_no}/history"]
